"""Audio over HTTP: hashed with its Chromaprint signal, banked, found in a re-encoded copy; broken
audio is a stable error; HMA routes treat audio like other files (HMA has no audio type)."""

from __future__ import annotations

import functools
import hashlib

import httpx

from bastion.api.schemas import HashResponse
from tests.conftest import needs_chromaprint
from tests.signals.test_audio import RATE, encode_audio, synth_music

from .conftest import ApiServer
from .helpers import create_bank, error_code, upload

pytestmark = needs_chromaprint


@functools.cache
def _track(seed: int) -> bytes:
    return encode_audio(synth_music(seed, 25.0), "libmp3lame", "mp3", bit_rate=128_000)


@functools.cache
def _copy() -> bytes:
    """Seconds 4-24 of track 31, as Opus."""
    music = synth_music(31, 25.0)
    return encode_audio(music[4 * RATE : 24 * RATE], "libopus", "ogg", bit_rate=32_000)


def test_hash_gives_the_chromaprint_of_an_upload_and_of_a_raw_body(client: httpx.Client) -> None:
    mp3 = _track(31)
    response = upload(client, "/v1/hash", mp3, filename="nasheed.mp3", content_type="audio/mpeg")
    assert response.status_code == 200, response.text
    body = HashResponse.model_validate(response.json())
    assert body.kind == "audio"
    assert body.media is not None and body.media.kind == "audio"
    assert body.media.extra["format"] == "mp3"
    assert [s.type for s in body.signals] == ["md5", "sha256", "chromaprint"]
    assert body.signals[0].value == hashlib.md5(mp3).hexdigest()
    raw = client.post(
        "/v1/hash", content=mp3, headers={"Content-Type": "audio/mpeg"}, params={"name": "a.mp3"}
    )
    assert raw.status_code == 200, raw.text
    assert raw.json()["signals"] == response.json()["signals"]


def test_broken_audio_is_media_corrupt(client: httpx.Client) -> None:
    broken = _track(31)[:45] + bytes(5000)  # the ID3 tag, then nothing decodable
    response = upload(client, "/v1/scan", broken, filename="a.mp3", content_type="audio/mpeg")
    assert response.status_code == 422, response.text
    assert error_code(response) == "media_corrupt"


def test_a_banked_mp3_matches_a_reencoded_excerpt(client: httpx.Client, bank_name: str) -> None:
    create_bank(client, bank_name, labels=["tvec1"])
    banked = upload(
        client,
        f"/v1/banks/{bank_name}/entries/media",
        _track(31),
        filename="nasheed.mp3",
        content_type="audio/mpeg",
    )
    assert banked.status_code == 201, banked.text
    assert [e["signal_type"] for e in banked.json()["entries"]] == ["md5", "sha256", "chromaprint"]

    found = upload(client, "/v1/scan", _copy(), filename="note.opus", content_type="audio/ogg")
    assert found.status_code == 200, found.text
    result = found.json()
    assert result["kind"] == "audio" and result["matched"]
    (match,) = [m for m in result["matches"] if m["bank"] == bank_name]
    assert match["signal_type"] == "chromaprint"
    assert abs(match["detail"]["bank_offset_seconds"] - 4.0) < 0.5

    other = upload(client, "/v1/scan", _track(32), filename="b.mp3", content_type="audio/mpeg")
    assert other.status_code == 200, other.text
    assert [m for m in other.json()["matches"] if m["bank"] == bank_name] == []


def test_hma_treats_audio_as_another_file(api: ApiServer) -> None:
    with httpx.Client(
        base_url=api.base_url, headers={"Authorization": api.admin_secret}, timeout=60
    ) as hma:
        files = {"file": ("a.mp3", _track(33), "audio/mpeg")}
        defaults = hma.post("/h/hash", files=files)
        assert defaults.status_code == 400, defaults.text
        assert defaults.json()["error"]["code"] == "invalid_input"
        typed = hma.post("/h/hash", params={"types": "md5"}, files=files)
        assert typed.status_code == 200, typed.text
        assert typed.json() == {"md5": hashlib.md5(_track(33)).hexdigest()}
        as_video = hma.post("/h/hash", files={"video": ("a.mp3", _track(33), "audio/mpeg")})
        assert "the content is audio" in as_video.json()["message"]
        lookup = hma.post("/m/lookup", files=files)
        assert lookup.status_code == 200, lookup.text
        assert lookup.json() == {}


def test_signal_types_list_audio_for_the_exact_hashes(client: httpx.Client) -> None:
    types = {t["name"]: t for t in client.get("/v1/signal-types").json()["signal_types"]}
    assert types["md5"]["applies_to"] == ["audio", "file", "photo", "text", "video"]
