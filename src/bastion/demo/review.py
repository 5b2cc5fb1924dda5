"""Demo people and demo cases for the review workbench (``bastion demo``).

Three sign-ins, one per kind of work (an admin, a moderator who decides, an auditor who only
reads), each given a fresh random password on every run (shown once, like the demo API key).
The first run also scans the demo samples and a few demo posts through the verdict policy, so
the queue holds cases to decide: a partner list's match (review), the banked photos' copies
(acted on automatically, on record and appealable) and a threat-to-life post (escalated).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Final

from bastion.banks.from_media import entries_from_extraction
from bastion.demo.media import make_photo
from bastion.errors import UserNotFound
from bastion.review.intake import with_verdict, with_verdicts
from bastion.runtime import Bastion
from bastion.signals.extract import extract_signals

PEOPLE: Final = (
    ("demo-admin", "admin"),
    ("demo-moderator", "moderator"),
    ("demo-auditor", "auditor"),
)
PARTNER_BANK: Final = "demo-partner-list"
PARTNER_SEEDS: Final = (301, 302, 303, 304)
POSTS: Final = (
    "Join the caravan of the mujahideen. Hijrah is an obligation, brothers, come now.",
    "Donate to the brothers at the front, every coin buys a bullet for the enemies of the faith.",
)


@dataclass(frozen=True, slots=True)
class DemoPerson:
    username: str
    role: str
    password: str


def _password() -> str:
    return secrets.token_urlsafe(15)  # 20 characters: well past the 12-character policy


def ensure_people(bastion: Bastion, *, actor: str) -> list[DemoPerson]:
    """Create the demo sign-ins, or give them new passwords (the old ones stop working)."""
    people: list[DemoPerson] = []
    with bastion.db.session() as session:
        for username, role in PEOPLE:
            password = _password()
            try:
                bastion.users.get(session, username)
            except UserNotFound:
                bastion.users.create(
                    session, username=username, password=password, role=role, actor=actor
                )
            else:
                bastion.users.set_password(session, username, password, actor=actor)
                bastion.users.unlock(session, username, actor=actor)
            people.append(DemoPerson(username, role, password))
    return people


def ensure_cases(bastion: Bastion, *, actor: str) -> int:
    """Scan the demo items once, so the queue has cases; returns the cases opened now."""
    with bastion.db.session() as session:
        if bastion.cases.list(session, status=None, limit=1):
            return 0
        if not any(bank.name == PARTNER_BANK for bank in bastion.banks.list(session)):
            bastion.banks.create(
                session,
                name=PARTNER_BANK,
                actor=actor,
                source="partner",
                labels=["tvec3"],
                description="Demo: a partner's hash list (not trusted to act on its own).",
            )
    photos = [make_photo(seed, (640, 480)) for seed in PARTNER_SEEDS]
    with bastion.db.session() as session:
        for seed, photo in zip(PARTNER_SEEDS, photos, strict=True):
            extraction = extract_signals(photo, filename=f"partner-{seed}.jpg", for_bank=True)
            entries, _ = entries_from_extraction(extraction, source="demo", labels=["tvec3"])
            bastion.banks.add_entries(session, PARTNER_BANK, entries, actor=actor)
    opened = 0
    for seed, photo in zip(PARTNER_SEEDS, photos, strict=True):
        result = with_verdict(bastion, bastion.scanner.scan_bytes(photo, name=f"upload-{seed}.jpg"))
        opened += result.case_id is not None
    posts = with_verdicts(bastion, bastion.scanner.scan_texts(list(POSTS)))
    opened += sum(result.case_id is not None for result in posts)
    return opened
