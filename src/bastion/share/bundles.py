"""Signed STIX bundle files: a bank exported for partners, and a partner's bundle imported.

For organisations that exchange files rather than run TAXII (air-gapped networks, e-mail,
portals). Export writes what a partner would receive from the bank's TAXII collection (never a
red entry; amber ones only when asked), as one STIX 2.1 bundle streamed to disk, and signs it
with this instance's key into ``FILE.sig.json``. Import checks the signature against the trust
store *before* reading the bundle (an unknown or revoked signer is refused, and an unsigned file
is refused unless explicitly allowed), then applies the indicators, revocations included, in one
transaction with the signer as provenance.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bastion.audit import AuditLog
from bastion.banks.records import Tlp
from bastion.banks.service import Banks
from bastion.errors import (
    BankNotFound,
    FeedTooLarge,
    ImportMalformed,
    InvalidInput,
    SignatureMissing,
)
from bastion.share.apply import ItemCounts, apply_items
from bastion.share.collection_feed import Cursor, Filters, page
from bastion.share.instance import Instance
from bastion.share.signing import (
    InstanceIdentity,
    TrustStore,
    file_sha256,
    sign_digest,
    verify_digest,
)
from bastion.share.taxii_client import objects_page
from bastion.storage.models import BankRow
from bastion.storage.share_models import ShareEventRow

SIGNATURE_SUFFIX = ".sig.json"
_EXPORT_PAGE = 1000


@dataclass(frozen=True, slots=True)
class ExportReport:
    path: Path
    signature: Path
    objects: int
    sha256: str


@dataclass(frozen=True, slots=True)
class ImportReport:
    bank: str
    signer: str | None
    objects: int
    counts: ItemCounts
    ignored: int
    rejected: list[dict[str, Any]]


def signature_path(path: Path) -> Path:
    return path.with_name(path.name + SIGNATURE_SUFFIX)


def export_bundle(
    session: Session,
    banks: Banks,
    instance: Instance,
    identity: InstanceIdentity,
    bank_name: str,
    path: Path,
    *,
    amber: bool = False,
) -> ExportReport:
    """Write ``bank_name`` as a signed bundle at ``path`` (and ``path.sig.json``)."""
    bank = banks.get(session, bank_name)
    if bank.tlp is Tlp.RED:
        raise InvalidInput(f"bank {bank_name!r} is TLP:RED: it never leaves this instance")
    if bank.tlp in (Tlp.AMBER, Tlp.AMBER_STRICT) and not amber:
        raise InvalidInput(
            f"bank {bank_name!r} is TLP:{bank.tlp.value.upper()}: pass --amber to export it "
            "for named partners"
        )
    tlps = frozenset({Tlp.CLEAR, Tlp.GREEN} | ({Tlp.AMBER, Tlp.AMBER_STRICT} if amber else set()))
    digest = hashlib.sha256()
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.part")
    count = 0
    try:
        with temporary.open("wb") as handle:

            def write(data: bytes) -> None:
                digest.update(data)
                handle.write(data)

            write(f'{{"type":"bundle","id":"bundle--{uuid.uuid4()}","objects":['.encode())
            cursor: Cursor | None = None
            while True:
                filters = Filters(limit=_EXPORT_PAGE, after=cursor, tlps=tlps)
                items, more, cursor = page(session, instance, bank, filters)
                for item in items:
                    write((b"," if count else b"") + json.dumps(item.obj).encode())
                    count += 1
                if not more:
                    break
            write(b"]}\n")
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    signed = sign_digest(digest.hexdigest(), identity)
    signature = signature_path(path)
    signature.write_bytes(signed.to_json())
    return ExportReport(path, signature, count, digest.hexdigest())


def import_bundle(
    session: Session,
    banks: Banks,
    audit: AuditLog,
    trust: TrustStore,
    bank_name: str,
    path: Path,
    *,
    actor: str,
    max_bytes: int,
    signature: Path | None = None,
    allow_unsigned: bool = False,
) -> ImportReport:
    """Verify, read and apply the bundle at ``path`` to ``bank_name``; all or nothing."""
    bank = session.scalar(select(BankRow).where(BankRow.name == bank_name))
    if bank is None:
        raise BankNotFound(f"bank {bank_name!r} does not exist")
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise InvalidInput(f"bundle {path} does not exist") from None
    if size > max_bytes:
        raise FeedTooLarge(
            f"the bundle is {size} bytes; at most {max_bytes} are read in one piece "
            "(subscribe over TAXII for larger feeds)",
            max_bytes=max_bytes,
        )
    envelope_path = signature or signature_path(path)
    signer_name: str | None = None
    if envelope_path.exists():
        # The signature is checked on the file's bytes before anything of it is parsed.
        signer_name = verify_digest(file_sha256(path), envelope_path.read_bytes(), trust).name
    elif not allow_unsigned:
        raise SignatureMissing(
            f"{path.name} has no signature ({envelope_path.name}); ask its sender for it, or "
            "import it as unsigned on purpose"
        )
    objects = _bundle_objects(path)
    provenance = f"bundle:{signer_name or 'unsigned'}:{path.name}"[:1024]
    feed = objects_page(objects, more=False, provenance=provenance)
    who = f"partner:{signer_name}" if signer_name else actor
    counts = apply_items(session, banks, bank, feed.items, actor=who)
    audit.record(
        session,
        actor=actor,
        action="share.bundle.import",
        target_type="bank",
        target_id=bank_name,
        details={
            "file": path.name,
            "signer": signer_name,
            "objects": len(objects),
            "added": counts.added,
            "updated": counts.updated,
            "revoked": counts.revoked,
            "rejected": len(feed.rejected),
        },
    )
    session.add(
        ShareEventRow(
            direction="in",
            channel="bundle",
            who=signer_name or "unsigned",
            bank_id=bank.id,
            objects=len(objects),
            detail=path.name[:200],
        )
    )
    session.flush()
    return ImportReport(
        bank_name, signer_name, len(objects), counts, feed.ignored, feed.rejected[:50]
    )


def _bundle_objects(path: Path) -> list[Any]:
    try:
        document = json.loads(path.read_bytes())
    except (ValueError, UnicodeDecodeError) as exc:
        raise ImportMalformed(f"{path.name} is not JSON: {str(exc)[:120]}") from None
    if not isinstance(document, dict) or document.get("type") != "bundle":
        raise ImportMalformed(f"{path.name} is not a STIX bundle (type 'bundle')")
    objects = document.get("objects", [])
    if not isinstance(objects, list):
        raise ImportMalformed(f"{path.name}: the bundle's objects are not a list")
    return objects
