"""A video's soundtrack is banked with it and found again in a re-recorded, trimmed copy."""

from __future__ import annotations

import pytest

from bastion.banks.from_media import entries_from_extraction
from bastion.runtime import Bastion
from bastion.signals.extract import extract_signals
from tests.conftest import needs_chromaprint
from tests.signals.test_audio import RATE, encode_audio, synth_music

pytestmark = needs_chromaprint


@pytest.fixture(scope="module")
def soundtrack_videos() -> tuple[bytes, bytes, bytes]:
    """(banked video, screen recording of its seconds 5-30 re-encoded, unrelated video)."""
    track = synth_music(1, 30.0)
    banked = encode_audio(track, "aac", "mp4", bit_rate=128_000, video=True)
    recording = encode_audio(track[5 * RATE :], "aac", "mp4", bit_rate=64_000, video=True)
    unrelated = encode_audio(synth_music(2, 25.0), "aac", "mp4", bit_rate=96_000, video=True)
    return banked, recording, unrelated


def test_a_recording_with_the_original_soundtrack_matches_by_audio(
    bastion: Bastion, soundtrack_videos: tuple[bytes, bytes, bytes]
) -> None:
    banked, recording, unrelated = soundtrack_videos
    bastion.db.upgrade()
    extraction = extract_signals(banked, filename="attack.mp4")
    assert "chromaprint" in [s.type for s in extraction.signals]
    with bastion.db.session() as session:
        bastion.banks.create(session, name="videos", actor="test")
        entries, _ = entries_from_extraction(extraction, source="attack.mp4")
        bastion.banks.add_entries(session, "videos", entries, actor="test", group=True)

    result = bastion.scanner.scan_bytes(recording, name="recording.mp4", source="test")
    audio = [m for m in result.matches if m.signal_type == "chromaprint"]
    assert len(audio) == 1, [m.reason for m in result.matches]
    detail = audio[0].detail or {}
    assert abs(float(detail["bank_offset_seconds"]) - 5.0) < 0.5
    assert float(detail["overlap_seconds"]) >= 20
    assert audio[0].distance <= audio[0].threshold

    assert bastion.scanner.scan_bytes(unrelated, name="other.mp4", source="test").matches == []
