"""Bounded capture of a command's output: only the last few KiB are ever held in memory."""

from __future__ import annotations

import asyncio

OUTPUT_TAIL_BYTES = 4096  # SPEC section 4: stdout and stderr keep their last 4 KiB each
_READ_CHUNK = 64 * 1024


class TailBuffer:
    def __init__(self, limit: int = OUTPUT_TAIL_BYTES) -> None:
        self.limit = limit
        self.data = bytearray()
        self.total = 0

    def feed(self, chunk: bytes) -> None:
        self.total += len(chunk)
        self.data += chunk
        if len(self.data) > self.limit:
            del self.data[: len(self.data) - self.limit]

    @property
    def truncated(self) -> bool:
        return self.total > self.limit

    def text(self) -> str:
        # A cut may split a UTF-8 sequence; replacement characters never grow the byte count.
        return self.data.decode("utf-8", errors="replace")


async def drain(stream: asyncio.StreamReader | None, sink: TailBuffer) -> None:
    if stream is None:
        return
    while chunk := await stream.read(_READ_CHUNK):
        sink.feed(chunk)
