"""Streams in protocols PyAV's bundled FFmpeg lacks (``srt://``), through the system's ``ffmpeg``.

The wheel's FFmpeg reads RTMP, RTSP, HTTP(S) and HLS but was built without libsrt; Debian's
``ffmpeg`` has it. For such a URL an ``ffmpeg`` process connects, copies the first video stream
without re-encoding (audio is not needed) into MPEG-TS on its standard output, and PyAV demuxes
and decodes that pipe like any other stream::

    ffmpeg -nostdin -hide_banner -loglevel error -analyzeduration 1M [-timeout US] -i URL
           -map 0:v:0 -c copy -f mpegts -flush_packets 1 pipe:1

``-analyzeduration 1M`` starts the copy after 1 s of probing instead of 5 (every frame of
the probe would reach the watcher late); ``-flush_packets 1`` hands each packet over at once (a
low-bitrate stream would otherwise wait for 32 KB to fill the pipe's buffer); ``-timeout`` (SRT:
microseconds) ends the relay when the sender goes silent, and connecting gives up after libsrt's
3 s. A watchdog kills the process if
no video has arrived ``open_timeout`` seconds after starting it, so opening never hangs.

Failures are :class:`bastion.errors.BastionError`: ``ConfigurationError`` when ``ffmpeg`` is not
installed, ``FetchFailed`` with the end of ffmpeg's error output when it cannot connect or read,
``VideoNoStream`` when the stream carries no video. Stream URLs carry keys (``streamid=...``,
``passphrase=...``, ``user:pass@``), and ffmpeg repeats the URL in its errors: every message is
scrubbed of the URL's credentials, query and fragment before it goes anywhere.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import IO
from urllib.parse import parse_qsl, unquote, urlsplit

import av
from av.container import InputContainer

from bastion.errors import ConfigurationError, FetchFailed, VideoNoStream
from bastion.signals.video import DECODE_ERRORS

# URL schemes always relayed: PyAV's FFmpeg has no such protocol. Others are relayed only when
# PyAV reports that it lacks the protocol (see ``bastion.stream.source.open_source``).
RELAYED_SCHEMES = frozenset({"srt"})
# Network protocols that may be relayed when PyAV lacks them; never local ones (file, pipe,
# concat, subfile, ...): a stream URL must not become a way to read the server's files.
RELAYABLE_SCHEMES = RELAYED_SCHEMES | frozenset(
    {"rist", "rtmp", "rtmpe", "rtmps", "rtmpt", "rtmpte", "rtmpts", "rtsp", "rtsps", "rtp"}
    | {"udp", "tcp", "tls", "http", "https", "mmsh", "mmst", "ftp", "sftp", "zmq", "amqp"}
)
OPEN_TIMEOUT = 15.0  # seconds from starting ffmpeg to the first video, at most
READ_TIMEOUT = 10.0  # seconds a connected sender may stay silent before the relay ends
_STDERR_LINES = 20  # the end of ffmpeg's error output kept for messages
_SUMMARY_CHARS = 500


def scheme(target: str) -> str:
    return target.split("://", 1)[0].lower() if "://" in target else ""


def needs_relay(target: str) -> bool:
    """Whether ``target`` is a URL that PyAV cannot open itself."""
    return scheme(target) in RELAYED_SCHEMES


def scrub(text: str, url: str) -> str:
    """``text`` without ``url``'s secrets: the URL becomes its label (no credentials, query or
    fragment) and any credential or query value met elsewhere in the text becomes ``***``."""
    # Imported here: alerting imports the watcher, which imports the source and so this module.
    from bastion.stream.alerting import stream_label

    text = text.replace(url, stream_label(url))
    secrets: set[str] = set()
    try:
        parts = urlsplit(url)
        secrets.update(s for s in (parts.username, parts.password) if s)
        secrets.update(s for s in (parts.query, parts.fragment) if s)
        for _key, value in parse_qsl(parts.query, keep_blank_values=True):
            secrets.update(s for s in (value, unquote(value)) if s)
    except ValueError:
        pass
    # Longest first, so a whole query goes before a value inside it.
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) >= 3:  # "1" or "on" would mangle the message and hide nothing
            text = text.replace(secret, "***")
    return text


class _Pipe:
    """The relay's stdout as PyAV wants a file: ``read`` only (so not seekable), returning what
    the pipe has instead of waiting for a full buffer."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw

    def read(self, size: int) -> bytes:
        return self._raw.read(size) or b""


@dataclass
class Relay:
    """A running ``ffmpeg`` relay and the container PyAV opened on its output."""

    url: str
    process: subprocess.Popen[bytes]
    container: InputContainer
    _stderr: deque[str] = field(default_factory=deque)

    def errors(self) -> str:
        """The end of ffmpeg's error output so far, scrubbed of the URL's secrets."""
        return _summary(self._stderr, self.url)

    def close(self) -> None:
        """Stop ffmpeg (it may be waiting on the network) and release the pipe."""
        _stop(self.process)


def _summary(lines: deque[str], url: str) -> str:
    text = " | ".join(line.strip() for line in list(lines) if line.strip())
    text = scrub(text, url)
    return text[-_SUMMARY_CHARS:] if text else "no error output"


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.kill()
    with contextlib.suppress(subprocess.TimeoutExpired):  # a killed process exits at once
        process.wait(timeout=5.0)
    if process.stdout is not None:
        process.stdout.close()


def _drain(stream: IO[bytes], lines: deque[str]) -> None:
    """Keep the last lines of ffmpeg's stderr (and never let the pipe fill and block it)."""
    for raw in iter(stream.readline, b""):
        lines.append(raw.decode("utf-8", "replace"))
    stream.close()


def relay_command(url: str, ffmpeg: str = "ffmpeg") -> list[str]:
    # ffmpeg probes 5 s of input by default before it writes anything: 1 s finds the video.
    command = [ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-analyzeduration", "1M"]
    if scheme(url) == "srt":
        command += ["-timeout", str(round(READ_TIMEOUT * 1_000_000))]
    # The first video stream only, copied: ffmpeg decodes nothing.
    output = ["-map", "0:v:0", "-c", "copy", "-f", "mpegts", "-flush_packets", "1", "pipe:1"]
    return [*command, "-i", url, *output]


def open_relay(
    url: str,
    *,
    options: Mapping[str, str] | None = None,
    ffmpeg: str = "ffmpeg",
    open_timeout: float = OPEN_TIMEOUT,
) -> Relay:
    """Start ``ffmpeg`` on ``url`` and open its output with PyAV (``options`` as for
    ``av.open``). Returns once the stream's video is known; ``Relay.close`` stops ffmpeg."""
    program = shutil.which(ffmpeg)
    label = scrub(url, url)
    if program is None:
        raise ConfigurationError(
            f"{label}: {scheme(url)}:// streams are read through the ffmpeg program, which is "
            "not installed (Debian/Ubuntu: apt-get install ffmpeg; scripts/install.sh does it)"
        )
    lines: deque[str] = deque(maxlen=_STDERR_LINES)
    process = subprocess.Popen(  # noqa: S603 - an argument list (no shell), URL after -i
        relay_command(url, program),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        bufsize=0,
    )
    assert process.stdout is not None and process.stderr is not None
    drainer = threading.Thread(
        target=_drain, args=(process.stderr, lines), name="ffmpeg-relay-stderr", daemon=True
    )
    drainer.start()
    timed_out = threading.Event()

    def expire() -> None:
        timed_out.set()
        process.kill()  # the pipe ends, so PyAV's blocked read returns

    watchdog = threading.Timer(open_timeout, expire)
    watchdog.daemon = True
    watchdog.start()
    try:
        container = av.open(
            _Pipe(process.stdout), "r", format="mpegts", options=dict(options or {})
        )
    except DECODE_ERRORS as exc:
        watchdog.cancel()
        _stop(process)
        drainer.join(timeout=2.0)
        summary = _summary(lines, url)
        if "matches no streams" in summary:
            raise VideoNoStream(f"{label}: the stream has no video") from None
        if timed_out.is_set():
            raise FetchFailed(
                f"{label}: no video arrived within {open_timeout:g} s ({summary})"
            ) from None
        detail = summary if lines else scrub(str(exc), url)
        raise FetchFailed(f"{label}: the stream could not be opened: {detail}") from None
    except BaseException:
        watchdog.cancel()
        _stop(process)
        raise
    watchdog.cancel()
    if timed_out.is_set():  # it fired just as the container opened: the pipe is gone
        container.close()
        _stop(process)
        raise FetchFailed(f"{label}: no video arrived within {open_timeout:g} s")
    return Relay(url, process, container, lines)
