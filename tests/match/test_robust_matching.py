"""Edited copies of banked photos match through hash variants, and unrelated photos never do.

Every transformation of issue 4's list is made here (``bastion.demo.edits``, the same edits the
robustness benchmark uses) from synthetic photos, scanned through the real scanner against a bank
on SQLite and PostgreSQL, and must match its own banked photo - and only it - saying which variant
matched. The same edits of unrelated photos must match nothing.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageEnhance, ImageOps

from bastion.banks.from_media import entries_from_extraction
from bastion.banks.records import NewEntry
from bastion.demo import edits
from bastion.demo.media import make_photo
from bastion.match.scanner import ScanResult
from bastion.runtime import Bastion
from bastion.settings import Settings
from bastion.signals.extract import extract_signals

SIZE = (640, 480)
BANKED_SEEDS = (11, 12, 13)
UNRELATED_SEEDS = (501, 502)

PhotoEdit = Callable[[Image.Image, np.random.Generator], Image.Image]

# name -> (edit, the variant kinds that may find it; "plain" means the plain hash).
EDITS: dict[str, tuple[PhotoEdit, set[str]]] = {
    "jpeg_q40": (edits.seeded(lambda image: image), {"plain"}),
    "half_size": (edits.seeded(lambda i: i.resize((i.width // 2, i.height // 2))), {"plain"}),
    "crop5_side": (edits.seeded(edits.crop_side(0.05)), {"uncrop"}),
    "crop10_centre": (edits.seeded(edits.crop_centre(0.10)), {"uncrop"}),
    "crop10_random": (edits.crop_random(0.10), {"uncrop", "plain"}),
    "logo_10pct": (edits.logo_random, {"plain", "uncrop"}),
    "brightness": (edits.seeded(lambda i: ImageEnhance.Brightness(i).enhance(1.3)), {"plain"}),
    "contrast": (edits.seeded(lambda i: ImageEnhance.Contrast(i).enhance(1.3)), {"plain"}),
    "greyscale": (edits.seeded(ImageOps.grayscale), {"plain"}),
    "letterbox": (edits.seeded(edits.letterbox), {"trim", "region"}),
    "pillarbox": (edits.seeded(edits.pillarbox), {"trim", "region"}),
    "mirror": (edits.seeded(ImageOps.mirror), {"mirror"}),
    "rotate90": (edits.seeded(lambda i: i.rotate(90, expand=True)), {"rot90"}),
    "rotate+3": (edits.seeded(edits.rotate(3)), {"rot", "plain"}),
    "rotate-3": (edits.seeded(edits.rotate(-3)), {"rot", "plain"}),
    "screenshot": (edits.seeded(edits.screenshot), {"region"}),
    "meme": (edits.seeded(edits.meme), {"region", "trim"}),
    "picture_in_picture": (edits.picture_in_picture, {"region"}),
}


def _kind(variant: str) -> str:
    if not variant:
        return "plain"
    for prefix in ("uncrop", "region", "rot90", "rot"):
        if variant.startswith(prefix) and (prefix != "rot" or variant[3:4] in "+-"):
            return prefix
    return variant


def _photo(seed: int) -> Image.Image:
    with Image.open(io.BytesIO(make_photo(seed, size=SIZE))) as opened:
        return opened.convert("RGB")


def _jpeg(image: Image.Image, quality: int = 92) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


def _copy(seed: int, name: str) -> bytes:
    edit, _ = EDITS[name]
    rng = np.random.default_rng([seed, list(EDITS).index(name)])
    return _jpeg(edit(_photo(seed), rng), 40 if name == "jpeg_q40" else 92)


@pytest.fixture
def banked(bastion: Bastion) -> dict[int, int]:
    """The banked photos (with their variants, as banking from media stores them): seed -> the
    entry id of its PDQ."""
    bastion.db.upgrade()
    found: dict[int, int] = {}
    with bastion.db.session() as session:
        bastion.banks.create(session, name="known", actor="test")
        for seed in BANKED_SEEDS:
            entries, _ = entries_from_extraction(
                extract_signals(_jpeg(_photo(seed), 95), filename="known.jpg"), source=str(seed)
            )
            report = bastion.banks.add_entries(session, "known", entries, actor="test", group=True)
            found[seed] = next(e.id for e in report.added if e.signal_type == "pdq")
    return found


def _scan(bastion: Bastion, data: bytes) -> ScanResult:
    return bastion.scanner.scan_bytes(data, name="copy.jpg", source="test")


@pytest.mark.parametrize("name", list(EDITS))
def test_an_edited_copy_matches_its_own_photo_and_says_how(
    bastion: Bastion, banked: dict[int, int], name: str
) -> None:
    for seed in BANKED_SEEDS:
        result = _scan(bastion, _copy(seed, name))
        pdq = [m for m in result.matches if m.signal_type == "pdq"]
        assert [m.entry_id for m in pdq] == [banked[seed]], (
            name,
            seed,
            [m.reason for m in result.matches],
        )
        match = pdq[0]
        assert _kind(match.variant) in EDITS[name][1], (name, match.variant, match.reason)
        if match.variant or match.bank_variant:
            assert "through variant" in match.reason
            as_json = match.to_dict()
            assert as_json["variant"] == match.variant
            assert as_json["bank_variant"] == match.bank_variant
        if match.verification is not None:
            assert match.verification["confirmed"] is True


@pytest.mark.parametrize("name", list(EDITS))
def test_the_same_edit_of_an_unrelated_photo_matches_nothing(
    bastion: Bastion, banked: dict[int, int], name: str
) -> None:
    for seed in UNRELATED_SEEDS:
        result = _scan(bastion, _copy(seed, name))
        assert result.matches == [], (name, seed, [m.reason for m in result.matches])


def test_robust_matching_can_be_turned_off(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, database_url="", robust_matching=False)
    app = Bastion.from_settings(settings)
    try:
        app.db.upgrade()
        with app.db.session() as session:
            app.banks.create(session, name="known", actor="test")
            entries, _ = entries_from_extraction(
                extract_signals(_jpeg(_photo(11), 95)), source="11"
            )
            app.banks.add_entries(session, "known", entries, actor="test", group=True)
        assert _scan(app, _copy(11, "mirror")).matches == []
        assert [m.signal_type for m in _scan(app, _copy(11, "jpeg_q40")).matches] == ["pdq"]
    finally:
        app.close()


def test_a_bank_of_bare_hashes_still_catches_query_side_variants(bastion: Bastion) -> None:
    """A partner's hash list has no variants: mirrors, bars and screenshots are undone on the
    query and still match; crops need the banked photo's inner part and do not."""
    bastion.db.upgrade()
    plain = next(s for s in extract_signals(_jpeg(_photo(12), 95)).signals if s.type == "pdq")
    with bastion.db.session() as session:
        bastion.banks.create(session, name="partner", actor="test")
        bastion.banks.add_entries(session, "partner", [NewEntry("pdq", plain.value)], actor="test")
    for name in ("mirror", "letterbox", "screenshot"):
        assert _scan(bastion, _copy(12, name)).matches, name
    assert _scan(bastion, _copy(12, "crop10_centre")).matches == []


def test_a_hash_lookup_matches_plainly_and_never_through_unverifiable_variants(
    bastion: Bastion, banked: dict[int, int]
) -> None:
    """Without the picture (a lookup by hash) only pairs close enough to need no verification
    count: the plain hash of a cut copy does not find the banked inner part."""
    copy = extract_signals(_copy(13, "crop5_side"))
    plain_only = bastion.scanner.scan_signals([s for s in copy.signals if s.type == "pdq"])
    assert plain_only.matches == []
    assert bastion.scanner.scan_extraction(copy, name="c", source="test").matches


def test_removing_a_banked_photo_removes_its_variants(
    bastion: Bastion, banked: dict[int, int]
) -> None:
    assert _scan(bastion, _copy(11, "crop10_centre")).matches
    with bastion.db.session() as session:
        bastion.banks.delete_entry(session, "known", banked[11], actor="test")
    assert _scan(bastion, _copy(11, "crop10_centre")).matches == []


def test_scan_records_how_a_variant_matched(bastion: Bastion, banked: dict[int, int]) -> None:
    from sqlalchemy import select

    from bastion.storage.models import MatchRow

    result = bastion.scanner.scan_bytes(_copy(12, "mirror"), name="m.jpg", source="test")
    assert result.matches[0].variant == "mirror"
    with bastion.db.session() as session:
        row = session.scalars(select(MatchRow).where(MatchRow.content_id == result.content_id))
        details = next(iter(row)).details
    assert details["variant"] == "mirror"
    assert details["bank_variant"] == "pdq"


def test_a_photo_extraction_carries_its_probe_of_variants() -> None:
    extraction = extract_signals(_copy(11, "mirror"))
    assert extraction.probe is not None
    names = {variant.name for variant in extraction.probe.variants}
    assert {"mirror", "rot90", "rot180"} <= names
    assert sum(name.startswith("uncrop:") for name in names) == 225
