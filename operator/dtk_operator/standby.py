"""A standby's stand-in for kopf's liveness endpoint (kopf serves it only once it runs).

Without it a standby pod would fail its liveness probe and be restarted over and over; with it the
probe says what it should: the process is alive and doing its job, which is waiting. The address
is read as kopf reads `--liveness` (host default localhost, port default 80), and the port is freed
before kopf binds it.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BODY = json.dumps({"leaderElection": "standby"}).encode()


class _Health(BaseHTTPRequestHandler):
    path_served = "/"

    def do_GET(self) -> None:  # http.server calls it by this name
        found = urllib.parse.urlsplit(self.path).path == self.path_served
        self.send_response(200 if found else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(BODY) if found else 0))
        self.end_headers()
        if found:
            self.wfile.write(BODY)

    def log_message(self, format: str, *args: object) -> None:  # a probe every few seconds: not news
        pass


@contextmanager
def standing_by(liveness: str) -> Iterator[None]:
    """Serves `liveness` (kopf's --liveness URL; "" serves nothing) while the block runs."""
    if not liveness:
        yield
        return
    parts = urllib.parse.urlsplit(liveness)
    handler = type("Health", (_Health,), {"path_served": parts.path or "/"})
    server = ThreadingHTTPServer((parts.hostname or "localhost", parts.port or 80), handler)
    thread = threading.Thread(target=server.serve_forever, name="standby-liveness", daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
