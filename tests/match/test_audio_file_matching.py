"""A banked MP3 (a nasheed, say) is found again in a re-encoded, trimmed Opus copy and in a video
that plays it; unrelated audio matches nothing."""

from __future__ import annotations

import pytest

from bastion.banks.from_media import entries_from_extraction
from bastion.runtime import Bastion
from bastion.signals.extract import extract_signals
from tests.conftest import needs_chromaprint
from tests.signals.test_audio import RATE, encode_audio, synth_music

pytestmark = needs_chromaprint


@pytest.fixture(scope="module")
def audio_files() -> dict[str, bytes]:
    track = synth_music(21, 30.0)
    return {
        "banked": encode_audio(track, "libmp3lame", "mp3", bit_rate=128_000),
        # Seconds 6-26, re-encoded to Opus at a low bit rate, as messaging apps do.
        "copy": encode_audio(track[6 * RATE : 26 * RATE], "libopus", "ogg", bit_rate=32_000),
        "video": encode_audio(track[3 * RATE :], "aac", "mp4", bit_rate=64_000, video=True),
        "unrelated": encode_audio(synth_music(22, 25.0), "libmp3lame", "mp3", bit_rate=96_000),
    }


def test_a_banked_audio_file_is_found_in_copies(
    bastion: Bastion, audio_files: dict[str, bytes]
) -> None:
    bastion.db.upgrade()
    extraction = extract_signals(audio_files["banked"], filename="nasheed.mp3", for_bank=True)
    assert extraction.media.kind.value == "audio"
    with bastion.db.session() as session:
        bastion.banks.create(session, name="nasheeds", actor="test")
        entries, skipped = entries_from_extraction(extraction, source="nasheed.mp3")
        assert [e.signal_type for e in entries] == ["md5", "sha256", "chromaprint"]
        assert skipped == []
        bastion.banks.add_entries(session, "nasheeds", entries, actor="test", group=True)

    copy = bastion.scanner.scan_bytes(audio_files["copy"], name="voice-note.opus", source="test")
    assert copy.media is not None and copy.media.kind.value == "audio"
    audio = [m for m in copy.matches if m.signal_type == "chromaprint"]
    assert len(audio) == 1, [m.reason for m in copy.matches]
    detail = audio[0].detail or {}
    assert abs(float(detail["bank_offset_seconds"]) - 6.0) < 0.5
    assert float(detail["overlap_seconds"]) >= 15
    assert audio[0].distance <= audio[0].threshold
    assert copy.matched

    # The same audio as a video's soundtrack: banked audio and soundtracks are one index.
    video = bastion.scanner.scan_bytes(audio_files["video"], name="clip.mp4", source="test")
    assert video.media is not None and video.media.kind.value == "video"
    assert [m.signal_type for m in video.matches] == ["chromaprint"]

    unrelated = bastion.scanner.scan_bytes(audio_files["unrelated"], name="o.mp3", source="test")
    assert unrelated.media is not None and unrelated.media.kind.value == "audio"
    assert unrelated.matches == []
