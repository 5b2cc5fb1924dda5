"""Videos are matched against banked videos (as a whole) and banked photos (frame by frame)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from bastion.banks.records import NewEntry
from bastion.demo.media import make_photo, make_video
from bastion.runtime import Bastion
from bastion.settings import Settings
from bastion.signals.extract import extract_signals

FPS = 10
SIZE = (640, 360)


@pytest.fixture
def bastion(tmp_path: Path) -> Iterator[Bastion]:
    app = Bastion.from_settings(Settings(data_dir=tmp_path, database_url=""))
    try:
        yield app
    finally:
        app.close()


def _picture(data: bytes, size: tuple[int, int] = SIZE) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB").resize(size))


def _encode(frames: list[np.ndarray], fps: int = FPS) -> bytes:
    out = io.BytesIO()
    with av.open(out, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.height, stream.width = frames[0].shape[:2]
        stream.pix_fmt = "yuv420p"
        for pixels in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return out.getvalue()


def _decode(data: bytes) -> list[np.ndarray]:
    with av.open(io.BytesIO(data)) as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]


def _bank(bastion: Bastion, name: str, data: bytes, kind: str) -> list[int]:
    extraction = extract_signals(data, filename=f"known.{kind}")
    wanted = "pdq" if kind == "jpg" else "vpdq"
    entries = [NewEntry(s.type, s.value) for s in extraction.signals if s.type == wanted]
    with bastion.db.session() as s:
        bastion.banks.create(s, name=name, actor="test", labels=["tvec1"])
        return [e.id for e in bastion.banks.add_entries(s, name, entries, actor="test").added]


def test_a_banked_photo_shown_inside_a_video_is_found_with_its_timestamps(
    bastion: Bastion,
) -> None:
    poster = make_photo(5)
    (entry_id,) = _bank(bastion, "posters", poster, "jpg")
    other_a, other_b, shown = _picture(make_photo(6)), _picture(make_photo(7)), _picture(poster)
    frames = [other_a] * (3 * FPS) + [shown] * (3 * FPS) + [other_b] * (2 * FPS)
    result = bastion.scanner.scan_bytes(_encode(frames), name="upload.mp4")
    (match,) = [m for m in result.matches if m.bank == "posters"]
    assert match.entry_id == entry_id and match.signal_type == "pdq"
    assert match.frame_time == pytest.approx(3.0, abs=0.2)
    assert match.detail is not None and match.detail["video_frames"] >= 3
    (segment,) = match.detail["video_segments"]
    assert segment[0] == pytest.approx(3.0, abs=0.2) and segment[1] == pytest.approx(5.0, abs=0.2)
    assert "video frame" in match.reason


def test_a_banked_video_is_found_when_reencoded_scaled_and_trimmed(bastion: Bastion) -> None:
    original = make_video(11, seconds=8.0, fps=FPS, size=SIZE)
    (entry_id,) = _bank(bastion, "attack-videos", original, "mp4")
    frames = _decode(original)
    small = [np.asarray(Image.fromarray(f).resize((320, 180))) for f in frames]
    trimmed = small[2 * FPS : 7 * FPS]  # seconds 2 to 7, at half the size, encoded again
    result = bastion.scanner.scan_bytes(_encode(trimmed), name="copy.mp4")
    (match,) = [m for m in result.matches if m.signal_type == "vpdq"]
    assert match.entry_id == entry_id and result.matched
    assert match.detail is not None and match.detail["query_match_percent"] >= 80
    ((start, end),) = match.detail["bank_segments"]
    assert start == pytest.approx(2.0, abs=1.1) and end == pytest.approx(6.0, abs=1.1)


def test_an_unrelated_video_matches_nothing(bastion: Bastion) -> None:
    _bank(bastion, "attack-videos", make_video(11, seconds=6.0, fps=FPS, size=SIZE), "mp4")
    _bank(bastion, "posters", make_photo(5), "jpg")
    result = bastion.scanner.scan_bytes(make_video(12, seconds=6.0, fps=FPS, size=SIZE))
    assert result.matches == []
