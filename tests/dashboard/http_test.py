#!/usr/bin/env python3
"""HTTP tests of `pgflow dashboard`: the real program against the server the environment names
(PG* / PGFLOW_DATABASE_URL, as scripts/test exports them), in a database of each test's own, with
runs in every state made through pgflow's SQL API. Standard library only (urllib, http.client).

    http_test.py <pgflow program> <test name>

Fails (exit status 1), never skips, when PostgreSQL cannot be reached.
"""

import http.client
import json
import os
import re
import select
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid

PGFLOW = sys.argv[1] if len(sys.argv) > 1 else "pgflow"
FAILURES = []
WORKER = "00000000-0000-4000-8000-00000000d0d0"


def check(condition, what):
    if not condition:
        FAILURES.append(what)
        print("FAIL:", what, flush=True)


def psql(database, statement):
    """Rows of one statement, as lists of text fields."""
    done = subprocess.run(["psql", "-X", "-q", "-At", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-d", database,
                           "-c", statement], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"psql failed on {statement!r}: {done.stderr}")
    return [line.split("\t") for line in done.stdout.splitlines() if line]


class Database:
    """A database of its own for one test, with the pgflow schema and the test flows."""

    def __init__(self, test):
        self.name = f"dashboard_{test}_{os.getpid()}"
        admin = os.environ.get("PGDATABASE", "postgres")
        psql(admin, f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        psql(admin, f'CREATE DATABASE "{self.name}"')
        self.url = self._url()
        install = subprocess.run([PGFLOW, "-d", self.url, "install", "--queue", "builtin"], capture_output=True,
                                 text=True)
        if install.returncode != 0:
            raise RuntimeError("pgflow install failed: " + install.stderr)
        psql(self.name, """
            SELECT pgflow.create_flow('dash_test', 1, 0, 60);
            SELECT pgflow.add_step('dash_test', 'first');
            SELECT pgflow.add_step('dash_test', 'second', ARRAY['first']);
            SELECT pgflow.create_flow('dash_map', 1, 0, 60);
            SELECT pgflow.add_step('dash_map', 'items', '{}', NULL, NULL, NULL, NULL, 'map');
            INSERT INTO pgflow.workers (worker_id, queue_name, function_name)
              VALUES ('""" + WORKER + """', 'dash_test', 'http_test');""")

    def _url(self):
        parts = {"host": os.environ.get("PGHOST", "127.0.0.1"), "port": os.environ.get("PGPORT", "5432"),
                 "user": os.environ.get("PGUSER", "postgres"), "dbname": self.name}
        return " ".join(f"{k}={v}" for k, v in parts.items())

    def drop(self):
        psql(os.environ.get("PGDATABASE", "postgres"), f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def sql(self, statement):
        return psql(self.name, statement)

    def start(self, flow="dash_test", run_input='{"value": 1}'):
        return self.sql(f"SELECT run_id FROM pgflow.start_flow('{flow}', '{run_input}'::jsonb)")[0][0]

    def claim(self, flow="dash_test"):
        return self.sql(f"SELECT run_id, step_slug, task_index FROM pgflow_cpp.read_and_start_tasks("
                        f"'{flow}', 30, 100, '{WORKER}')")

    def finish(self, run_id, fail=False, flow="dash_test"):
        """Claims and completes (or fails) the run's ready tasks until it ends."""
        for _ in range(10):
            for run, step, index in self.claim(flow):
                if fail:
                    self.sql(f"SELECT count(*) FROM pgflow.fail_task('{run}', '{step}', {index}, 'boom in {step}')")
                else:
                    self.sql(f"SELECT count(*) FROM pgflow.complete_task('{run}', '{step}', {index}, "
                             f"'{{\"done\": \"{step}\"}}'::jsonb)")
            if self.sql(f"SELECT status FROM pgflow.runs WHERE run_id = '{run_id}'")[0][0] != "started":
                return
            time.sleep(0.05)
        raise RuntimeError(f"run {run_id} did not end")


class Dashboard:
    """`pgflow dashboard` on a free port; stopped with SIGTERM."""

    def __init__(self, database, *args, env=None):
        environment = dict(os.environ)
        environment.pop("PGFLOW_DASHBOARD_TOKEN", None)
        environment.update(env or {})
        self.process = subprocess.Popen([PGFLOW, "-d", database.url, "dashboard", "--listen", "127.0.0.1:0", *args],
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment)
        line = self.process.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        if not match:
            self.process.kill()
            raise RuntimeError("the dashboard printed no URL: " + line + self.process.stderr.read())
        self.port = int(match.group(1))
        self.base = f"http://127.0.0.1:{self.port}"

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        try:
            status = self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            status = "killed (did not stop within 10 s of SIGTERM)"
        check(status == 0, f"the dashboard exits with status 0 on SIGTERM, not {status}")

    def request(self, path, method="GET", headers=None, body=None):
        """(status, headers, body text) of one request."""
        request = urllib.request.Request(self.base + path, method=method, headers=headers or {}, data=body)
        opener = urllib.request.build_opener(NoRedirect)
        try:
            with opener.open(request, timeout=30) as answer:
                return answer.status, answer.headers, answer.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read().decode()

    def json(self, path, status=200, **kwargs):
        code, headers, body = self.request(path, **kwargs)
        check(code == status, f"{kwargs.get('method', 'GET')} {path} answers {status}, not {code}: {body[:300]}")
        check(headers.get("Content-Type", "").startswith("application/json"), f"{path} answers JSON")
        try:
            value = json.loads(body)
        except ValueError:
            check(False, f"{path} answers valid JSON: {body[:300]}")
            return {}
        if status >= 400:
            check(isinstance(value.get("error"), str) and value["error"], f"{path} answers an error message")
        return value

    def raw(self, data):
        """Sends raw bytes; returns the status line's code."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as s:
            s.sendall(data)
            answer = b""
            while b"\r\n" not in answer:
                chunk = s.recv(4096)
                if not chunk:
                    break
                answer += chunk
        return int(answer.split(b" ")[1]) if answer.startswith(b"HTTP/") else None


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


# --- the tests ------------------------------------------------------------------------------------

def runs_in_every_state(db):
    # One at a time: finish() claims every queued task of the flow.
    completed = db.start(run_input='{"value": 2}')
    db.finish(completed)
    failed = db.start(run_input='{"value": 3}')
    db.finish(failed, fail=True)
    started = db.start()
    big = db.start(run_input=json.dumps({"blob": "x" * 20000}))
    mapped = db.start("dash_map", json.dumps(list(range(250))))
    return {"started": started, "completed": completed, "failed": failed, "big": big, "map": mapped}


def test_routes(db):
    runs = runs_in_every_state(db)
    dash = Dashboard(db)
    try:
        code, headers, body = dash.request("/")
        check(code == 200 and headers.get("Content-Type", "").startswith("text/html") and "<html" in body.lower(),
              f"/ answers the page as text/html ({code})")
        overview = dash.json("/api/overview")
        check(overview.get("flows") == 2 and
              overview.get("runs") == {"started": 3, "completed": 1, "failed": 1, "capped_at": 10000},
              f"overview counts flows and runs by status: {overview}")
        check(overview.get("actions_allowed") is False, f"overview says actions are not allowed: {overview}")
        flows = dash.json("/api/flows")["flows"]
        check([f["flow_slug"] for f in flows] == ["dash_map", "dash_test"], "flows lists both flows")
        flow = dash.json("/api/flows/dash_test")
        check([s["step_slug"] for s in flow["steps"]] == ["first", "second"], "a flow lists its steps in order")
        check(flow["steps"][1]["dependencies"] == ["first"], "a step lists its dependencies")
        check(flow["options"] == {"max_attempts": 1, "base_delay": 0, "timeout": 60}, "a flow shows its options")
        check(flow["runs"] == {"started": 2, "completed": 1, "failed": 1, "capped_at": 10000},
              f"a flow counts its runs: {flow['runs']}")

        listed = dash.json("/api/runs")
        check(len(listed["runs"]) == 5 and listed["next"] is None, "runs lists every run, no next page")
        check([r["run_id"] for r in listed["runs"]] == [runs[k] for k in ("map", "big", "started", "failed", "completed")],
              "runs come newest first")
        for status, count in (("started", 3), ("completed", 1), ("failed", 1)):
            got = dash.json(f"/api/runs?status={status}")["runs"]
            check(len(got) == count and all(r["status"] == status for r in got), f"runs?status={status}")
        check(len(dash.json("/api/runs?flow=dash_map")["runs"]) == 1, "runs?flow= filters by flow")
        check(len(dash.json("/api/runs?since=2000-01-01T00:00:00Z&until=2999-01-01")["runs"]) == 5, "since/until")
        check(dash.json("/api/runs?since=2999-01-01")["runs"] == [], "since in the future: no run")
        seen, cursor = [], None
        for _ in range(10):
            page = dash.json("/api/runs?limit=2" + (f"&before={cursor}" if cursor else ""))
            seen += [r["run_id"] for r in page["runs"]]
            cursor = page["next"]
            if cursor is None:
                break
        check(len(seen) == 5 and len(set(seen)) == 5, f"pages of 2 list each run once: {seen}")

        run = dash.json(f"/api/runs/{runs['completed']}")
        check(run["run"]["status"] == "completed" and run["run"]["output"] is not None, "a completed run")
        check([s["status"] for s in run["steps"]] == ["completed", "completed"], "its steps are completed")
        check(run["steps"][0]["tasks"][0]["output"] == {"done": "first"}, "a task shows its output")
        failed = dash.json(f"/api/runs/{runs['failed']}")
        check(failed["run"]["status"] == "failed" and failed["steps"][0]["status"] == "failed", "a failed run")
        check("boom in first" in (failed["steps"][0]["tasks"][0]["error_message"] or ""), "a task's error")
        check(failed["steps"][1]["status"] == "created", "a step that never started is created")
        big = dash.json(f"/api/runs/{runs['big']}")["run"]["input"]
        check(isinstance(big, dict) and big.get("$truncated") is True and big.get("bytes", 0) > 20000,
              f"a large input is truncated: {str(big)[:100]}")
        full = dash.json(big.get("href", "/missing"))
        check(full == {"blob": "x" * 20000}, "the truncated value's href answers the whole value")
        mapped = dash.json(f"/api/runs/{runs['map']}")["steps"][0]
        check(len(mapped["tasks"]) == 200 and mapped.get("tasks_total") == 250, "a map's task list is capped")
        check(dash.json(f"/api/runs/{runs['map']}/value?of=task:items:3") is None, "a task's value (null)")

        check("workers" in dash.json("/api/workers"), "workers answers")
        worker = dash.json("/api/workers")["workers"][0]
        check(worker["worker_id"] == WORKER and worker["alive"] is True, f"a worker is alive: {worker}")
        queues = {q["queue_name"]: q for q in dash.json("/api/queues")["queues"]}
        check(queues.get("dash_map", {}).get("depth") == 250, f"queue depth: {queues}")
        minutes = dash.json("/api/throughput?minutes=5")["minutes"]
        check(len(minutes) == 5 and sum(m["completed"] for m in minutes) == 2 and
              sum(m["failed"] for m in minutes) == 1, f"throughput counts tasks per minute: {minutes}")
        code, headers, body = dash.request("/metrics")
        check(code == 200 and headers.get("Content-Type", "").startswith("text/plain"), "/metrics answers text")
    finally:
        dash.stop()


BAD_REQUESTS = [
    ("/api/runs/not-a-uuid", 400), ("/api/runs/00000000-0000-0000-0000-000000000000", 404),
    ("/api/runs/00000000-0000-0000-0000-000000000000/events", 404), ("/api/runs/x'--/events", 400),
    ("/api/runs?limit=0", 400), ("/api/runs?limit=501", 400), ("/api/runs?limit=99999999999999999999999", 400),
    ("/api/runs?limit=-1", 400), ("/api/runs?limit=1.5", 400), ("/api/runs?limit=abc", 400),
    ("/api/runs?flow=x'%20OR%201=1--", 400), ("/api/runs?flow=dash_test%00", 400),
    ("/api/runs?status=started'%20OR%20'1'='1", 400), ("/api/runs?status=cancelled", 400),
    ("/api/runs?since=yesterday-ish", 400), ("/api/runs?until=2026-13-45", 400),
    ("/api/runs?before=garbage", 400), ("/api/runs?before=1_00000000-0000-0000-0000-00000000000g", 400),
    ("/api/runs?before=99999999999999999999999_00000000-0000-0000-0000-000000000000", 400),
    ("/api/runs?limit=1&limit=2", 400), ("/api/runs?flow=%zz", 400),
    ("/api/flows/nope", 404), ("/api/flows/x';DROP%20TABLE%20pgflow.runs;--", 400),
    ("/api/throughput?minutes=0", 400), ("/api/throughput?minutes=1441", 400),
    ("/api/runs/00000000-0000-0000-0000-000000000000/value?of=input", 404),
    ("/api/runs/00000000-0000-0000-0000-000000000000/value?of=bogus", 400),
    ("/api/runs/00000000-0000-0000-0000-000000000000/value?of=task:x';--:1", 400),
    ("/api/runs/00000000-0000-0000-0000-000000000000/value?of=task:first:-1", 400),
    ("/api/nothing", 404), ("/nothing", 404), ("/assets/nothing.js", 404),
]


def test_bad_parameters(db):
    run = db.start()
    dash = Dashboard(db)
    try:
        for path, status in BAD_REQUESTS:
            dash.json(path, status)
        dash.json(f"/api/runs/{run}/value?of=task:first:7", 404)
        dash.json("/api/runs", 405, method="POST")
        dash.json("/api/overview", 405, method="DELETE")
        dash.json("/api/runs?" + "x" * 3000, 414)
        too_many = "&".join(f"p{i}=1" for i in range(20))
        dash.json("/api/runs?" + too_many, 400)
        check(dash.raw(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"y" * 10000 + b"\r\n\r\n") == 431,
              "oversized headers answer 431")
        body = b"z" * 20000
        check(dash.raw(b"POST /api/runs/" + run.encode() + b"/cancel HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                       b"Content-Length: 20000\r\n\r\n" + body) == 413, "an oversized body answers 413")
        check(dash.raw(b"NONSENSE\r\n\r\n") == 400, "a malformed request answers 400")
        dash.json("/api/overview", 403, headers={"Host": "evil.example:8080"})
        check(db.sql("SELECT count(*) FROM pgflow.runs")[0][0] == "1", "the runs table is intact")
        check(dash.json("/api/overview")["runs"]["started"] == 1, "the dashboard still answers")
    finally:
        dash.stop()


def test_actions(db):
    runs = runs_in_every_state(db)
    read_only = Dashboard(db)
    try:
        dash_error = read_only.json(f"/api/runs/{runs['started']}/cancel", 403, method="POST")
        check("--allow-actions" in dash_error.get("error", ""), "the 403 says how to enable actions")
        check(db.sql(f"SELECT status FROM pgflow.runs WHERE run_id = '{runs['started']}'")[0][0] == "started",
              "a refused cancel changes nothing")
    finally:
        read_only.stop()
    dash = Dashboard(db, "--allow-actions")
    try:
        answer = dash.json(f"/api/runs/{runs['started']}/cancel", method="POST")
        check(answer.get("ok") is True and answer.get("cancelled") is True, f"cancel: {answer}")
        check(dash.json(f"/api/runs/{runs['started']}")["run"].get("cancelled_at") is not None, "cancelled_at")
        check(dash.json(f"/api/runs/{runs['started']}/cancel", method="POST").get("cancelled") is False,
              "cancelling again changes nothing")
        dash.json(f"/api/runs/{runs['completed']}/cancel", 409, method="POST")
        dash.json(f"/api/runs/{runs['completed']}/retry", 409, method="POST")
        retried = dash.json(f"/api/runs/{runs['failed']}/retry", method="POST")
        check(uuid.UUID(retried.get("new_run_id", "")) is not None, f"retry answers the new run: {retried}")
        dash.json(f"/api/runs/{runs['failed']}/retry", 409, method="POST")
        resumed = dash.json(f"/api/runs/{runs['started']}/resume", method="POST")
        check(resumed.get("new_run_id"), f"resume answers the new run: {resumed}")
        dash.json("/api/runs/00000000-0000-0000-0000-000000000000/cancel", 404, method="POST")
        dash.json("/api/runs/nope/cancel", 400, method="POST")
        dash.json(f"/api/runs/{runs['big']}/cancel", 405)
        dash.json(f"/api/runs/{runs['big']}/cancel", 403, method="POST", headers={"Origin": "http://evil.example"})
    finally:
        dash.stop()


def test_token(db):
    run = db.start()
    dash = Dashboard(db, "--token", "s3cret", "--allow-actions")
    try:
        dash.json("/api/overview", 401)
        dash.json("/", 401)
        dash.json("/api/overview", 401, headers={"Authorization": "Bearer wrong"})
        dash.json(f"/api/runs/{run}/cancel", 401, method="POST")
        check(dash.json("/api/overview", headers={"Authorization": "Bearer s3cret"}).get("flows") == 2, "bearer")
        dash.json("/?token=wrong", 401)
        code, headers, _ = dash.request("/?token=s3cret")
        cookie = headers.get("Set-Cookie", "")
        check(code == 303 and headers.get("Location") == "/" and "pgflow_token=s3cret" in cookie and
              "HttpOnly" in cookie, f"/?token= sets the cookie and redirects ({code}, {cookie})")
        dash.json("/api/overview", headers={"Cookie": "other=1; pgflow_token=s3cret"})
        dash.json("/api/overview", 401, headers={"Cookie": "pgflow_token=s3cre"})
        dash.json(f"/api/runs/{run}/cancel", headers={"Authorization": "Bearer s3cret"}, method="POST")
    finally:
        dash.stop()
    env_token = Dashboard(db, env={"PGFLOW_DASHBOARD_TOKEN": "from-env"})
    try:
        env_token.json("/api/overview", 401)
        env_token.json("/api/overview", headers={"Authorization": "Bearer from-env"})
    finally:
        env_token.stop()


def test_listen_refusals(db):
    for args, message in ((["--listen", "0.0.0.0:0"], "token"), (["--listen", "nonsense"], "host:port"),
                          (["--listen", "0.0.0.0:0", "--token", "a b"], "token")):
        done = subprocess.run([PGFLOW, "-d", db.url, "dashboard", *args], capture_output=True, text=True, timeout=30,
                              env={k: v for k, v in os.environ.items() if k != "PGFLOW_DASHBOARD_TOKEN"})
        check(done.returncode == 2 and message in done.stderr,
              f"dashboard {' '.join(args)} is refused with exit status 2: {done.returncode} {done.stderr}")
    public = subprocess.Popen([PGFLOW, "-d", db.url, "dashboard", "--listen", "0.0.0.0:0", "--token", "t"],
                              stdout=subprocess.PIPE, text=True)
    try:
        line = public.stdout.readline()
        check("http://0.0.0.0:" in line and "token" in line, f"with a token it listens: {line}")
    finally:
        public.send_signal(signal.SIGTERM)
        check(public.wait(timeout=10) == 0, "it stops on SIGTERM")


def read_events(sock, until, pattern):
    """Reads the stream until `pattern` appears or `until` (monotonic) passes; returns all read."""
    data = b""
    while time.monotonic() < until and pattern not in data:
        ready, _, _ = select.select([sock], [], [], max(0.0, until - time.monotonic()))
        if not ready:
            break
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def test_events(db):
    run = db.start()
    dash = Dashboard(db)
    try:
        connection = http.client.HTTPConnection("127.0.0.1", dash.port, timeout=10)
        connection.request("GET", f"/api/runs/{run}/events")
        answer = connection.getresponse()
        check(answer.status == 200 and answer.getheader("Content-Type") == "text/event-stream", "an event stream")
        sock = answer.fp.raw._sock if hasattr(answer.fp, "raw") else connection.sock
        data = answer.fp.peek() if hasattr(answer.fp, "peek") else b""  # what the header read buffered
        if b"event: snapshot" not in data:
            data += read_events(sock, time.monotonic() + 10, b"event: snapshot")
        check(b"event: snapshot\ndata: {}\n\n" in data, f"the stream starts with a snapshot: {data!r}")
        others = [http.client.HTTPConnection("127.0.0.1", dash.port, timeout=10) for _ in range(3)]
        for other in others:  # more clients of the same run share the listening connection
            other.request("GET", f"/api/runs/{run}/events")
            check(other.getresponse().status == 200, "another client's stream")
        check(dash.json("/api/overview")["runs"]["started"] == 1, "other requests are answered meanwhile")
        db.finish(run)
        data = read_events(sock, time.monotonic() + 10, b"run:completed")
        check(b"event: pgflow\ndata: " in data and b"step:first:completed" in data and b"run:completed" in data,
              f"the run's progress arrives as events: {data!r}")
        connections = db.sql("SELECT count(*) FROM pg_stat_activity WHERE application_name = "
                             "'pgflow dashboard events' AND datname = current_database()")[0][0]
        check(connections == "1", f"one listening connection for all streams, not {connections}")
        for other in others:
            other.close()
        connection.close()
        dash.json(f"/api/runs/{run}/events", 405, method="POST")
    finally:
        dash.stop()


def test_no_schema(db):
    """A database without the schema: the log says so once at start, the API answers 500 with the hint."""
    db.sql("DROP SCHEMA pgflow CASCADE")
    dash = Dashboard(db)
    try:
        ready, _, _ = select.select([dash.process.stderr], [], [], 10)
        line = dash.process.stderr.readline() if ready else ""
        check("no pgflow schema" in line and "pgflow install" in line, f"the log says the schema is missing: {line!r}")
        error = dash.json("/api/flows", 500).get("error", "")
        check("pgflow install" in error, f"the API's error says how to install the schema: {error}")
    finally:
        dash.stop()


TESTS = {name[len("test_"):]: f for name, f in globals().items() if name.startswith("test_")}

if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[2] not in TESTS:
        sys.exit(f"usage: {sys.argv[0]} <pgflow program> <{'|'.join(TESTS)}>")
    name = sys.argv[2]
    database = Database(name)
    try:
        TESTS[name](database)
    except Exception as e:  # noqa: BLE001 — any exception fails the test with its message
        FAILURES.append(f"{type(e).__name__}: {e}")
        print("FAIL:", FAILURES[-1], flush=True)
    finally:
        database.drop()
    print(f"dashboard.{name}: {'FAILED' if FAILURES else 'passed'} ({len(FAILURES)} failure(s))")
    sys.exit(1 if FAILURES else 0)
