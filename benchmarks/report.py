#!/usr/bin/env python3
"""Turns scripts/bench's raw rows into results.md, throughput.png and the RESULT line.

Every (engine, shape, workers) cell was measured one or more times, alternating engines; the
report takes the median of each column per cell. A window whose engine failed has its error in
the row's last column: the cell shows it instead of figures (or next to the figures of its other
windows), and the errors are listed after the tables.
"""
import argparse
import csv
import json
import math
import os
import statistics
import subprocess
import sys
from collections import defaultdict

SHAPES = ["single", "chain5", "diamond", "map100", "map1000", "single_many", "single_eager", "map10k", "map100k",
          "single_held", "map1000_held"]
SHAPE_TITLES = {
    "single": "single step",
    "chain5": "5-step chain",
    "diamond": "diamond (4 steps)",
    "map100": "root map of 100 → single step",
    "map1000": "map of 1,000",
    "single_many": "single step, started 100 per call",
    "single_eager": "single step, ours with claim_linger 0",
    "map10k": "map of 10,000",
    "map100k": "map of 100,000",
    "single_held": "single step, a snapshot held open",
    "map1000_held": "map of 1,000, a snapshot held open",
}
NUMERIC = ["seconds", "tasks", "runs", "tasks_per_s", "runs_per_s", "p50_ms", "p99_ms", "client_cpu_s_per_1k",
           "server_cpu_s_per_1k", "wal_bytes_per_task", "xacts_per_task"]


def load_rows(path):
    cells = defaultdict(list)
    errors = defaultdict(list)
    with open(path, newline="") as f:
        for row in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            key = (row["engine"], row["shape"], int(row["workers"]))
            if row.get("error"):
                errors[key].append(row["error"])
                continue
            cells[key].append({k: float(row[k]) for k in NUMERIC} | {"waits": row.get("waits", "-")})
    # Median of every number; the wait profile of the window whose tasks/s is the median. n counts
    # the measured windows, errors the failed ones.
    out = {}
    for k in list(cells) + [k for k in errors if k not in cells]:
        v = cells.get(k, [])
        out[k] = {"n": len(v), "errors": errors.get(k, [])}
        if v:
            mid = sorted(v, key=lambda r: r["tasks_per_s"])[len(v) // 2]
            out[k] |= {c: statistics.median(r[c] for r in v) for c in NUMERIC} | {"waits": mid["waits"]}
    return out


def md_text(text):
    return text.replace("|", "\\|")


def error_note(c):
    """'error: <first line>' for a cell with no measured window, '(error in k of n windows)' for one
    with some; '' when nothing failed."""
    if not c or not c["errors"]:
        return ""
    if not c["n"]:
        return "error: " + md_text(c["errors"][0])
    return f" (error in {len(c['errors'])} of {len(c['errors']) + c['n']} windows)"


def fmt(v, digits=0):
    if v is None or (isinstance(v, float) and math.isnan(v)) or v < 0:
        return "–"
    return f"{v:,.{digits}f}"


def ratio(a, b):
    return a / b if a is not None and b else float("nan")


def get(cells, engine, shape, w, col="tasks_per_s"):
    c = cells.get((engine, shape, w))
    return c[col] if c and c["n"] else None


def show(cells, engine, shape, w):
    """A tasks/s cell: the figure, the error instead of it, or both."""
    c = cells.get((engine, shape, w))
    note = error_note(c)
    if c and not c["n"]:
        return note
    return fmt(get(cells, engine, shape, w)) + note


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--results", required=True)
    ap.add_argument("--idle")
    ap.add_argument("--micro")
    ap.add_argument("--sql-cost")
    ap.add_argument("--map-claim", help="benchmarks/sql/map_claim_cost.sql's rows, each prefixed by its engine")
    ap.add_argument("--compile-time", help="benchmarks/compile_time/run.sh's table")
    ap.add_argument("--out", required=True)
    ap.add_argument("--when", default="")
    ap.add_argument("--no-plot", action="store_true", help="skip throughput.png (no gnuplot needed)")
    a = ap.parse_args()

    cells = load_rows(a.results)
    workers = sorted({k[2] for k in cells})
    shapes = [s for s in SHAPES if any(k[1] == s for k in cells)]
    reps = max((c["n"] for k, c in cells.items() if k[0] == "ours"), default=0)

    md = [f"Measured {a.when}; median of {reps} alternated window(s) per cell.", ""]
    md += ["### Tasks per second", "",
           "| shape | workers | ours | pgflow 0.8.1 SQL | ours / pgflow | limit (bare queue) | ours / limit |",
           "|---|---:|---:|---:|---:|---:|---:|"]
    for s in shapes:
        for w in workers:
            o, p, l = get(cells, "ours", s, w), get(cells, "pgflow", s, w), get(cells, "limit", "queue", w)
            md.append(f"| {SHAPE_TITLES[s]} | {w} | {show(cells, 'ours', s, w)} | {show(cells, 'pgflow', s, w)} | "
                      f"{fmt(ratio(o, p), 2)}× | {show(cells, 'limit', 'queue', w)} | "
                      f"{fmt(100 * ratio(o, l), 1)} % |")
    md += ["", "*ours* = `pgflow::worker` running the typed C++ flows on pgflow-cpp's SQL; *pgflow 0.8.1 SQL* = "
           "pgflow's published migrations driven like its edge worker (read_with_poll → start_tasks → one "
           "complete_task per task, 4 connections, its defaults); *limit* = one-table SKIP LOCKED queue, claims and "
           "acknowledgements 10 per transaction."]
    md += ["", "### Runs, latency and cost", "",
           "Latency is a run's start→complete time (`pgflow.runs.completed_at − started_at`) under the load of "
           "the row. CPU is seconds per 1,000 tasks: client = the worker threads, server = every process of "
           "the cluster. Transactions = write transactions committed per task (starting runs included). The "
           "last column samples the database's active backends every ~20 ms: CPU = running, Lock = row/"
           "transaction locks, LWLock = internal locks (WAL insertion, buffer mapping...), IO = disk (WAL "
           "flushes), Client = waiting for the worker.", "",
           "| shape | workers | engine | runs/s | p50 ms | p99 ms | client CPU | server CPU | WAL bytes/task "
           "| transactions/task | active backends: waiting on |",
           "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for s in shapes:
        for w in workers:
            for e in ("ours", "pgflow"):
                c = cells.get((e, s, w))
                if not c:
                    continue
                if not c["n"]:
                    md.append(f"| {SHAPE_TITLES[s]} | {w} | {e} | {error_note(c)} | – | – | – | – | – | – | – |")
                    continue
                md.append(f"| {SHAPE_TITLES[s]} | {w} | {e} | {fmt(c['runs_per_s'], 1)} | {fmt(c['p50_ms'], 1)} | "
                          f"{fmt(c['p99_ms'], 1)} | {fmt(c['client_cpu_s_per_1k'], 3)} | "
                          f"{fmt(c['server_cpu_s_per_1k'], 3)} | {fmt(c['wal_bytes_per_task'])} | "
                          f"{fmt(c['xacts_per_task'], 2)} | {c['waits']} |")
    for w in workers:
        c = cells.get(("limit", "queue", w))
        if c and not c["n"]:
            md.append(f"| bare queue | {w} | limit | {error_note(c)} | – | – | – | – | – | – | – |")
        elif c:
            md.append(f"| bare queue | {w} | limit | – | – | – | {fmt(c['client_cpu_s_per_1k'], 3)} | "
                      f"{fmt(c['server_cpu_s_per_1k'], 3)} | {fmt(c['wal_bytes_per_task'])} | "
                      f"{fmt(c['xacts_per_task'], 2)} | – |")

    failed = [(k, e) for k, c in cells.items() for e in c["errors"]]
    if failed:
        md += ["", "### Errors", "", "Windows not measured because the engine failed (first line of the error).", "",
               "| engine | shape | workers | error |", "|---|---|---:|---|"]
        for (e, s, w), text in failed:
            md.append(f"| {e} | {SHAPE_TITLES.get(s, s)} | {w} | {md_text(text)} |")

    if a.sql_cost and os.path.exists(a.sql_cost) and os.path.getsize(a.sql_cost) > 0:
        cost = defaultdict(dict)
        order = []
        with open(a.sql_cost) as f:
            for line in f:
                engine, flow, mode, call, tasks, ms = line.rstrip("\n").split("\t")
                key = (flow, "complete_task" if call.startswith("complete_task") else call)
                if key not in order:
                    order.append(key)
                cost[key][engine + (", batched" if mode == "batched" else "")] = float(ms)
        columns = []
        for key in order:
            for label in cost[key]:
                if label not in columns:
                    columns.append(label)
        titles = {"pgflow": "pgflow 0.8.1"}
        md += ["", "### Server CPU per task of each SQL call", "",
               "One backend, each call in its own transaction as a worker makes it, CPU from the backend's own "
               "`/proc/self/stat` (so other load does not inflate it; 10 ms clock ticks). `benchmarks/sql_cost.sql`. "
               "*batched*: the same tasks acknowledged with `pgflow.complete_tasks`, 10 per call.",
               "", "| flow | call | " + " | ".join(titles.get(c, c) for c in columns) + " |",
               "|---|---|" + "---:|" * len(columns)]
        for key in order:
            c = cost[key]
            md.append(f"| {key[0]} | {key[1]} | " + " | ".join(
                f"{c[e]:.2f} ms" if e in c else "–" for e in columns) + " |")

    if a.map_claim and os.path.exists(a.map_claim) and os.path.getsize(a.map_claim) > 0:
        claim = defaultdict(dict)
        with open(a.map_claim) as f:
            for line in f:
                engine, elements, claims, first_ms, median_ms, cpu_ms = line.rstrip("\n").split("\t")
                claim[int(elements)][engine] = (float(first_ms), float(median_ms), float(cpu_ms))
        md += ["", "### A claim of 10 map tasks by the length of the map's array", "",
               "One run of a root map over N small objects, then claims of 10 tasks, each its own transaction, in "
               "one backend (`benchmarks/sql/map_claim_cost.sql`): the median wall time and the server CPU per "
               "claim (10 ms clock ticks, over all claims) after the first; the first claim of a run apart (on "
               "pgflow-cpp's SQL it copies an array stored as 64 kB or more into chunks of 100 elements).",
               "", "| elements | pgflow 0.8.1 ms | pgflow 0.8.1 CPU ms | ours ms | ours CPU ms | ours, first claim ms |",
               "|---:|---:|---:|---:|---:|---:|"]
        for n in sorted(claim):
            p, o = claim[n].get("pgflow"), claim[n].get("ours")
            figures = [f"{p[1]:.2f}", f"{p[2]:.2f}"] if p else ["–", "–"]
            figures += [f"{o[1]:.2f}", f"{o[2]:.2f}", f"{o[0]:.2f}"] if o else ["–", "–", "–"]
            md.append(f"| {n:,} | " + " | ".join(figures) + " |")

    if a.idle and os.path.exists(a.idle) and os.path.getsize(a.idle) > 0:
        md += ["", "### Idle latency: start_flow → handler entry", "",
               "| worker | runs | p50 ms | p99 ms | max ms |", "|---|---:|---:|---:|---:|"]
        with open(a.idle) as f:
            for line in f:
                parts = line.strip().split("\t")
                kv = dict(p.split("=", 1) for p in parts[2:])
                if "error" in kv:
                    md.append(f"| {parts[0]} | error: {md_text(kv['error'])} | – | – | – |")
                    continue
                md.append(f"| {parts[0]} | {kv['samples']} | {kv['p50_ms']} | {kv['p99_ms']} | {kv['max_ms']} |")

    if a.micro and os.path.exists(a.micro):
        with open(a.micro) as f:
            data = json.load(f)
        md += ["", "### Per-task dispatch and JSON (Google Benchmark)", "",
               "| benchmark | time per task | tasks/s on one core |", "|---|---:|---:|"]
        for b in data.get("benchmarks", []):
            if b.get("run_type") == "aggregate":
                continue
            ns = b["real_time"] * {"ns": 1, "us": 1e3, "ms": 1e6}[b["time_unit"]]
            md.append(f"| {b['name']} | {ns / 1000:.2f} µs | {1e9 / ns:,.0f} |")

    if a.compile_time and os.path.exists(a.compile_time) and os.path.getsize(a.compile_time) > 0:
        with open(a.compile_time) as f:
            rows = [line.split() for line in f if line.strip()]
        md += ["", "### Compile time of a flow", "",
               "`benchmarks/compile_time/run.sh`, -O0: a translation unit declaring the flow as a constexpr, taking "
               "its registration SQL as a constant expression and instantiating its dispatcher, shape and output "
               "decoding; *baseline*: one that only includes `<pgflow/dsl.hpp>` (declaring flows; no Boost.JSON), "
               "*dispatch*: `<pgflow/dsl.hpp>` and `<pgflow/dispatch.hpp>`. Shapes: *chain* s0 → s1 → …, "
               "*fan_in* N-1 roots and one step after all of them.",
               "", "| compiler | shape | steps | wall s | CPU s | peak MiB |", "|---|---|---:|---:|---:|---:|"]
        for r in rows[1:]:
            if len(r) == 6:
                md.append("| " + " | ".join(r) + " |")

    with open(os.path.join(a.out, "results.md"), "w") as f:
        f.write("\n".join(md) + "\n")

    # Plot: tasks/s against workers, one panel per shape, ours vs pgflow vs the limit.
    dat = os.path.join(a.out, "throughput.dat")
    with open(dat, "w") as f:
        for s in shapes:
            f.write(f"# {s}\n")
            for w in workers:
                vals = [get(cells, "ours", s, w), get(cells, "pgflow", s, w), get(cells, "limit", "queue", w)]
                f.write(f"{w} " + " ".join("NaN" if v is None else f"{v:.1f}" for v in vals) + "\n")
            f.write("\n\n")
    png = os.path.join(a.out, "throughput.png")
    cols = 3
    rows = math.ceil(len(shapes) / cols)
    gp = [f"set terminal pngcairo size 1500,{430 * rows} font 'DejaVu Sans,11'",
          f"set output '{png}'",
          f"set multiplot layout {rows},{cols} title 'Completed tasks per second vs workers (2-core machine)'",
          "set logscale x 2", "set xtics (" + ", ".join(f"'{w}' {w}" for w in workers) + ")",
          "set xlabel 'workers'", "set ylabel 'tasks/s (log scale)'", "set grid", "set logscale y",
          "set key bottom right font ',9' opaque", "set yrange [10:*]",
          f"set xrange [{min(workers) * 0.8}:{max(workers) * 1.25}]"]
    for i, s in enumerate(shapes):
        gp.append(f"set title '{SHAPE_TITLES[s]}'")
        gp.append(f"plot '{dat}' index {i} using 1:2 with linespoints lw 2 pt 7 title 'pgflow-cpp', "
                  f"'' index {i} using 1:3 with linespoints lw 2 pt 5 title 'pgflow 0.8.1 SQL', "
                  f"'' index {i} using 1:4 with lines dt 2 lw 2 title 'limit (bare queue)'")
    gp.append("unset multiplot")
    try:
        if not a.no_plot:
            subprocess.run(["gnuplot"], input="\n".join(gp), text=True, check=True)
    except (OSError, subprocess.CalledProcessError) as e:
        print(f"report: gnuplot failed: {e}", file=sys.stderr)
        return 1

    print("\n".join(md))
    print(f"\nwrote {os.path.join(a.out, 'results.md')}" + ("" if a.no_plot else f" and {png}"))
    o, p = get(cells, "ours", "single", 4), get(cells, "pgflow", "single", 4)
    om, pm = get(cells, "ours", "map100", 4), get(cells, "pgflow", "map100", 4)
    o1k, lim = get(cells, "ours", "map1000", 4), get(cells, "limit", "queue", 4)
    def num(v):
        return "nan" if v is None else f"{v:.0f}"

    if failed:
        print(f"report: {len(failed)} window(s) not measured because the engine failed; see results.md")
    print(f"RESULT ours_tasks_per_s={num(o)} pgflow_tasks_per_s={num(p)} "
          f"ratio={ratio(o, p):.2f} map_ratio={ratio(om, pm):.2f} limit_fraction={ratio(o1k, lim):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
