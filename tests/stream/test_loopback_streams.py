"""``bastion watch`` on real live streams over loopback: RTMP through a private nginx-rtmp and HLS
over HTTP, published in real time by ffmpeg, alerts sent to a real webhook receiver.

A banked clip is rebroadcast in the middle of unrelated footage - mirrored, scaled, with a logo in
a corner, re-encoded twice (into the file, then by the publisher) - and must give one alert and
one correctly signed ``stream.match`` webhook call; unrelated footage must give neither; a stream
key in the URL's query must never leave the process. Only correctness is asserted: latencies are
printed (``pytest -s``) and measured by ``bench/stream_latency.py``.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from bastion.stream.alerting import stream_label
from tests.stream import loopback
from tests.stream.loopback import (
    BROKE_OFF,
    WatchRun,
    WebhookReceiver,
    finish,
    hls_stream,
    publish_rtmp,
    rtmp_server,
    watch_cli,
    webhook_receiver,
)

pytestmark = pytest.mark.usefixtures("loopback_tools")

BEFORE, AFTER = 6.0, 3.0  # unrelated seconds around the 8 s clip
STREAM_KEY = "studio7"
QUERY_SECRET = "k3y-9f2d77c1"  # a stream key as platforms pass it: nginx ignores the query
MAX_SECONDS = 60.0  # a safety bound in stream time: the streams last under 20 s
TIMEOUT = 120.0  # wall seconds before a stuck watcher is killed and the test fails


@pytest.fixture(scope="module")
def videos(clip: bytes, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("live")
    files = {
        "with_clip": loopback.stream_video(clip, before=BEFORE, after=AFTER),
        "unrelated": loopback.stream_video(None, before=12.0, after=0.0, seed=74),
    }
    for name, data in files.items():
        (folder / f"{name}.mp4").write_bytes(data)
    return {name: folder / f"{name}.mp4" for name in files}


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def banked(data_dir: Path, clip: bytes) -> int:
    return loopback.bank_clip(data_dir, clip)


@dataclass(frozen=True)
class Live:
    run: WatchRun
    label: str  # the stream as Bastion must name it: no query
    published: float  # time.time() when the publisher started


def _watch_rtmp(video: Path, data_dir: Path, hook: WebhookReceiver | None) -> Live:
    """Publish ``video`` live to a private nginx while ``bastion watch`` plays it (with a key in
    the query)."""
    with rtmp_server() as server:
        url = f"{server.url(STREAM_KEY)}?key={QUERY_SECRET}"
        with watch_cli([url], data_dir, webhook=hook, max_seconds=MAX_SECONDS) as watcher:
            # The watcher is playing before the broadcast starts, as it would be on a platform.
            assert server.wait_for_player(STREAM_KEY), server.log()
            with publish_rtmp(video, server.url(STREAM_KEY)) as publisher:
                assert publisher.wait(TIMEOUT) == 0, publisher.errors()
                # nginx keeps an idle player connected: the watcher ends at its read timeout.
                run = finish(watcher, TIMEOUT)
        return Live(run, stream_label(server.url(STREAM_KEY)), publisher.started)


def _watch_hls(video: Path, data_dir: Path, hook: WebhookReceiver | None) -> Live:
    with hls_stream(video, data_dir.parent / "hls") as (publisher, playlist):
        url = f"{playlist}?key={QUERY_SECRET}"
        with watch_cli([url], data_dir, webhook=hook, max_seconds=MAX_SECONDS) as watcher:
            assert publisher.wait(TIMEOUT) == 0, publisher.errors()
            run = finish(watcher, TIMEOUT)  # the playlist's end tag ends the stream
        return Live(run, stream_label(playlist), publisher.started)


def _assert_one_signed_alert(live: Live, hook: WebhookReceiver, entry_id: int) -> None:
    run, label = live.run, live.label
    assert run.exit_code == 1, run.stderr
    assert "Traceback" not in run.stderr
    [alert] = run.of("alert")
    assert (alert["entry_id"], alert["signal_type"], alert["bank"]) == (entry_id, "vpdq", "tvec")
    assert alert["stream"] == label and alert["action"] == "cut" and not alert["review_only"]
    # The clip starts BEFORE seconds into the broadcast. An RTMP watcher plays from its first
    # frame; an HLS one joins a live playlist a few segments from its end (stream time 0 there).
    earliest = BEFORE - 1.0 if live.label.startswith("rtmp:") else 0.0
    assert earliest <= alert["first_frame_seconds"] < BEFORE + 8.0
    assert alert["first_frame_seconds"] < alert["fired_seconds"] < BEFORE + 8.0
    assert alert["frames"] >= 3 and alert["latency_seconds"] >= 0
    [status] = run.of("status")
    assert status["stream"] == label and status["alerts"] == 1
    # The publisher stopping ends the broadcast; an RTMP watcher may see it break off instead
    # (nginx keeps it connected until its read timeout) and give up after failed reconnections.
    assert status["state"] in {"ended", "failed"}
    assert status["error"] is None or status["error"]["code"] in BROKE_OFF
    [call] = hook.calls
    assert call.verified and call.event == "stream.match" and call.path == "/hooks/stream"
    body = call.json()
    assert body["event"] == "stream.match"
    data = body["data"]
    assert (data["entry_id"], data["signal_type"], data["action"]) == (entry_id, "vpdq", "cut")
    assert data["stream"] == label and data["bank"] == "tvec"
    assert data["first_frame_seconds"] == alert["first_frame_seconds"]
    assert QUERY_SECRET not in run.stdout + run.stderr
    assert QUERY_SECRET.encode() not in call.body
    assert loopback.WEBHOOK_SECRET not in run.stdout + run.stderr
    print(
        f"\n{label}: clip on air at {data['first_frame_seconds']:.1f} s, alert after "
        f"{alert['latency_seconds']:.2f} s, webhook at "
        f"{call.arrived - live.published:.2f} s after the publisher started"
    )


def _stored_alerts(data_dir: Path) -> str:
    """``bastion alerts list --format json``: what an operator sees afterwards."""
    result = subprocess.run(
        [*loopback.bastion_command(), "alerts", "list", "--format", "json"],
        env=loopback.watch_env(data_dir, None),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout


def test_rtmp_stream_with_the_banked_clip_alerts_and_signs_the_webhook(
    banked: int, videos: dict[str, Path], data_dir: Path
) -> None:
    with webhook_receiver() as hook:
        live = _watch_rtmp(videos["with_clip"], data_dir, hook)
    _assert_one_signed_alert(live, hook, banked)
    stored = _stored_alerts(data_dir)
    assert "stream_match" in stored and live.label in stored and QUERY_SECRET not in stored


def test_hls_stream_with_the_banked_clip_alerts_and_signs_the_webhook(
    banked: int, videos: dict[str, Path], data_dir: Path
) -> None:
    with webhook_receiver() as hook:
        live = _watch_hls(videos["with_clip"], data_dir, hook)
    _assert_one_signed_alert(live, hook, banked)
    stored = _stored_alerts(data_dir)
    assert "stream_match" in stored and QUERY_SECRET not in stored


def test_unrelated_live_footage_raises_no_alert_and_no_webhook(
    banked: int, videos: dict[str, Path], data_dir: Path
) -> None:
    with webhook_receiver() as hook:
        live = _watch_rtmp(videos["unrelated"], data_dir, hook)
    run, label = live.run, live.label
    assert run.exit_code in {0, 2}, run.stderr  # 2: given up after the broadcast stopped
    assert run.of("alert") == [] and hook.calls == []
    [status] = run.of("status")
    assert status["stream"] == label and status["state"] == "ended"
    assert status["alerts"] == 0 and status["frames_sampled"] >= 8
    assert status["error"] is None or status["error"]["code"] in BROKE_OFF
    assert QUERY_SECRET not in run.stdout + run.stderr
