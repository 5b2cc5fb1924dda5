"""Stream alerts reach the operator and the platform: a banked clip in a stream is recorded as an
audited critical alert and sent as exactly one signed ``stream.match`` webhook; a failed delivery
is recorded, never raised; stream keys never leave the process."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bastion.act.webhook import WEBHOOK_UNREACHABLE, WebhookAction
from bastion.demo.media import make_video
from bastion.runtime import Bastion
from bastion.stream.alerting import AlertDispatcher, stream_label
from bastion.stream.source import open_source
from bastion.stream.watcher import StreamAlert, StreamWatcher
from tests.act.test_webhook import SECRET, closed_port, loopback_webhook, receiver
from tests.signals.test_video_variants import FPS, Frames, _decode, _encode, _scaled
from tests.stream.test_watcher import BEFORE, CLIP_SECONDS, SIZE, STREAM_SIZE, _bank_video

STREAM_ALERT_FIELDS = {
    "stream",
    "entry_id",
    "signal_type",
    "first_frame_seconds",
    "fired_seconds",
    "frames",
    "best_distance",
    "latency_seconds",
    "bank",
    "review_only",
}


@pytest.fixture(scope="module")
def footage() -> tuple[bytes, bytes]:
    """A banked clip and a stream that rebroadcasts it, mirrored and scaled, between others."""
    clip = make_video(81, seconds=CLIP_SECONDS, fps=FPS, size=SIZE)

    def unrelated(seed: int, seconds: float) -> Frames:
        return _decode(make_video(seed, seconds=seconds, fps=FPS, size=STREAM_SIZE))

    copy = [_scaled(rgb[:, ::-1], *STREAM_SIZE) for rgb in _decode(clip)]
    return clip, _encode(unrelated(82, BEFORE) + copy + unrelated(83, 4.0))


def _alert(**fields: Any) -> StreamAlert:
    values: dict[str, Any] = {
        "stream": "studio-2",
        "entry_id": 42,
        "signal_type": "vpdq",
        "first_frame_seconds": 6.0,
        "fired_seconds": 8.0,
        "frames": 3,
        "best_distance": 12.0,
        "latency_seconds": 0.25,
        "bank": "tvec",
    }
    values.update(fields)
    return StreamAlert(**values)


def test_a_banked_clip_in_a_stream_is_recorded_and_sent_once(
    bastion: Bastion, footage: tuple[bytes, bytes], tmp_path: Path
) -> None:
    clip, stream = footage
    video_id = _bank_video(bastion, clip)
    path = tmp_path / "stream.mp4"
    path.write_bytes(stream)
    with receiver() as platform:
        dispatcher = AlertDispatcher(bastion, webhook=loopback_webhook(platform.url))
        with open_source(path, live=False) as source:
            assert StreamWatcher(bastion, source, on_alert=dispatcher).run() is True

    [delivery] = platform.deliveries
    assert delivery.verified and delivery.event == "stream.match"
    sent = delivery.json()
    data = sent["data"]
    assert isinstance(data, dict) and sent["event"] == "stream.match"
    assert data["entry_id"] == video_id and data["action"] == "cut" and data["bank"] == "tvec"
    assert BEFORE <= data["first_frame_seconds"] < data["fired_seconds"] < BEFORE + CLIP_SECONDS
    assert data["latency_seconds"] >= 0 and data["stream"] == str(path)

    with bastion.db.session() as session:
        [alert] = bastion.alerts.list(session)
        events = bastion.audit.list(session, target_type="alert")
        chain = bastion.audit.verify(session)
    assert (alert.kind, alert.severity, alert.entry_id, alert.bank) == (
        "stream_match",
        "critical",
        video_id,
        "tvec",
    )
    assert data["alert_id"] == alert.id
    assert str(path) in alert.summary and str(video_id) in alert.summary
    assert "tvec" in alert.summary
    assert alert.details.keys() >= STREAM_ALERT_FIELDS
    webhook = alert.details["webhook"]
    assert (webhook["status"], webhook["attempts"], webhook["error_code"]) == (200, 1, None)
    assert alert.details["webhook_latency_seconds"] >= alert.details["latency_seconds"]
    assert alert.details["webhook_latency_seconds"] >= webhook["seconds"]
    assert sorted(e.action for e in events) == ["alert.create", "alert.webhook"]
    assert chain.intact


def test_without_a_webhook_the_alert_is_still_recorded(bastion: Bastion) -> None:
    AlertDispatcher(bastion, webhook=None)(_alert(review_only=True))
    with bastion.db.session() as session:
        [alert] = bastion.alerts.list(session)
    assert alert.kind == "stream_match" and alert.entry_id == 42
    assert alert.details["action"] == "review" and alert.details["review_only"] is True
    assert "webhook" not in alert.details


def test_a_failed_delivery_is_recorded_not_raised(bastion: Bastion) -> None:
    dead = WebhookAction(
        f"http://127.0.0.1:{closed_port()}/hook",
        SECRET,
        allow_private=True,
        retries=1,
        sleep=lambda _: None,
    )
    AlertDispatcher(bastion, webhook=dead)(_alert())
    with bastion.db.session() as session:
        [alert] = bastion.alerts.list(session)
        [event] = bastion.audit.list(session, action="alert.webhook")
    assert alert.details["webhook"]["error_code"] == WEBHOOK_UNREACHABLE
    assert alert.details["webhook"]["attempts"] == 2
    assert alert.details["webhook_latency_seconds"] is None
    assert event.details["error_code"] == WEBHOOK_UNREACHABLE


def test_stream_keys_are_not_stored_or_sent(bastion: Bastion) -> None:
    with receiver() as platform:
        dispatcher = AlertDispatcher(bastion, webhook=loopback_webhook(platform.url))
        dispatcher(_alert(stream="rtmp://user:pw@live.example.org:1935/app/stream?key=SECRETKEY"))
    [delivery] = platform.deliveries
    assert b"SECRETKEY" not in delivery.body and b"pw@" not in delivery.body
    with bastion.db.session() as session:
        [alert] = bastion.alerts.list(session)
    assert alert.details["stream"] == stream_label("rtmp://live.example.org:1935/app/stream")
    assert alert.details["stream"].startswith("rtmp://live.example.org:1935/app/key-")
    assert "SECRETKEY" not in alert.summary


@pytest.mark.parametrize(
    ("name", "label"),
    [
        ("/var/streams/a.mp4", "/var/streams/a.mp4"),
        ("studio-2", "studio-2"),
        ("https://cdn.example.org/live.m3u8?token=x#t", "https://cdn.example.org/live.m3u8"),
        ("rtmp://u:p@[2001:db8::1]:1935/app", "rtmp://[2001:db8::1]:1935/app"),
        ("rtmp://host:99999/app", "(unparsable stream URL)"),
        ("rtmp://media/live/s3cr3t-key", "rtmp://media/live/key-99ab9660"),
        ("rtmps://media/live/a/b?x=1", "rtmps://media/live/key-c14cddc0"),
        ("rtsp://cam.example.org/live/s3cr3t-key", "rtsp://cam.example.org/live/s3cr3t-key"),
    ],
)
def test_stream_label(name: str, label: str) -> None:
    assert stream_label(name) == label
    assert stream_label(label) == label  # labelling twice changes nothing
