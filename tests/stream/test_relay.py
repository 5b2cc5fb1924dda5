"""SRT through the system ffmpeg: a real SRT sender (an ffmpeg listening for callers) pushing
generated footage, the relay as caller; failures are stable errors without the stream key."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bastion.errors import BastionError, ConfigurationError, FetchFailed, VideoNoStream
from bastion.stream import relay
from bastion.stream.relay import needs_relay, open_relay, relay_command, scrub
from bastion.stream.source import StreamSource, open_source

KEY = "s3cr3t-stream-key-9137"


def _has_srt() -> bool:
    if shutil.which("ffmpeg") is None:
        return False
    found = subprocess.run(
        ["ffmpeg", "-hide_banner", "-protocols"], capture_output=True, text=True, check=False
    )
    return "srt" in found.stdout.split()


needs_srt = pytest.mark.skipif(not _has_srt(), reason="ffmpeg with SRT is not installed")


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _sender(port: int, source: list[str]) -> subprocess.Popen[bytes]:
    """An SRT listener that streams ``source`` (lavfi input args) in real time to its caller."""
    return subprocess.Popen(
        [
            *("ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-re", *source),
            *("-f", "mpegts", f"srt://127.0.0.1:{port}?mode=listener"),
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


VIDEO = ["-f", "lavfi", "-i", "testsrc2=size=320x180:rate=30", "-t", "30"]
VIDEO += ["-c:v", "libx264", "-preset", "ultrafast", "-g", "30", "-pix_fmt", "yuv420p"]
AUDIO_ONLY = ["-f", "lavfi", "-i", "sine=frequency=440", "-t", "30", "-c:a", "aac"]


@pytest.fixture
def srt_sender() -> Iterator[int]:
    port = _free_udp_port()
    process = _sender(port, VIDEO)
    try:
        yield port
    finally:
        process.kill()
        process.wait()


def _open_when_listening(url: str) -> StreamSource:
    """The listener takes a moment to bind its UDP port; SRT has no way to tell before."""
    deadline = time.monotonic() + 10.0
    while True:
        try:
            return open_source(url, live=False)
        except FetchFailed:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def _relay_children() -> list[int]:
    """Our child processes that are ffmpeg relays (their output is pipe:1)."""
    found = []
    for children in Path("/proc/self/task").glob("*/children"):
        for pid in children.read_text().split():
            try:
                command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"pipe:1" in command:
                found.append(int(pid))
    return found


@needs_srt
def test_frames_of_an_srt_stream_arrive_through_the_relay(srt_sender: int) -> None:
    url = f"srt://127.0.0.1:{srt_sender}?streamid={KEY}"
    started = time.monotonic()
    source = _open_when_listening(url)
    try:
        assert source.live  # a network stream: lag behind it is measured
        seen = []
        for item in source.frames():
            seen.append(item)
            if len(seen) == 60:
                break
        assert time.monotonic() - started < 15.0
        assert [item.frame.width for item in seen[:1]] == [320]
        seconds = [item.seconds for item in seen]
        assert seconds == sorted(seconds) and seconds[-1] >= 1.0
        assert _relay_children()
    finally:
        source.close()
    assert _relay_children() == []  # closing the source stopped ffmpeg


@needs_srt
def test_an_unreachable_srt_url_fails_quickly_without_its_key() -> None:
    url = f"srt://127.0.0.1:{_free_udp_port()}?streamid={KEY}"
    started = time.monotonic()
    with pytest.raises(FetchFailed) as failure:
        open_source(url, live=True)
    assert time.monotonic() - started < 10.0
    message = str(failure.value)
    assert KEY not in message and KEY not in repr(failure.value.to_dict())
    assert "srt://127.0.0.1:" in message
    assert _relay_children() == []


@needs_srt
def test_a_stream_without_video_is_video_no_stream() -> None:
    port = _free_udp_port()
    sender = _sender(port, AUDIO_ONLY)
    try:
        deadline = time.monotonic() + 10.0
        while True:
            try:
                open_source(f"srt://127.0.0.1:{port}", live=True).close()
            except VideoNoStream:
                break
            except FetchFailed:
                assert time.monotonic() < deadline
                time.sleep(0.3)
            else:
                pytest.fail("an audio-only stream opened as video")
    finally:
        sender.kill()
        sender.wait()


def test_without_ffmpeg_it_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(relay.shutil, "which", lambda name: None)
    with pytest.raises(ConfigurationError) as failure:
        open_source(f"srt://user:pw-{KEY}@example.org:9000?streamid={KEY}", live=True)
    assert failure.value.code == "configuration_error"
    assert "ffmpeg" in failure.value.detail and KEY not in str(failure.value)
    with pytest.raises(BastionError):
        open_relay("srt://example.org:9000", ffmpeg="bastion-no-such-ffmpeg")


def test_which_urls_are_relayed_and_how() -> None:
    assert needs_relay("srt://host:9000?streamid=x") and needs_relay("SRT://host:9000")
    assert not needs_relay("rtmp://host/live/key") and not needs_relay("/tmp/srt://x.mp4")
    command = relay_command("srt://host:9000", "/usr/bin/ffmpeg")
    assert command[:2] == ["/usr/bin/ffmpeg", "-nostdin"]
    output = ["-map", "0:v:0", "-c", "copy", "-f", "mpegts", "-flush_packets", "1", "pipe:1"]
    assert command[-9:] == output
    assert "-timeout" in command  # SRT reads give up when the sender goes silent


def test_a_protocol_nobody_has_is_fetch_failed_and_local_ones_are_never_relayed() -> None:
    for url in (f"nosuchproto://host/live?key={KEY}", f"subfile://x?{KEY}"):
        with pytest.raises(FetchFailed) as failure:
            open_source(url, live=True).close()
        assert KEY not in str(failure.value)


def test_scrub_removes_credentials_and_query_values() -> None:
    url = f"srt://alice:pw-{KEY}@10.0.0.7:9000/live?streamid={KEY}&latency=200"
    text = f"[srt @ 0x1] {url}: Connection refused (streamid {KEY}, user alice)"
    cleaned = scrub(text, url)
    assert KEY not in cleaned and "alice" not in cleaned
    assert "srt://10.0.0.7:9000/live: Connection refused" in cleaned
