#!/usr/bin/env python3
"""Strict check of Prometheus text exposition format 0.0.4 (no pip packages).

    check_metrics.py FILE     exit 0 when FILE is valid, else 1 with one line per problem
    check_metrics.py --self-test

Checks what Prometheus' own parser enforces and a little more: metric and label names, label
value escapes (only \\\\, \\" and \\n), float values, HELP/TYPE syntax (each at most once per
family, before its samples, TYPE one of the five), every sample of a family in one block, no
duplicate series, histogram buckets with le, cumulative and ending with le="+Inf" equal to _count,
_sum and _count present, counters not negative, a final line feed.
"""
import math
import re
import sys

NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*\Z")
LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*\Z")
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}
FLOAT = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\Z")


def parse_value(text):
    if text in ("+Inf", "Inf"):
        return math.inf
    if text == "-Inf":
        return -math.inf
    if text == "NaN":
        return math.nan
    if not FLOAT.match(text):
        raise ValueError("bad value %r" % text)
    return float(text)


def parse_labels(text, pos):
    """Parses {a="b",...} starting at text[pos] == '{'; returns (labels, position after '}')."""
    labels = []
    pos += 1
    while True:
        if text[pos:pos + 1] == "}":
            return labels, pos + 1
        m = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*").match(text, pos)
        if not m:
            raise ValueError("bad label name at column %d" % (pos + 1))
        name = m.group(0)
        pos = m.end()
        if text[pos:pos + 2] != '="':
            raise ValueError("expected =\" after label %s" % name)
        pos += 2
        value = []
        while True:
            if pos >= len(text):
                raise ValueError("unterminated label value of %s" % name)
            c = text[pos]
            if c == "\\":
                nxt = text[pos + 1:pos + 2]
                if nxt not in ("\\", '"', "n"):
                    raise ValueError("bad escape \\%s in label %s" % (nxt, name))
                value.append({"\\": "\\", '"': '"', "n": "\n"}[nxt])
                pos += 2
            elif c == '"':
                pos += 1
                break
            elif c == "\n":
                raise ValueError("raw line feed in label %s" % name)
            else:
                value.append(c)
                pos += 1
        if any(n == name for n, _ in labels):
            raise ValueError("label %s repeated" % name)
        labels.append((name, "".join(value)))
        if text[pos:pos + 1] == ",":
            pos += 1
        elif text[pos:pos + 1] != "}":
            raise ValueError("expected , or } after label %s" % name)


def family_of(name, types):
    for suffix in ("_bucket", "_sum", "_count"):
        if name.endswith(suffix) and types.get(name[: -len(suffix)]) in ("histogram", "summary"):
            return name[: -len(suffix)]
    return name


def check(text):
    """Returns (problems, samples) where samples maps (name, frozenset(labels)) -> value."""
    problems = []
    if not text.endswith("\n"):
        problems.append("the text does not end with a line feed")
    types, helps, samples = {}, set(), {}
    finished, current = set(), None
    for number, line in enumerate(text.split("\n")[:-1], 1):
        where = "line %d: " % number
        if line == "":
            continue
        if line.startswith("#"):
            parts = line.split(" ", 3)
            if len(parts) >= 3 and parts[1] in ("HELP", "TYPE"):
                name = parts[2]
                if not NAME.match(name):
                    problems.append(where + "bad metric name %r" % name)
                    continue
                if name in finished or (current is not None and current != name and name in types):
                    problems.append(where + "%s of %s after its samples ended" % (parts[1], name))
                if parts[1] == "HELP":
                    if name in helps:
                        problems.append(where + "second HELP for %s" % name)
                    helps.add(name)
                    if "\\" in re.sub(r"\\[\\n]", "", parts[3] if len(parts) > 3 else ""):
                        problems.append(where + "bad escape in HELP of %s" % name)
                else:
                    if name in types:
                        problems.append(where + "second TYPE for %s" % name)
                    if len(parts) != 4 or parts[3] not in TYPES:
                        problems.append(where + "bad TYPE line %r" % line)
                    elif any(family_of(n, {name: parts[3]}) == name and n != name for n, _ in samples):
                        problems.append(where + "TYPE of %s after its samples" % name)
                    types[name] = parts[3] if len(parts) == 4 else "untyped"
                if current is not None and current != name:
                    finished.add(current)
                current = name
            continue
        try:
            m = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*").match(line)
            if not m:
                raise ValueError("bad metric name")
            name, pos = m.group(0), m.end()
            labels = []
            if line[pos:pos + 1] == "{":
                labels, pos = parse_labels(line, pos)
            rest = line[pos:]
            if not rest.startswith(" "):
                raise ValueError("expected a space before the value")
            fields = rest.strip(" ").split(" ")
            if len(fields) not in (1, 2):
                raise ValueError("expected a value and an optional timestamp")
            value = parse_value(fields[0])
            if len(fields) == 2 and not re.match(r"-?\d+\Z", fields[1]):
                raise ValueError("bad timestamp %r" % fields[1])
        except ValueError as e:
            problems.append(where + str(e) + ": " + line)
            continue
        family = family_of(name, types)
        if family not in types:
            problems.append(where + "sample of %s without a TYPE line" % family)
        if family in finished:
            problems.append(where + "sample of %s outside its family's block" % family)
        if current is not None and current != family:
            finished.add(current)
        current = family
        key = (name, frozenset(labels))
        if key in samples:
            problems.append(where + "duplicate series " + line)
        samples[key] = value
        if types.get(family) == "counter" and not value >= 0:
            problems.append(where + "counter %s is %s" % (name, fields[0]))
        if name.endswith("_bucket") and types.get(family) == "histogram" and "le" not in dict(labels):
            problems.append(where + "bucket without le")
    problems += check_histograms(types, samples)
    return problems, samples


def check_histograms(types, samples):
    problems = []
    for family, kind in types.items():
        if kind != "histogram":
            continue
        series = {}
        for (name, labels), value in samples.items():
            if name == family + "_bucket":
                rest = frozenset(l for l in labels if l[0] != "le")
                series.setdefault(rest, []).append((parse_value(dict(labels)["le"]), value))
        for rest, buckets in series.items():
            buckets.sort()
            what = "%s%s" % (family, sorted(rest))
            if buckets[-1][0] != math.inf:
                problems.append(what + ": no le=\"+Inf\" bucket")
            if any(b[1] > a[1] for b, a in zip(buckets, buckets[1:])):
                problems.append(what + ": buckets are not cumulative")
            count = samples.get((family + "_count", rest))
            if count is None or samples.get((family + "_sum", rest)) is None:
                problems.append(what + ": _sum or _count missing")
            elif count != buckets[-1][1]:
                problems.append(what + ": _count %s differs from the +Inf bucket %s" % (count, buckets[-1][1]))
    return problems


def self_test():
    good = ('# HELP a_total Things \\\\ \\n.\n# TYPE a_total counter\na_total{x="q\\"\\\\\\n"} 3\n'
            '# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{le="+Inf"} 2\nh_sum 3.5\nh_count 2\n')
    assert check(good)[0] == [], check(good)[0]
    bad = {
        "no final line feed": "# TYPE a gauge\na 1",
        "bad escape": '# TYPE a gauge\na{x="\\t"} 1\n',
        "no TYPE": "a 1\n",
        "bad name": "# TYPE 1a gauge\n1a 1\n",
        "bad value": "# TYPE a gauge\na one\n",
        "duplicate": '# TYPE a gauge\na{x="1"} 1\na{x="1"} 2\n',
        "split family": "# TYPE a gauge\n# TYPE b gauge\na 1\nb 1\na 2\n",
        "not cumulative": '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n',
        "no +Inf": '# TYPE h histogram\nh_bucket{le="1"} 2\nh_sum 1\nh_count 2\n',
        "count differs": '# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 3\n',
        "negative counter": "# TYPE c_total counter\nc_total -1\n",
        "bad TYPE": "# TYPE a meter\na 1\n",
        "unquoted label": "# TYPE a gauge\na{x=1} 1\n",
        "second HELP": "# HELP a x\n# HELP a y\n# TYPE a gauge\na 1\n",
        "bad HELP escape": "# HELP a x \\\\ \\t\n# TYPE a gauge\na 1\n",
    }
    for what, text in bad.items():
        assert check(text)[0], "accepted: " + what
    print("self-test passed: 1 valid and %d invalid texts" % len(bad))


def main():
    if sys.argv[1:] == ["--self-test"]:
        self_test()
        return 0
    with open(sys.argv[1], encoding="utf-8") as f:
        problems, samples = check(f.read())
    for p in problems:
        print(p)
    if not problems:
        print("valid: %d samples" % len(samples))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
