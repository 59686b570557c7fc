"""A counting HTTP proxy between the operator and the API emulator: what the operator really sends.

Run as its own process (`python -m benchkit.write_proxy`), so that forwarding never competes with
the operator or the measuring client for an interpreter lock. Every request is forwarded byte for
byte; for each write (POST, PUT, PATCH) one JSON line is appended to the log once its answer has
come: method, path, request body bytes, response status. Reads (GET, watches) are only forwarded.

HTTP/1.1 framing is parsed in both directions (Content-Length or chunked, both clients used by
the operator send one or the other, neither pipelines), so answers pair with requests in order on
each connection and a watch's endless chunked answer is forwarded chunk by chunk as it comes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import IO

WRITES = frozenset({"POST", "PUT", "PATCH"})
NO_BODY_STATUSES = frozenset({204, 304})
READ_SIZE = 1 << 16


@dataclass
class Pending:
    method: str
    path: str
    body_bytes: int
    sent: float  # time.time() when the request had been forwarded


def _headers(head: bytes) -> tuple[str, dict[str, str]]:
    lines = head.decode("latin-1").split("\r\n")
    fields = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name:
            fields[name.strip().lower()] = value.strip()
    return lines[0], fields


async def _body(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, fields: dict[str, str]) -> int:
    """Forwards one message body as it arrives; returns its payload size in bytes."""
    if "chunked" in fields.get("transfer-encoding", "").lower():
        total = 0
        while True:
            size_line = await reader.readuntil(b"\r\n")
            writer.write(size_line)
            size = int(size_line.split(b";")[0].strip(), 16)
            if size == 0:
                while (trailer := await reader.readuntil(b"\r\n")) != b"\r\n":
                    writer.write(trailer)
                writer.write(b"\r\n")
                await writer.drain()
                return total
            writer.write(await reader.readexactly(size + 2))  # the chunk and its CRLF
            await writer.drain()  # a watch event reaches the operator at once
            total += size
    remaining = int(fields.get("content-length", "0"))
    total = remaining
    while remaining:
        data = await reader.read(min(remaining, READ_SIZE))
        if not data:
            raise asyncio.IncompleteReadError(b"", remaining)
        writer.write(data)
        remaining -= len(data)
    await writer.drain()
    return total


class Proxy:
    def __init__(self, upstream_host: str, upstream_port: int, log: IO[str]) -> None:
        self._upstream = (upstream_host, upstream_port)
        self._log = log

    async def serve(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        server_reader, server_writer = await asyncio.open_connection(*self._upstream)
        pending: deque[Pending] = deque()
        try:
            await asyncio.gather(self._requests(client_reader, server_writer, pending),
                                 self._responses(server_reader, client_writer, pending))
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            pass  # either side closed: the other is closed below
        finally:
            for writer in (server_writer, client_writer):
                writer.close()
                with contextlib.suppress(OSError):
                    await writer.wait_closed()

    async def _requests(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                        pending: deque[Pending]) -> None:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            line, fields = _headers(head)
            method, path = line.split(" ")[:2]
            record = Pending(method, path, 0, 0.0)
            pending.append(record)  # before forwarding: the answer may come before we go on
            writer.write(head)
            record.body_bytes = await _body(reader, writer, fields)
            record.sent = time.time()

    async def _responses(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                         pending: deque[Pending]) -> None:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            line, fields = _headers(head)
            status = int(line.split(" ")[1])
            writer.write(head)
            if status >= 200:  # a 1xx answer is followed by the real one
                record = pending.popleft()
                if status not in NO_BODY_STATUSES:
                    await _body(reader, writer, fields)
                else:
                    await writer.drain()
                if record.method in WRITES:
                    self._write_line(record, status)

    def _write_line(self, record: Pending, status: int) -> None:
        self._log.write(json.dumps({"method": record.method, "path": record.path, "bytes": record.body_bytes,
                                    "status": status, "at": record.sent}) + "\n")
        self._log.flush()  # the benchmark reads the log while the proxy still runs


async def _main(args: argparse.Namespace) -> None:
    with args.log.open("a") as log:
        proxy = Proxy(args.upstream_host, args.upstream_port, log)
        server = await asyncio.start_server(proxy.serve, "127.0.0.1", 0, limit=1 << 20)
        port = server.sockets[0].getsockname()[1]
        ready = args.port_file.with_suffix(".tmp")
        ready.write_text(str(port))
        os.replace(ready, args.port_file)  # atomically: the benchmark waits for the file to appear
        async with server:
            await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--upstream-host", default="127.0.0.1")
    parser.add_argument("--upstream-port", type=int, required=True)
    parser.add_argument("--port-file", type=Path, required=True, help="written with the port once it listens")
    parser.add_argument("--log", type=Path, required=True, help="one JSON line per write")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_main(parser.parse_args()))


if __name__ == "__main__":
    main()
