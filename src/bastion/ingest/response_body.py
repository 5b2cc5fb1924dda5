"""Read an HTTP response body without ever holding more than a size limit in memory.

The limit applies to the bytes Bastion will keep, so a compressed body is counted after decoding;
decoding is done here, in bounded steps, because a decoder that inflates whole network chunks lets
a few kilobytes of gzip become gigabytes before anyone can count them.
"""

from __future__ import annotations

import time
import zlib
from typing import Final

import httpx

from bastion.errors import FetchFailed, FetchTimeout, FetchTooLarge

# gzip and zlib-wrapped deflate, told apart by their headers (zlib's "32 +" window bits).
_GZIP_OR_ZLIB: Final = 32 + zlib.MAX_WBITS
_DECODED_ENCODINGS: Final = frozenset({"gzip", "x-gzip", "deflate"})


class Deadline:
    """A point in time that a whole fetch (every hop, lookup and read) must finish by."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._end = time.monotonic() + seconds

    def remaining(self) -> float:
        """Seconds left; FetchTimeout once none are."""
        left = self._end - time.monotonic()
        if left <= 0:
            raise FetchTimeout(
                f"fetch took longer than {self.seconds:g} seconds", timeout_seconds=self.seconds
            )
        return left


def read_limited(response: httpx.Response, max_bytes: int, deadline: Deadline) -> bytes:
    """The decoded body of a streamed response; FetchTooLarge as soon as it exceeds max_bytes."""
    declared = response.headers.get("content-length", "").strip()
    if declared.isascii() and declared.isdecimal() and int(declared) > max_bytes:
        # Refuse before reading anything: the server has told us it is too big.
        raise _too_large(max_bytes)
    if response.is_stream_consumed:
        # A transport that hands over ready-made responses (httpx.MockTransport) has already
        # read and decoded the body; there is nothing left to stream, only to measure.
        decoder = _Decoder("identity", max_bytes)
        decoder.feed(response.content)
        return decoder.finish()
    decoder = _Decoder(response.headers.get("content-encoding", ""), max_bytes)
    for chunk in response.iter_raw():
        decoder.feed(chunk)
        # Read timeouts bound each wait; this bounds their sum, so a server dripping one byte
        # at a time cannot hold the fetch open for longer than the policy allows.
        deadline.remaining()
    return decoder.finish()


class _Decoder:
    """Accumulates body bytes, inflating gzip/deflate no further than the limit allows."""

    def __init__(self, content_encoding: str, max_bytes: int) -> None:
        encoding = content_encoding.strip().lower()
        self._max_bytes = max_bytes
        self._data = bytearray()
        self._inflater: zlib._Decompress | None = None
        if encoding in _DECODED_ENCODINGS:
            self._inflater = zlib.decompressobj(_GZIP_OR_ZLIB)
        elif encoding not in ("", "identity"):
            # We ask for identity; other codings (br, zstd, stacked codings) are not decoded.
            raise FetchFailed(
                "server sent an unsupported Content-Encoding", content_encoding=encoding[:64]
            )

    def feed(self, chunk: bytes) -> None:
        room = self._max_bytes - len(self._data)
        if self._inflater is None:
            piece = chunk
        else:
            try:
                # At most room + 1 bytes come out; the rest waits in unconsumed_tail, unread.
                piece = self._inflater.decompress(chunk, room + 1)
            except zlib.error:
                raise FetchFailed("server sent a corrupt compressed body") from None
        if len(piece) > room:
            raise _too_large(self._max_bytes)
        self._data += piece

    def finish(self) -> bytes:
        if self._inflater is not None:
            if not self._inflater.eof:
                raise FetchFailed("server sent a truncated compressed body")
            self.feed(b"")
        return bytes(self._data)


def _too_large(max_bytes: int) -> FetchTooLarge:
    return FetchTooLarge(f"content is larger than the {max_bytes}-byte limit", max_bytes=max_bytes)
