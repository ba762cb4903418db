#!/usr/bin/env python3
"""Front-end work on the dashboard without rebuilding: serves the pages from tools/dashboard/assets/
as they are on disk and forwards every other request (the JSON API, the event streams, actions) to
a running `pgflow dashboard`.

    pgflow dashboard --listen 127.0.0.1:8080 &
    python3 tools/dashboard/dev_server.py --upstream http://127.0.0.1:8080 --listen 127.0.0.1:8081

Then open http://127.0.0.1:8081/. When done, `cmake -P cmake/EmbedDashboard.cmake` embeds the
assets into include/pgflow/dashboard/assets.hpp.
"""
import argparse
import http.server
import pathlib
import urllib.error
import urllib.request

ASSETS = pathlib.Path(__file__).resolve().parent / "assets"
TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
         ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml", ".json": "application/json"}


def make_handler(upstream):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"  # one request per connection: streams end when closed

        def asset(self):
            path = self.path.split("?")[0]
            name = "index.html" if path == "/" else path[len("/assets/"):] if path.startswith("/assets/") else None
            if name is None or "/" in name or name.startswith("."):
                return False
            file = ASSETS / name
            if not file.is_file():
                return False
            body = file.read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", TYPES.get(file.suffix, "application/octet-stream"))
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)
            return True

        def forward(self):
            length = int(self.headers.get("Content-Length") or 0)
            data = self.rfile.read(length) if length else None
            headers = {k: v for k, v in self.headers.items() if k.lower() in ("accept", "authorization", "cookie", "content-type")}
            request = urllib.request.Request(upstream + self.path, data=data, method=self.command, headers=headers)
            try:
                response = urllib.request.urlopen(request, timeout=3600)
            except urllib.error.HTTPError as error:
                response = error
            except OSError as error:
                self.send_error(502, f"upstream {upstream}: {error}")
                return
            self.send_response(response.status)
            for key, value in response.headers.items():
                if key.lower() not in ("connection", "transfer-encoding", "keep-alive"):
                    self.send_header(key, value)
            self.end_headers()
            try:
                while chunk := response.read1(65536):  # event streams: pass each event on at once
                    self.wfile.write(chunk)
                    self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                pass

        def do_GET(self):
            if self.command == "GET" and self.asset():
                return
            self.forward()

        do_POST = forward

    return Handler


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--upstream", default="http://127.0.0.1:8080", help="the running pgflow dashboard")
    parser.add_argument("--listen", default="127.0.0.1:8081", help="host:port to serve on (default 127.0.0.1:8081)")
    args = parser.parse_args()
    host, port = args.listen.rsplit(":", 1)
    server = http.server.ThreadingHTTPServer((host, int(port)), make_handler(args.upstream.rstrip("/")))
    print(f"serving tools/dashboard/assets/ on http://{args.listen}/, the rest from {args.upstream}")
    server.serve_forever()


if __name__ == "__main__":
    main()
