"""Builds the demo data set behind ``bastion demo``: banks, an API key and files to scan.

Everything is synthetic (:mod:`bastion.demo.media`): coloured shapes and pans, never real
extremist material. Building is idempotent: banks that exist are kept, entries already present
count as duplicates, and media are regenerated only when something is missing, so a second run
takes well under a second. Only the API key is new on every run (its secret cannot be shown
again); earlier demo keys are revoked so they do not pile up as live credentials.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av

from bastion.accounts.keys import CreatedKey
from bastion.banks.from_media import entries_from_extraction
from bastion.banks.records import NewEntry
from bastion.demo.media import edit_photo, make_photo, make_video
from bastion.demo.review import DemoPerson, ensure_cases, ensure_people
from bastion.errors import BankNotFound
from bastion.runtime import Bastion
from bastion.signals.extract import extract_signals

POSITIVE_BANK = "demo-propaganda"
NEGATIVE_BANK = "demo-known-false-positives"
KEY_NAME = "demo"
KEY_SCOPES = ["banks:read", "scan"]
LABELS = ["tvec1"]

# Seeds, fixed so every run (and every machine) builds the same media.
PHOTO_SEEDS = tuple(range(101, 121))  # 20 banked photos
VIDEO_SEED = 7
UNRELATED_SEED = 9001
# The known false positive is a variant of this banked photo: close enough in PDQ to match the
# positive bank, which is exactly the situation a negative bank exists for.
FALSE_POSITIVE_OF = PHOTO_SEEDS[-1]
PHOTO_SIZE = (800, 600)
VIDEO_SECONDS = 4.0


@dataclass(frozen=True, slots=True)
class DemoSample:
    path: Path
    expected: str  # "match", "clean" or "suppressed"
    description: str


@dataclass(frozen=True, slots=True)
class DemoSet:
    samples_dir: Path
    samples: list[DemoSample]
    key: CreatedKey
    positive_bank: str
    negative_bank: str
    built: bool  # False when an earlier run's data was reused
    revoked_keys: int
    people: list[DemoPerson] = field(default_factory=list)  # sign-ins with fresh passwords
    cases_opened: int = 0


def samples_dir(bastion: Bastion) -> Path:
    return bastion.settings.data_dir / "demo" / "samples"


def _sample_plan(folder: Path) -> list[DemoSample]:
    return [
        DemoSample(
            folder / "edited-banked-photo.jpg",
            "match",
            f"a banked photo, cropped a little and resized: matches {POSITIVE_BANK}",
        ),
        DemoSample(
            folder / "reencoded-banked-video.mp4",
            "match",
            f"the banked video, transcoded smaller at lower quality: matches {POSITIVE_BANK}",
        ),
        DemoSample(folder / "unrelated-photo.jpg", "clean", "a photo no bank knows: clean"),
        DemoSample(
            folder / "known-false-positive.jpg",
            "suppressed",
            f"close to a banked photo but listed in {NEGATIVE_BANK}: match suppressed",
        ),
    ]


def transcode_video(data: bytes, size: tuple[int, int] = (480, 270), crf: int = 32) -> bytes:
    """``data`` decoded and encoded again smaller and at lower quality, as a re-upload would be."""
    out = io.BytesIO()
    with av.open(io.BytesIO(data), "r") as source, av.open(out, "w", format="mp4") as target:
        video = source.streams.video[0]
        rate = round(video.average_rate or 30)
        stream = target.add_stream("libx264", rate=rate)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        stream.options = {"preset": "veryfast", "crf": str(crf)}
        for index, frame in enumerate(source.decode(video)):
            scaled = frame.reformat(width=size[0], height=size[1], format="yuv420p")
            scaled.pts = index
            scaled.time_base = Fraction(1, rate)
            target.mux(stream.encode(scaled))
        target.mux(stream.encode(None))
    return out.getvalue()


def _entries(bastion: Bastion, data: bytes, name: str, labels: list[str]) -> list[NewEntry]:
    extraction = extract_signals(data, filename=name, limits=bastion.scanner.limits, for_bank=True)
    entries, _ = entries_from_extraction(
        extraction,
        source=f"demo:{name}",
        labels=labels,
        note="synthetic demo media",
        min_quality=bastion.settings.pdq_min_quality,
    )
    return entries


def _ensure_bank(bastion: Bastion, name: str, kind: str, description: str, actor: str) -> int:
    """The bank's entry count, creating the bank if needed."""
    with bastion.db.session() as session:
        try:
            return bastion.banks.get(session, name).entry_count
        except BankNotFound:
            bastion.banks.create(
                session,
                name=name,
                actor=actor,
                kind=kind,
                labels=LABELS if kind == "positive" else [],
                severity="high",
                tlp="clear",  # synthetic demo data: nothing to protect
                description=description,
            )
            return 0


def _build_media(bastion: Bastion, plan: list[DemoSample], actor: str) -> None:
    photos = {seed: make_photo(seed, size=PHOTO_SIZE) for seed in PHOTO_SEEDS}
    video = make_video(VIDEO_SEED, seconds=VIDEO_SECONDS)
    false_positive = edit_photo(edit_photo(photos[FALSE_POSITIVE_OF], "crop_small"), "grayscale")
    positive: list[NewEntry] = []
    for seed, data in photos.items():
        positive.extend(_entries(bastion, data, f"photo-{seed}.jpg", LABELS))
    positive.extend(_entries(bastion, video, f"video-{VIDEO_SEED}.mp4", LABELS))
    negative = _entries(bastion, false_positive, "known-false-positive.jpg", [])
    with bastion.db.session() as session:
        bastion.banks.add_entries(session, POSITIVE_BANK, positive, actor=actor)
        bastion.banks.add_entries(session, NEGATIVE_BANK, negative, actor=actor)
    contents = {
        "edited-banked-photo.jpg": edit_photo(
            edit_photo(photos[PHOTO_SEEDS[0]], "crop_small"), "resize"
        ),
        "reencoded-banked-video.mp4": transcode_video(video),
        "unrelated-photo.jpg": make_photo(UNRELATED_SEED, size=PHOTO_SIZE),
        "known-false-positive.jpg": false_positive,
    }
    for sample in plan:
        sample.path.parent.mkdir(parents=True, exist_ok=True)
        sample.path.write_bytes(contents[sample.path.name])


def _fresh_key(bastion: Bastion, actor: str) -> tuple[CreatedKey, int]:
    with bastion.db.session() as session:
        earlier = [k for k in bastion.keys.list(session) if k.name == KEY_NAME]
        for key in earlier:
            bastion.keys.revoke(session, key.prefix, actor=actor)
        created = bastion.keys.create(session, name=KEY_NAME, scopes=KEY_SCOPES, actor=actor)
    return created, len(earlier)


def build_demo(bastion: Bastion, *, actor: str) -> DemoSet:
    """Make sure the demo banks and samples exist, and create a fresh demo API key."""
    folder = samples_dir(bastion)
    plan = _sample_plan(folder)
    positive_count = _ensure_bank(
        bastion,
        POSITIVE_BANK,
        "positive",
        "Demo: synthetic photos and a video standing in for known propaganda.",
        actor,
    )
    negative_count = _ensure_bank(
        bastion,
        NEGATIVE_BANK,
        "negative",
        "Demo: a harmless photo known to collide with a banked one.",
        actor,
    )
    complete = positive_count > 0 and negative_count > 0 and all(s.path.is_file() for s in plan)
    if not complete:
        _build_media(bastion, plan, actor)
    key, revoked = _fresh_key(bastion, actor)
    people = ensure_people(bastion, actor=actor)
    opened = ensure_cases(bastion, actor=actor)
    return DemoSet(
        samples_dir=folder,
        samples=plan,
        key=key,
        positive_bank=POSITIVE_BANK,
        negative_bank=NEGATIVE_BANK,
        built=not complete,
        revoked_keys=revoked,
        people=people,
        cases_opened=opened,
    )
