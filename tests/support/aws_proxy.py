"""An HTTP proxy in front of moto: counts AWS operations (and keeps their query parameters),
injects throttling and 500s for a share of calls, and can hold an answer (the call done in moto,
the reply not yet delivered), lose one (done in moto, the caller told 500) or stall a call (never
done in moto)."""

from __future__ import annotations

import contextlib
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.etree import ElementTree

THROTTLED = (503, "RequestLimitExceeded", "Request limit exceeded.")
BROKEN = (500, "InternalError", "An internal error has occurred.")
HOLD_TIMEOUT_SECONDS = 60.0  # a held answer is released after this even if the test forgets


def _error_xml(code: str, message: str) -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>{code}</Code>'
            f"<Message>{message}</Message></Error></Errors><RequestID>proxy</RequestID></Response>").encode()


def _query(body: bytes) -> dict[str, str]:
    """An EC2 query-protocol call's parameters (`Filter.1.Name`, `InstanceId.1`, ...)."""
    return {k: v[0] for k, v in urllib.parse.parse_qs(body.decode(errors="replace")).items()}


def _operation(headers: object, body: bytes) -> str:
    target = getattr(headers, "get", lambda _: None)("X-Amz-Target")  # JSON protocols (SSM)
    if target:
        return str(target).rpartition(".")[2]
    return urllib.parse.parse_qs(body.decode(errors="replace")).get("Action", ["?"])[0]  # query protocol (EC2)


class AwsProxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.calls: Counter[str] = Counter()
        self.params: dict[str, list[dict[str, str]]] = {}  # operation -> each call's query parameters
        self.seconds: Counter[str] = Counter()  # operation -> time spent upstream (moto), summed
        self.faults: Counter[str] = Counter()
        self.fail_every = 0  # 0: never; n: every n-th call of the operations in fail_operations
        self.fail_operations: set[str] = set()
        self.refuse: dict[str, tuple[int, str, str]] = {}  # operation -> an error for its next calls
        self.refuse_count = 0  # how many calls of a refused operation still get its error
        self.lose_answers: Counter[str] = Counter()  # operation -> how many answers to replace by a 500, once done
        # EC2's eventual consistency: the next `unlisted_answers` DescribeInstances answers leave out
        # the instances whose launch index is in `unlisted_indexes`, as moments after a launch.
        self.unlisted_indexes: set[int] = set()
        self.unlisted_answers = 0
        self.hold_operation = ""
        self.held = threading.Event()  # set once a held call has been done in moto
        # A stalled call waits for `release`, then fails with a 503 without reaching moto: its
        # caller is expected to be gone by then (the operator killed while it waits).
        self.stall_operation = ""
        self.stalled = threading.Event()
        self.release = threading.Event()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def _fault(self, operation: str, body: bytes) -> tuple[int, str, str] | None:
        with self._lock:
            self.calls[operation] += 1
            self.params.setdefault(operation, []).append(_query(body))
            stall = operation == self.stall_operation
        if stall:
            self.stalled.set()
            self.release.wait(HOLD_TIMEOUT_SECONDS)
            return THROTTLED
        with self._lock:
            if operation in self.refuse and self.refuse_count > 0:
                self.refuse_count -= 1
                self.faults[operation] += 1
                return self.refuse[operation]
            if self.fail_every and operation in self.fail_operations and self.calls[operation] % self.fail_every == 1:
                self.faults[operation] += 1
                return THROTTLED if self.faults[operation] % 2 else BROKEN
        return None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                operation = _operation(self.headers, body)
                fault = proxy._fault(operation, body)
                if fault is not None and self.headers.get("X-Amz-Target"):  # JSON protocol (SSM)
                    body = json.dumps({"__type": fault[1], "message": fault[2]}).encode()
                    self._reply(fault[0], {"Content-Type": "application/x-amz-json-1.1"}, body)
                    return
                if fault is not None:
                    self._reply(fault[0], {"Content-Type": "text/xml"}, _error_xml(fault[1], fault[2]))
                    return
                started = time.perf_counter()
                status, headers, answer = proxy._forward(self.path, dict(self.headers), body)
                with proxy._lock:
                    proxy.seconds[operation] += time.perf_counter() - started
                    lost = proxy.lose_answers[operation] > 0
                    if lost:
                        proxy.lose_answers[operation] -= 1
                        proxy.faults[operation] += 1
                if lost:  # done in moto, but the caller is told it failed
                    self._reply(BROKEN[0], {"Content-Type": "text/xml"}, _error_xml(*BROKEN[1:]))
                    return
                if operation == "DescribeInstances" and status == 200:
                    answer = proxy._unlist(answer)
                if operation == proxy.hold_operation:
                    proxy.held.set()
                    proxy.release.wait(HOLD_TIMEOUT_SECONDS)
                self._reply(status, headers, answer)

            def _reply(self, status: int, headers: dict[str, str], body: bytes) -> None:
                self.send_response(status)
                for key, value in headers.items():
                    if key.lower() not in ("content-length", "transfer-encoding", "connection", "server", "date"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                # the caller may be gone: an operator killed while its answer was held
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(body)

            def log_message(self, *_: object) -> None:
                pass

        return Handler

    def _unlist(self, answer: bytes) -> bytes:
        with self._lock:
            if self.unlisted_answers <= 0 or not self.unlisted_indexes:
                return answer
            self.unlisted_answers -= 1
            self.faults["DescribeInstances"] += 1
        root = ElementTree.fromstring(answer)
        namespace = root.tag.partition("}")[0] + "}" if root.tag.startswith("{") else ""
        ElementTree.register_namespace("", namespace.strip("{}"))
        for instances in root.iter(f"{namespace}instancesSet"):
            for item in list(instances):
                if int(item.findtext(f"{namespace}amiLaunchIndex") or -1) in self.unlisted_indexes:
                    instances.remove(item)
        return ElementTree.tostring(root, xml_declaration=True, encoding="UTF-8")

    def _forward(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        request = urllib.request.Request(self.upstream + path, data=body, method="POST",
                                         headers={k: v for k, v in headers.items() if k.lower() != "host"})
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return answer.status, dict(answer.headers), answer.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    def stop(self) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()


@contextmanager
def aws_proxy(upstream: str) -> Iterator[AwsProxy]:
    proxy = AwsProxy(upstream)
    try:
        yield proxy
    finally:
        proxy.stop()
