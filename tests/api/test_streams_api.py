"""Streams, incidents and cases over real HTTP on loopback.

A server watches files played as live (``BASTION_STREAM_FILES_DIR``), sends signed webhooks to a
receiver on loopback, and runs crisis mode end to end: an incident is declared, a range of one
watched stream is banked into its crisis bank, and another stream already running alerts on that
footage while an upload of it matches too. The RTMP and HLS paths are in
tests/stream/test_loopback_streams.py.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from bastion.demo.media import make_video
from bastion.runtime import Bastion
from bastion.settings import Settings
from tests.act.test_webhook import SECRET, Receiver, closed_port, receiver
from tests.api.conftest import ApiServer, serving
from tests.api.helpers import error_code, upload
from tests.signals.test_video_variants import FPS, Frames, _decode, _encode, _scaled
from tests.stream.test_watcher import SIZE, STREAM_SIZE

CLIP_SECONDS = 6.0


def _unrelated(seed: int, seconds: float) -> Frames:
    return _decode(make_video(seed, seconds=seconds, fps=FPS, size=STREAM_SIZE))


def _copy(clip: bytes) -> Frames:
    """The clip as a rebroadcast shows it: mirrored and scaled."""
    return [_scaled(rgb[:, ::-1], *STREAM_SIZE) for rgb in _decode(clip)]


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("stream-files")
    banked = make_video(201, seconds=CLIP_SECONDS, fps=FPS, size=SIZE)
    new_footage = make_video(202, seconds=CLIP_SECONDS, fps=FPS, size=SIZE)
    files = {
        "with_banked.mp4": _encode(_unrelated(203, 3.0) + _copy(banked) + _unrelated(204, 2.0)),
        "unrelated.mp4": _encode(_unrelated(205, 8.0)),
        # Crisis mode: the new footage first airs on one stream, then on another.
        "first_airing.mp4": _encode(_decode(new_footage) + _unrelated(206, 8.0)),
        "second_airing.mp4": _encode(
            _unrelated(207, 12.0) + _copy(new_footage) + _unrelated(208, 2.0)
        ),
    }
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return {"folder": folder, "banked": banked, "new_footage": new_footage}


@pytest.fixture(scope="module")
def platform() -> Iterator[Receiver]:
    with receiver() as hook:
        yield hook


@pytest.fixture(scope="module")
def server(
    media: dict[str, Any], platform: Receiver, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ApiServer]:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("api-streams"),
        stream_files_dir=media["folder"],
        stream_allow_private=True,
        stream_webhook_url=platform.url,
        stream_webhook_secret=SECRET,
        stream_webhook_allow_private=True,
        stream_reconnect_initial_seconds=0.2,
        stream_reconnect_max_seconds=0.4,
    )
    with serving(settings) as api:
        yield api


def _wait_for(check: Callable[[], Any], seconds: float = 60.0) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"not within {seconds} s")


def _start(client: httpx.Client, source: str, **fields: Any) -> dict[str, Any]:
    response = client.post("/v1/streams", json={"source": source, **fields})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def _status(client: httpx.Client, stream_id: int) -> dict[str, Any]:
    response = client.get(f"/v1/streams/{stream_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _bank_clip(client: httpx.Client, clip: bytes, bank: str) -> None:
    assert client.post("/v1/banks", json={"name": bank, "labels": ["tvec2"]}).status_code == 201
    response = upload(
        client,
        f"/v1/banks/{bank}/entries/media",
        clip,
        filename="attack.mp4",
        content_type="video/mp4",
    )
    assert response.status_code == 201, response.text


def _audit_actions(bastion: Bastion) -> list[str]:
    with bastion.db.session() as session:
        return [event.action for event in bastion.audit.list(session, limit=1000)]


def test_a_banked_clip_on_a_watched_stream_alerts_opens_a_case_and_calls_the_webhook(
    server: ApiServer, media: dict[str, Any], platform: Receiver
) -> None:
    with server.client() as client:
        _bank_clip(client, media["banked"], "attack-footage")
        unrelated = _start(client, "unrelated.mp4", name="studio-1")
        watched = _start(client, f"file://{media['folder'] / 'with_banked.mp4'}", name="studio-2")
        assert watched["state"] in ("connecting", "watching") and watched["label"]
        ended = _wait_for(lambda: _status(client, watched["id"])["state"] == "ended")
        assert ended
        status = _status(client, watched["id"])
        assert status["alerts"] == 1 and status["error"] is None
        assert status["frames_sampled"] >= 8 and status["cpu_seconds"] > 0
        assert status["history_seconds"] is not None and status["lag_seconds"] is not None
        _wait_for(lambda: _status(client, unrelated["id"])["state"] == "ended")
        assert _status(client, unrelated["id"])["alerts"] == 0

        cases = client.get("/v1/cases", params={"kind": "stream_match"}).json()["cases"]
        [case] = [c for c in cases if c["stream_id"] == watched["id"]]
        assert case["priority"] == 95 and case["status"] == "open"
        assert case["bank"] == "attack-footage" and case["labels"] == ["tvec2"]
        assert case["details"]["first_frame_seconds"] >= 2.0
        [image_id] = case["evidence_image_ids"]
        image = client.get(f"/v1/cases/{case['id']}/images/{image_id}")
        assert image.status_code == 200 and image.headers["content-type"] == "image/jpeg"
        assert image.headers["cache-control"] == "private, no-store"
        picture = Image.open(io.BytesIO(image.content))
        assert picture.mode == "L" and max(picture.size) <= 320  # greyscale, small, blurred

        alerts = client.get("/v1/alerts").json()["alerts"]
        [alert] = [a for a in alerts if a["details"].get("case_id") == case["id"]]
        assert alert["kind"] == "stream_match" and alert["severity"] == "critical"

    deliveries = _wait_for(
        lambda: [d for d in platform.deliveries if d.json()["data"].get("case_id") == case["id"]]
    )
    [delivery] = deliveries
    assert delivery.verified and delivery.event == "stream.match"
    data = delivery.json()["data"]
    assert data["alert_id"] == alert["id"] and data["action"] == "cut"
    assert data["stream_id"] == watched["id"] and "thumbnail" not in data
    actions = _audit_actions(server.bastion)
    assert {"stream.start", "alert.create", "case.open", "alert.webhook"} <= set(actions)


def test_crisis_mode_banks_a_stream_range_that_other_streams_and_uploads_then_match(
    server: ApiServer, media: dict[str, Any]
) -> None:
    with server.client() as client:
        declared = client.post(
            "/v1/incidents",
            json={"name": "attack-2026-11-30", "labels": ["tvec2"], "description": "live attack"},
        )
        assert declared.status_code == 201, declared.text
        incident = declared.json()
        assert incident["bank"] == "crisis-attack-2026-11-30" and incident["status"] == "active"

        first = _start(client, "first_airing.mp4", incident_id=incident["id"])
        second = _start(client, "second_airing.mp4", incident_id=incident["id"])
        # The analyst waits until the first stream has shown the footage, then banks it.
        _wait_for(lambda: (_status(client, first["id"])["history_seconds"] or [0, 0])[1] >= 6.0)
        banked = client.post(
            f"/v1/streams/{first['id']}/bank",
            json={"incident_id": incident["id"], "start": "00:00", "end": "00:06"},
        )
        assert banked.status_code == 201, banked.text
        assert banked.json()["bank"] == incident["bank"] and len(banked.json()["entry_ids"]) == 1
        assert _status(client, second["id"])["alerts"] == 0  # the footage is yet to air there

        def incident_cases() -> list[dict[str, Any]]:
            found = client.get("/v1/cases", params={"incident_id": incident["id"]}).json()
            return [c for c in found["cases"] if c["stream_id"] == second["id"]]

        [case] = _wait_for(incident_cases)
        assert case["bank"] == incident["bank"] and case["priority"] == 95
        assert case["details"]["first_frame_seconds"] >= 11.0  # where the footage airs

        # An upload of the footage matches the crisis bank too.
        scanned = upload(
            client, "/v1/scan", media["new_footage"], filename="copy.mp4", content_type="video/mp4"
        )
        assert scanned.status_code == 200, scanned.text
        assert any(m["bank"] == incident["bank"] for m in scanned.json()["matches"])

        summary = client.get(f"/v1/incidents/{incident['id']}").json()
        assert summary["bank_entries"] == 1 and summary["open_cases"] >= 1
        closed = client.post(f"/v1/incidents/{incident['id']}/close").json()
        assert closed["status"] == "closed" and closed["closed_by"]
        late = client.post(
            f"/v1/streams/{first['id']}/bank",
            json={"incident_id": incident["id"], "start": "0", "end": "5"},
        )
        assert late.status_code == 409 and error_code(late) == "incident_closed"
    actions = _audit_actions(server.bastion)
    assert {"incident.declare", "stream.bank_range", "incident.close"} <= set(actions)


def test_a_lost_source_is_retried_with_back_off_and_reported_without_its_key(
    server: ApiServer,
) -> None:
    with server.client() as client:
        source = f"rtmp://127.0.0.1:{closed_port()}/live/stream?key=hunter2-stream-key"
        started = _start(client, source, name="dropped")
        assert "hunter2" not in str(started)
        status = _wait_for(lambda: (s := _status(client, started["id"]))["reconnects"] >= 2 and s)
        assert status["state"] in ("reconnecting", "connecting")
        assert status["error"]["code"] == "fetch_failed"
        assert "hunter2" not in str(status)
        listed = client.get("/v1/streams").json()["streams"]
        assert started["id"] in [s["id"] for s in listed]
        stopped = client.post(f"/v1/streams/{started['id']}/stop")
        assert stopped.status_code == 200 and stopped.json()["state"] == "stopped"
        assert stopped.json()["desired_state"] == "stopped"
        assert started["id"] not in [s["id"] for s in client.get("/v1/streams").json()["streams"]]


def test_sources_the_api_must_not_open_are_refused(
    server: ApiServer, api: ApiServer, tmp_path: Path
) -> None:
    outside = tmp_path / "outside.mp4"
    outside.write_bytes(b"x")
    with server.client() as client:
        for source in (str(outside), "../outside.mp4", "ftp://example.org/x", "gopher://h/"):
            refused = client.post("/v1/streams", json={"source": source})
            assert refused.status_code == 422 and error_code(refused) == "url_blocked", source
        bad = client.post("/v1/streams", json={"source": "unrelated.mp4", "rate": 0})
        assert bad.status_code == 422
    # The shared server keeps the default policy: no private addresses, no files.
    with api.client() as client:
        for source in ("rtmp://127.0.0.1/live/x", "http://10.0.0.8/s.m3u8", "clip.mp4"):
            refused = client.post("/v1/streams", json={"source": source})
            assert refused.status_code == 422 and error_code(refused) == "url_blocked", source


def test_stream_endpoints_need_their_scopes(server: ApiServer) -> None:
    reader = server.make_key("streams:read")
    with server.client(reader) as client:
        assert client.get("/v1/streams").status_code == 200
        assert client.get("/v1/incidents").status_code == 200
        denied = client.post("/v1/streams", json={"source": "unrelated.mp4"})
        assert (
            denied.status_code == 403
            and denied.json()["error"]["required_scope"] == "streams:write"
        )
        assert client.post("/v1/incidents", json={"name": "x"}).status_code == 403
        assert client.get("/v1/cases").status_code == 403
    streams_only = server.make_key("streams:write")
    with server.client(streams_only) as client:
        banking = client.post("/v1/streams/1/bank", json={"bank": "b", "start": "0", "end": "9"})
        assert (
            banking.status_code == 403
            and banking.json()["error"]["required_scope"] == "banks:write"
        )
    with server.client("") as anonymous:
        for path in ("/v1/streams", "/v1/incidents", "/v1/cases", "/v1/cases/1/images/1"):
            assert anonymous.get(path).status_code == 401


def test_bad_requests_get_stable_codes(server: ApiServer) -> None:
    with server.client() as client:
        assert error_code(client.get("/v1/streams/999999")) == "stream_not_found"
        assert error_code(client.post("/v1/streams/999999/stop")) == "stream_not_found"
        assert error_code(client.get("/v1/cases/999999")) == "case_not_found"
        assert error_code(client.get("/v1/cases/999999/images/1")) == "case_not_found"
        assert error_code(client.get("/v1/incidents/999999")) == "incident_not_found"
        unknown = client.post(
            "/v1/streams/999999/bank", json={"bank": "x", "start": "0", "end": "9"}
        )
        assert unknown.status_code == 404 and error_code(unknown) == "stream_not_found"
        for start, end in (("aa:bb", "1"), ("00:10", "00:05"), ("1:75:00", "2:00:00")):
            bad = client.post("/v1/streams/1/bank", json={"bank": "x", "start": start, "end": end})
            assert bad.status_code in (400, 404), (start, end)
        neither = client.post("/v1/streams/1/bank", json={"start": "0", "end": "9"})
        assert neither.status_code == 400 and error_code(neither) == "invalid_input"
        assert client.post("/v1/incidents", json={"name": "../etc"}).status_code == 400
        first = client.post("/v1/incidents", json={"name": "dup-incident"})
        assert first.status_code == 201
        again = client.post("/v1/incidents", json={"name": "dup-incident"})
        assert again.status_code == 409 and error_code(again) == "incident_exists"
        severity = client.post("/v1/incidents", json={"name": "sev", "severity": "apocalyptic"})
        assert severity.status_code == 400


def test_streams_marked_watching_are_resumed_by_a_restarted_process(
    media: dict[str, Any], tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path, stream_files_dir=media["folder"])
    first = Bastion.from_settings(settings)
    try:
        started = first.streams.start("unrelated.mp4", actor="test")
        stopped = first.streams.start("with_banked.mp4", actor="test")
        first.streams.stop(stopped.id, actor="test")
    finally:
        first.close()  # the process goes away; its rows stay
    second = Bastion.from_settings(settings)
    try:
        assert second.streams.status(started.id).state == "not_running"
        assert second.streams.resume() == [started.id]
        assert second.streams.status(started.id).state in ("connecting", "watching", "ended")
        assert second.streams.status(stopped.id).state == "stopped"
    finally:
        second.close()
