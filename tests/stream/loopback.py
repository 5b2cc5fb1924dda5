"""Real live streams on loopback for the watcher's end-to-end tests and the latency benchmark.

* :func:`rtmp_server`: a private nginx with the RTMP module on a free loopback port (application
  ``live``), its config, pid file and logs in a temporary folder; stopped (and waited for) on exit.
* :func:`publish_rtmp`: ffmpeg pushing a video file to it in real time (``-re``), as an encoder
  would (libx264, veryfast, zerolatency, a keyframe every 30 frames).
* :func:`hls_stream`: ffmpeg writing a live HLS playlist (1 s segments, 6 listed, old ones
  deleted) into a folder served by :func:`http_folder`, a threaded HTTP server on loopback.
* :func:`webhook_receiver`: a platform's webhook endpoint on loopback that records every POST with
  its arrival time and whether its HMAC signature verifies.
* :func:`watch_cli`: ``bastion watch`` as a subprocess, as an operator runs it.

Everything is a context manager that kills and reaps what it started, also when the test fails,
so no nginx or ffmpeg outlives a test. Missing tools (ffmpeg, nginx, the RTMP module) skip the
test with the reason, except in CI, where they fail it (``scripts/install.sh`` installs them).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from http.server import BaseHTTPRequestHandler, SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageDraw

from bastion.act.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify_signature
from bastion.banks.from_media import entries_from_extraction
from bastion.demo.media import make_photo
from bastion.runtime import Bastion
from bastion.settings import Settings
from bastion.signals.extract import extract_signals
from tests.signals.test_video_variants import FPS, Frames, _decode, _encode, _scaled

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
RTMP_MODULE = Path("/usr/lib/nginx/modules/ngx_rtmp_module.so")
REPO = Path(__file__).resolve().parents[2]
BASTION = REPO / ".venv" / "bin" / "bastion"
WEBHOOK_SECRET = "loopback-webhook-secret"


def missing_tools() -> list[str]:
    """What the loopback streams need and this machine lacks."""
    missing = [tool for tool in ("ffmpeg", "nginx") if shutil.which(tool) is None]
    if not RTMP_MODULE.is_file():
        missing.append(f"the nginx RTMP module ({RTMP_MODULE})")
    return missing


def require_tools() -> None:
    """Skip (fail in CI, where scripts/install.sh must have installed them) without the tools."""
    missing = missing_tools()
    if not missing:
        return
    reason = f"live stream tests need {', '.join(missing)} (scripts/install.sh installs them)"
    if IN_CI:
        pytest.fail(f"CI must run the live stream tests: {reason}")
    pytest.skip(reason)


def free_port() -> int:
    """A loopback TCP port nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _listening(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def stop_process(process: subprocess.Popen[Any], *, grace: float = 5.0) -> None:
    """Terminate ``process`` (kill it after ``grace`` seconds) and reap it; idempotent."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            process.wait(timeout=grace)
    for stream in (process.stdin, process.stdout, process.stderr):
        if stream is not None:
            with contextlib.suppress(OSError):
                stream.close()


@contextlib.contextmanager
def running(command: Sequence[str], **popen: Any) -> Iterator[subprocess.Popen[Any]]:
    """``command`` as a child process, stopped and reaped when the block ends, however it ends."""
    process = subprocess.Popen(list(command), **popen)
    try:
        yield process
    finally:
        stop_process(process)


# --- nginx-rtmp ------------------------------------------------------------------------------

_NGINX_CONF = """\
load_module {module};
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log info;
events {{ worker_connections 64; }}
rtmp {{
    server {{
        listen 127.0.0.1:{port};
        chunk_size 4096;
        application live {{
            live on;
            record off;
            allow publish 127.0.0.1;
            deny publish all;
            allow play 127.0.0.1;
            deny play all;
        }}
    }}
}}
"""


@dataclass(frozen=True)
class RtmpServer:
    port: int
    prefix: Path

    def url(self, key: str) -> str:
        return f"rtmp://127.0.0.1:{self.port}/live/{key}"

    def log(self) -> str:
        path = self.prefix / "error.log"
        return path.read_text(errors="replace") if path.is_file() else ""

    def wait_for_player(self, key: str, timeout: float = 30.0) -> bool:
        """Wait until a player asked nginx for stream ``key`` (its log says so)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if f"play: name='{key}'" in self.log():
                return True
            time.sleep(0.05)
        return False


@contextlib.contextmanager
def rtmp_server(*, attempts: int = 3) -> Iterator[RtmpServer]:
    """A private nginx-rtmp on a free loopback port, stopped when the block ends."""
    require_tools()
    with tempfile.TemporaryDirectory(prefix="bastion-nginx-") as folder:
        prefix = Path(folder)
        for attempt in range(attempts):
            port = free_port()  # another process may take it first: then try another
            conf = prefix / "nginx.conf"
            conf.write_text(_NGINX_CONF.format(module=RTMP_MODULE, prefix=prefix, port=port))
            command = ["nginx", "-p", str(prefix), "-e", str(prefix / "error.log")]
            command += ["-c", str(conf), "-g", "daemon off;"]
            with running(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) as nginx:
                deadline = time.monotonic() + 10.0
                while nginx.poll() is None and not _listening(port):
                    if time.monotonic() > deadline:
                        break
                    time.sleep(0.05)
                if nginx.poll() is None and _listening(port):
                    yield RtmpServer(port, prefix)
                    return
                stop_process(nginx)
                failure = (nginx.stderr.read() if nginx.stderr else b"").decode(errors="replace")
            if attempt == attempts - 1:
                log = (prefix / "error.log").read_text(errors="replace")
                raise RuntimeError(f"nginx-rtmp did not start: {failure}\n{log}")


# --- publishers ------------------------------------------------------------------------------

_X264 = ["-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-pix_fmt", "yuv420p"]


def ffmpeg_command(*args: str) -> list[str]:
    return ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", *args]


@contextlib.contextmanager
def publish_rtmp(video: Path, url: str, *, extra: Sequence[str] = ()) -> Iterator[Publisher]:
    """ffmpeg pushing ``video`` to ``url`` in real time; ``Publisher.started`` is the wall
    clock (time.time) when it was launched, stream time 0 give or take ffmpeg's start-up."""
    require_tools()
    command = ffmpeg_command("-re", "-i", str(video), *_X264, "-g", "30", *extra, "-f", "flv", url)
    started = time.time()
    with running(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) as process:
        yield Publisher(process, started)


@dataclass
class Publisher:
    process: subprocess.Popen[bytes]
    started: float  # time.time() at launch

    def wait(self, timeout: float) -> int:
        return self.process.wait(timeout=timeout)

    def errors(self) -> str:
        if self.process.poll() is None or self.process.stderr is None:
            return ""
        return self.process.stderr.read().decode(errors="replace")


class _QuietFiles(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-cache")  # a live playlist changes every second
        super().end_headers()


@dataclass(frozen=True)
class HttpFolder:
    folder: Path
    port: int

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{name}"


@contextlib.contextmanager
def http_folder(folder: Path) -> Iterator[HttpFolder]:
    """``folder`` served over HTTP on a free loopback port, by a thread of this process."""
    handler = partial(_QuietFiles, directory=str(folder))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield HttpFolder(folder, server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextlib.contextmanager
def hls_stream(
    video: Path, folder: Path, *, name: str = "stream.m3u8", ready_segments: int = 1
) -> Iterator[tuple[Publisher, str]]:
    """ffmpeg writing ``video`` as a live HLS stream (in real time) into ``folder``, served over
    HTTP; yields the publisher and the playlist URL once ``ready_segments`` segments are listed.
    """
    require_tools()
    folder.mkdir(parents=True, exist_ok=True)
    command = ffmpeg_command(
        "-re",
        "-i",
        str(video),
        *_X264,
        "-force_key_frames",
        "expr:gte(t,n_forced*1)",  # a keyframe a second: every segment starts on one
        "-f",
        "hls",
        "-hls_time",
        "1",
        "-hls_list_size",
        "6",
        "-hls_flags",
        "delete_segments",
        str(folder / name),
    )
    with http_folder(folder) as served:
        started = time.time()
        with running(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) as process:
            publisher = Publisher(process, started)
            playlist = folder / name
            deadline = time.monotonic() + 20.0
            while time.monotonic() < deadline and process.poll() is None:
                if playlist.is_file() and playlist.read_text().count("#EXTINF") >= ready_segments:
                    break
                time.sleep(0.05)
            else:
                raise RuntimeError(f"no HLS playlist was written: {publisher.errors()}")
            yield publisher, served.url(name)


# --- the platform's webhook ------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """One POST received: when (time.time), its headers, raw body, and whether it verified."""

    arrived: float
    path: str
    event: str
    body: bytes
    verified: bool

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class WebhookReceiver:
    url: str = ""
    calls: list[Call] = field(default_factory=list)
    arrived: threading.Event = field(default_factory=threading.Event)

    def wait(self, timeout: float) -> bool:
        return self.arrived.wait(timeout)


@contextlib.contextmanager
def webhook_receiver(secret: str = WEBHOOK_SECRET) -> Iterator[WebhookReceiver]:
    """A webhook endpoint on loopback: every POST is recorded, signature checked, answered 200."""
    state = WebhookReceiver()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            arrived = time.time()
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            verified = verify_signature(
                secret,
                self.headers.get(TIMESTAMP_HEADER, ""),
                body,
                self.headers.get(SIGNATURE_HEADER, ""),
            )
            call = Call(arrived, self.path, self.headers.get("X-Bastion-Event", ""), body, verified)
            with lock:
                state.calls.append(call)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()
            state.arrived.set()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/stream"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# --- bastion watch ---------------------------------------------------------------------------


def watch_env(data_dir: Path, webhook: WebhookReceiver | None) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("BASTION_") or key == "BASTION_TEST_POSTGRES_URL"
    }
    env.update(
        {
            "BASTION_DATA_DIR": str(data_dir),
            "BASTION_DATABASE_URL": "",
            "OMP_NUM_THREADS": "1",
            "PYTHONUNBUFFERED": "1",
        }
    )
    if webhook is not None:
        env.update(
            {
                "BASTION_STREAM_WEBHOOK_URL": webhook.url,
                "BASTION_STREAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
                "BASTION_STREAM_WEBHOOK_ALLOW_PRIVATE": "true",
                "BASTION_STREAM_WEBHOOK_RETRIES": "0",
            }
        )
    return env


def bastion_command() -> list[str]:
    if BASTION.is_file():
        return [str(BASTION)]
    return [sys.executable, "-m", "bastion.cli.main"]


@dataclass
class WatchRun:
    """A finished ``bastion watch --format json``: exit code, output, parsed JSON lines."""

    exit_code: int
    stdout: str
    stderr: str

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stdout.splitlines() if line.strip()]

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [line for line in self.lines() if line.get("type") == kind]

    def statuses(self) -> dict[str, dict[str, Any]]:
        return {line["stream"]: line for line in self.of("status")}


@contextlib.contextmanager
def watch_cli(
    sources: Sequence[str],
    data_dir: Path,
    *,
    webhook: WebhookReceiver | None = None,
    max_seconds: float = 60.0,
    extra: Sequence[str] = (),
) -> Iterator[subprocess.Popen[str]]:
    """``bastion watch SOURCES --format json --max-seconds N`` running; finish with
    :func:`finish`. Killed (never left behind) when the block ends early."""
    command = [*bastion_command(), "watch", *sources, "--format", "json"]
    command += ["--max-seconds", str(max_seconds), *extra]
    with running(
        command,
        env=watch_env(data_dir, webhook),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        yield process


def finish(process: subprocess.Popen[str], timeout: float) -> WatchRun:
    """Wait for a ``watch_cli`` process (killed if it overruns ``timeout``) and collect it."""
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        stdout, stderr = process.communicate()
        raise AssertionError(f"bastion watch overran {timeout} s:\n{stdout}\n{stderr}") from None
    return WatchRun(process.returncode, stdout, stderr)


def wait_for_output(process: subprocess.Popen[str], seconds: float) -> None:
    """Give a starting ``watch_cli`` process ``seconds`` to import and open its database."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)


# --- footage ---------------------------------------------------------------------------------

CLIP_SIZE = (480, 270)
STREAM_SIZE = (424, 240)  # the rebroadcast is scaled: not the banked clip's pixels
LOGO = (255, 40, 40)  # a broadcaster's red corner box, with its name in white


def footage(seed: int, seconds: float, size: tuple[int, int] = STREAM_SIZE) -> Frames:
    """Frames of camera footage: a new scene every 2 s, each a demo picture the camera pans and
    zooms across, so consecutive frames differ by a few PDQ bits as a real broadcast's do.

    (``make_video``'s frames change almost completely from one to the next - 50-60 bits at 15 fps -
    so a sampled frame of a copy matches a banked dense frame only when both are the very same
    frame of the clip: whether a copy is found would depend on its offset modulo a frame.)
    """
    width, height = size
    frames: Frames = []
    count = round(seconds * FPS)
    per_scene = 2 * FPS
    for scene in range(0, count, per_scene):
        with Image.open(
            io.BytesIO(make_photo(seed * 1000 + scene, size=(2 * width, 2 * height)))
        ) as im:
            picture = im.convert("RGB")
        for index in range(min(per_scene, count - scene)):
            zoom = 1.6 - 0.3 * index / per_scene  # 1.6 -> 1.3 times the frame, panning right
            w, h = width * zoom, height * zoom
            left = (2 * width - w) * (0.2 + 0.6 * index / per_scene)
            top = (2 * height - h) * 0.4
            box = (left, top, left + w, top + h)
            frames.append(np.asarray(picture.resize(size, Image.Resampling.BILINEAR, box=box)))
    return frames


def clip_video(seed: int = 71, seconds: float = 8.0) -> bytes:
    """The footage to bank: an MP4 of ``footage`` at the clip's own size."""
    return _encode(footage(seed, seconds, CLIP_SIZE))


def rebroadcast(rgb: np.ndarray) -> np.ndarray:
    """A frame of the clip as a rebroadcast shows it: mirrored, scaled, a logo in a corner."""
    frame = _scaled(np.ascontiguousarray(rgb[:, ::-1]), *STREAM_SIZE)
    picture = Image.fromarray(frame)
    draw = ImageDraw.Draw(picture)
    width = STREAM_SIZE[0]
    box = (width - 70, 8, width - 8, 30)
    draw.rectangle(box, fill=LOGO)
    draw.text((box[0] + 6, box[1] + 5), "LIVE 24", fill=(255, 255, 255))
    return np.asarray(picture)


def unrelated(seed: int, seconds: float) -> Frames:
    return footage(seed, seconds)


def stream_video(clip: bytes | None, *, before: float, after: float, seed: int = 72) -> bytes:
    """Unrelated footage, the clip as rebroadcast (when given), more unrelated footage: an MP4
    at ``FPS``, re-encoded again by the publisher on its way out."""
    frames = unrelated(seed, before)
    if clip is not None:
        frames += [rebroadcast(rgb) for rgb in _decode(clip)]
    if after > 0:
        frames += unrelated(seed + 1, after)
    return _encode(frames)


def bank_clip(data_dir: Path, clip: bytes) -> int:
    """The clip banked as a video with dense frames in ``data_dir``'s database: its entry id."""
    bastion = Bastion.from_settings(Settings(data_dir=data_dir, database_url=""))
    try:
        extraction = extract_signals(clip, filename="attack.mp4", for_bank=True)
        with bastion.db.session() as session:
            bastion.banks.create(session, name="tvec", actor="test")
            entries, _ = entries_from_extraction(extraction, source="attack.mp4")
            added = bastion.banks.add_entries(session, "tvec", entries, actor="test").added
        video = next(entry for entry in added if entry.signal_type == "vpdq")
        assert video.variants and "dense" in video.variants
        return video.id
    finally:
        bastion.close()


# How a broadcast that stopped shows in a status: an end, or the last reconnection's failure.
BROKE_OFF = {"stream_interrupted", "fetch_failed", "fetch_timeout"}
