"""Optional OCR of stream frames: a banked text shown on screen raises one review alert and case
per stream (never a cut), the reader never blocks a watcher, and with OCR off nothing is read."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from bastion.banks.from_media import entries_from_extraction
from bastion.demo.media import make_video
from bastion.runtime import Bastion
from bastion.signals.extract import text_extraction
from bastion.storage.models import AlertRow, CaseRow
from bastion.stream.alerting import AlertDispatcher
from bastion.stream.frame_text import FrameText, FrameTextReader
from bastion.stream.source import open_source
from bastion.stream.watcher import StreamWatcher
from tests.signals.test_ocr import draw, needs_tesseract
from tests.signals.test_video_variants import FPS, _decode, _encode, _scaled

BANKED_TEXT = "Brothers rise and join the caravan of martyrs tonight"
SIZE = (960, 540)


def _bank_text(bastion: Bastion) -> list[int]:
    entries, _ = entries_from_extraction(
        text_extraction(BANKED_TEXT),
        source="test",
        labels=["tvec3"],
        signal_types=("text_sha256", "text_minhash", "text_shingles"),
    )
    with bastion.db.session() as session:
        bastion.banks.create(session, name="slogans", actor="test")
        added = bastion.banks.add_entries(session, "slogans", entries, actor="test").added
    return [entry.id for entry in added]


def _stream_with_caption(path: Path) -> Path:
    before = _decode(make_video(301, seconds=3.0, fps=FPS, size=SIZE))
    caption = draw(["Brothers rise and join the", "caravan of martyrs tonight"], size=SIZE)
    held = [np.ascontiguousarray(caption)] * int(6 * FPS)  # on screen for 6 s
    after = [_scaled(f, *SIZE) for f in _decode(make_video(302, seconds=2.0, fps=FPS, size=SIZE))]
    path.write_bytes(_encode(before + held + after))
    return path


@needs_tesseract
def test_banked_text_on_screen_raises_one_review_alert_and_case(
    bastion: Bastion, tmp_path: Path
) -> None:
    entry_ids = _bank_text(bastion)
    dispatcher = AlertDispatcher(bastion, webhook=None)
    found: list[FrameText] = []

    def on_finding(item: FrameText) -> None:
        found.append(item)
        dispatcher.text_finding(item)

    reader = FrameTextReader(bastion, on_finding=on_finding)
    source = open_source(_stream_with_caption(tmp_path / "s.mp4"), live=False)
    watcher = StreamWatcher(
        bastion,
        source,
        on_alert=lambda alert: None,
        text_reader=reader,
        text_every_seconds=2.0,
        stream_id=7,
        name="rtmp://media/live/studio?key=secret",
    )
    # Read as fast as it decodes: the reader may drop frames it cannot take in time, so the
    # watcher is slowed here to one stream second per call to let every submitted frame in.
    submitted = 0
    while not watcher.run(max_seconds=1.0):
        submitted = reader.read + reader.failed + reader.dropped
        time.sleep(0.3)
    reader.close()  # reads what is queued, then stops
    assert reader.failed == 0
    assert len(found) == 1, [f.text for f in found]  # the caption stayed up: reported once
    [item] = found
    assert 3.0 <= item.seconds <= 9.0 and any(k.startswith("entry:") for k in item.findings)
    assert {int(k.split(":")[1]) for k in item.findings if k.startswith("entry:")} <= set(entry_ids)
    with bastion.db.session() as session:
        [alert] = session.query(AlertRow).filter(AlertRow.kind == "stream_text").all()
        [case] = session.query(CaseRow).filter(CaseRow.kind == "stream_text").all()
        assert alert.details["action"] == "review" and "secret" not in str(alert.details)
        assert case.priority == 60 and case.labels == ["tvec3"] and case.stream_id is None
        assert case.details["matches"][0]["bank"] == "slogans"
    assert submitted >= 1


def test_with_ocr_off_no_frame_is_read(bastion: Bastion, tmp_path: Path) -> None:
    reader = FrameTextReader(bastion, on_finding=lambda item: pytest.fail("read a frame"))
    source = open_source(_stream_with_caption(tmp_path / "s.mp4"), live=False)
    watcher = StreamWatcher(bastion, source, on_alert=lambda alert: None, text_reader=reader)
    watcher.run()
    reader.close()
    assert reader.read == reader.dropped == 0


def test_a_donation_qr_code_on_screen_is_screened(bastion: Bastion, tmp_path: Path) -> None:
    """A broadcast shows a QR code of a sanctioned wallet: the reader decodes it (no OCR needed),
    the wallet hits the list, and one review alert and case follow, whatever the frames repeat."""
    import zxingcpp
    from av.video.frame import VideoFrame
    from PIL import Image

    from tests.finance.samples import ENTITY_UID, SDN_XML, WALLET

    path = tmp_path / "sdn.xml"
    path.write_text(SDN_XML, encoding="utf-8")
    with bastion.db.session() as session:
        bastion.sanctions.import_file(session, path, actor="test")
    barcode = zxingcpp.create_barcode(f"bitcoin:{WALLET}", zxingcpp.BarcodeFormat.QRCode)
    code = Image.fromarray(np.array(zxingcpp.write_barcode_to_image(barcode, scale=8)))
    screen = Image.new("RGB", SIZE, (30, 30, 60))
    screen.paste(code.convert("RGB"), (600, 100))
    frame = VideoFrame.from_ndarray(np.asarray(screen), format="rgb24")
    dispatcher = AlertDispatcher(bastion, webhook=None)
    found: list[FrameText] = []

    def on_finding(item: FrameText) -> None:
        found.append(item)
        dispatcher.text_finding(item)

    reader = FrameTextReader(bastion, on_finding=on_finding)
    for second in (1.0, 3.0):
        assert reader.submit(5, "rtmp://media/live/appeal", second, frame)
    reader.close()
    [finding] = found
    assert any(key.startswith("sanctions:") for key in finding.findings)
    assert finding.result.finance is not None
    assert finding.result.finance.wallet_hits[0].external_id == ENTITY_UID
    with bastion.db.session() as session:
        alerts = session.query(AlertRow).filter(AlertRow.kind == "stream_text").all()
        cases = session.query(CaseRow).filter(CaseRow.kind == "stream_text").all()
    assert len(alerts) == 1 and len(cases) == 1
    assert "sanctions:" in cases[0].title
