"""The STIX 2.1 profile for bank entries: pure functions, no database (``docs/stix-profile.md``).

A bank entry becomes an ``indicator`` whose ``pattern`` names the signal:

* MD5, SHA-256, URL and domain use the standard Cyber Observable objects and hash names;
* signals STIX has no hash name for (PDQ, vPDQ, Chromaprint, the text signals) use custom hash
  names ``file:hashes.'x_bastion_<type>'``: STIX 2.1 says a hash name not in ``hash-algorithm-ov``
  SHOULD start with ``x_``, so this stays valid STIX and other tools simply never match it;
* a URL prefix is not a URL (it covers every URL below it), so it gets its own custom observable
  type, ``[x-bastion-url-prefix:value = '...']``, instead of a ``url`` pattern a consumer would
  read as one exact URL;
* payment instruments use the observable types threat-intelligence platforms already exchange
  (``cryptocurrency-wallet:value``, ``bank-account:iban``, ``phone-number:value``) and custom ones
  for BICs and payment accounts.

Everything Bastion needs beyond that (match distance, algorithm version, severity) travels in a
property extension declared by :func:`extension_definition`. Ids are UUIDv5, so exporting the same
entry again yields the same indicator id.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from bastion.banks.records import BankInfo, BankKind, BankSource, EntryInfo, NewEntry, Tlp
from bastion.errors import BastionError, StixUnsupported
from bastion.share.stix_patterns import (
    ALGORITHM_VERSIONS,
    parse_pattern,
    pattern_for,
)
from bastion.signals.base import DistanceSignal
from bastion.signals.registry import get_signal_type
from bastion.taxonomy import BY_CODE

SPEC_VERSION: Final = "2.1"
# Namespace of every UUIDv5 this profile derives; fixed forever (changing it changes every id).
NAMESPACE: Final = uuid.UUID("5d0b6a2e-3c1f-5e8a-9b47-0f6a2d1c8e93")

# The project's own identity and extension definition: the same ids for every Bastion instance.
PROJECT_IDENTITY_ID: Final = "identity--5f0e2a8c-7b3d-4c91-a6e4-2d8b9f1c0e57"
EXTENSION_ID: Final = "extension-definition--c3a7e1d9-4f2b-4e86-9d05-7a1b6c8e2f34"
EXTENSION_VERSION: Final = "1.0"
EXTENSION_SCHEMA: Final = "https://bastion.example.org/docs/stix-profile.md#extension-schema"
_PROFILE_CREATED: Final = "2026-01-01T00:00:00.000Z"

# TLP 2.0 marking definitions, as published by OASIS (cti-stix-common-objects, TLP 2.0 extension).
TLP_EXTENSION_ID: Final = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
TLP_MARKING_IDS: Final[Mapping[Tlp, str]] = {
    Tlp.CLEAR: "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    Tlp.GREEN: "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    Tlp.AMBER: "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    Tlp.AMBER_STRICT: "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    Tlp.RED: "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
_TLP_CREATED: Final = "2022-10-01T00:00:00.000Z"

# Confidence (STIX 0-100) by where the bank's entries come from.
CONFIDENCE_BY_SOURCE: Final[Mapping[BankSource, int]] = {
    BankSource.LOCAL: 85,
    BankSource.PARTNER: 70,
    BankSource.EXCHANGE: 50,
}

# Largest indicator (serialised JSON) accepted or produced: a four-hour vPDQ or the longest
# text_shingles value fit, a runaway object does not.
MAX_OBJECT_CHARS: Final = 8_000_000
MAX_NOTE_CHARS: Final = 10_000

OPINIONS: Final = ("strongly-disagree", "disagree", "neutral", "agree", "strongly-agree")
_ID_RE: Final = re.compile(
    r"[a-z][a-z0-9-]*--[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
)


def _timestamp(moment: datetime) -> str:
    """STIX timestamp: UTC, millisecond precision, ``Z``."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _parse_timestamp(value: Any, field: str) -> datetime:
    if not isinstance(value, str):
        raise StixUnsupported(f"{field} must be a STIX timestamp string", field=field)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise StixUnsupported(f"{field} is not a timestamp: {value[:40]!r}", field=field) from None
    if parsed.tzinfo is None:
        raise StixUnsupported(f"{field} must be in UTC (end in 'Z')", field=field)
    return parsed.astimezone(UTC)


def _stix_id(object_type: str, *parts: str) -> str:
    """A deterministic id in UUIDv4 form, as STIX 2.1 asks of SDOs and SROs.

    The 122 "random" bits are the first bits of a UUIDv5 of ``parts`` (a SHA-1 of the namespace
    and the name), so the same parts always give the same id, and ids stay unguessable without
    the name.
    """
    derived = uuid.uuid5(NAMESPACE, "/".join(parts))
    return f"{object_type}--{uuid.UUID(bytes=derived.bytes, version=4)}"


def indicator_id(instance: str, bank: str, entry_id: int) -> str:
    """The indicator id of one entry of one bank of one Bastion instance (stable across exports)."""
    return _stix_id("indicator", "entry", instance, bank, str(entry_id))


def tlp_marking(tlp: Tlp) -> dict[str, Any]:
    """The TLP 2.0 ``marking-definition`` object (as OASIS publishes it) for ``tlp``."""
    return {
        "type": "marking-definition",
        "spec_version": SPEC_VERSION,
        "id": TLP_MARKING_IDS[tlp],
        "created": _TLP_CREATED,
        "name": f"TLP:{tlp.value.upper()}",
        "extensions": {
            TLP_EXTENSION_ID: {"extension_type": "property-extension", "tlp_2_0": tlp.value}
        },
    }


def identity(
    name: str,
    *,
    instance: str | None = None,
    identity_class: str = "organization",
    description: str = "",
    contact_information: str = "",
    created: datetime | None = None,
) -> dict[str, Any]:
    """An ``identity`` (the producer of shared objects); its id is derived from ``instance``.

    ``instance`` defaults to ``name``: the id stays the same while the name is kept.
    """
    if not name.strip():
        raise BastionError("an identity needs a name")
    stamp = _timestamp(created) if created else _PROFILE_CREATED
    obj: dict[str, Any] = {
        "type": "identity",
        "spec_version": SPEC_VERSION,
        "id": _stix_id("identity", "instance", instance or name),
        "created": stamp,
        "modified": stamp,
        "name": name,
        "identity_class": identity_class,
    }
    if description:
        obj["description"] = description
    if contact_information:
        obj["contact_information"] = contact_information
    return obj


def project_identity() -> dict[str, Any]:
    """The identity that authors the profile's extension definition."""
    return {
        "type": "identity",
        "spec_version": SPEC_VERSION,
        "id": PROJECT_IDENTITY_ID,
        "created": _PROFILE_CREATED,
        "modified": _PROFILE_CREATED,
        "name": "Bastion project",
        "identity_class": "organization",
        "description": "Authors of the Bastion STIX profile for hash-sharing bank entries.",
    }


def extension_definition(*, schema: str = EXTENSION_SCHEMA) -> dict[str, Any]:
    """The ``extension-definition`` of the properties Bastion adds to indicators."""
    return {
        "type": "extension-definition",
        "spec_version": SPEC_VERSION,
        "id": EXTENSION_ID,
        "created_by_ref": PROJECT_IDENTITY_ID,
        "created": _PROFILE_CREATED,
        "modified": _PROFILE_CREATED,
        "name": "Bastion bank entry",
        "description": (
            "Matching facts for hash-sharing indicators: signal type, algorithm version, "
            "match distance threshold, severity and bank kind."
        ),
        "schema": schema,
        "version": EXTENSION_VERSION,
        "extension_types": ["property-extension"],
    }


def entry_to_indicator(
    entry: EntryInfo,
    bank: BankInfo,
    *,
    producer: str,
    instance: str,
    extension_id: str = EXTENSION_ID,
    revoked: bool = False,
    modified: datetime | None = None,
    confidence: int | None = None,
) -> dict[str, Any]:
    """One bank entry as a STIX 2.1 ``indicator``.

    ``producer`` is the identity id of the sharing organisation, ``instance`` the stable name of
    this Bastion instance (part of the id). ``revoked`` marks a removed entry; ``modified``
    defaults to the entry's time added (so re-exports are identical), and must be later for a
    revocation to supersede the earlier version (it defaults to now then).
    """
    if not _ID_RE.fullmatch(producer) or not producer.startswith("identity--"):
        raise BastionError(f"producer must be an identity id, not {producer!r}")
    created = entry.added_at
    if modified is None:
        modified = datetime.now(UTC) if revoked else created
    properties: dict[str, Any] = {
        "extension_type": "property-extension",
        "signal_type": entry.signal_type,
        "algorithm_version": ALGORITHM_VERSIONS[entry.signal_type],
        "severity": bank.severity.value,
        "bank_kind": bank.kind.value,
    }
    signal = get_signal_type(entry.signal_type)
    if issubclass(signal, DistanceSignal):
        threshold = bank.thresholds.get(entry.signal_type, signal.default_threshold)
        properties["match_distance"] = int(threshold)
        properties["max_distance"] = int(signal.max_distance)
    if entry.quality is not None:
        properties["quality"] = entry.quality
    # A disabled entry does not match before ``disabled_until``: it is valid from then on.
    valid_from = created
    if entry.disabled_until is not None and entry.disabled_until > created:
        valid_from = entry.disabled_until
    if entry.note:
        properties["note"] = entry.note
    kind_text = "known false positive" if bank.kind is BankKind.NEGATIVE else "known TVEC"
    obj: dict[str, Any] = {
        "type": "indicator",
        "spec_version": SPEC_VERSION,
        "id": indicator_id(instance, bank.name, entry.id),
        "created_by_ref": producer,
        "created": _timestamp(created),
        "modified": _timestamp(max(modified, created)),
        "indicator_types": [
            "benign" if bank.kind is BankKind.NEGATIVE else "malicious-activity",
        ],
        "name": f"{signal.display_name} signal of {kind_text} content",
        "description": entry.note
        or f"{signal.display_name} signal from a {bank.severity.value}-severity hash bank.",
        "pattern": pattern_for(entry.signal_type, entry.value),
        "pattern_type": "stix",
        "pattern_version": SPEC_VERSION,
        "valid_from": _timestamp(valid_from),
        "confidence": CONFIDENCE_BY_SOURCE[bank.source] if confidence is None else confidence,
        "object_marking_refs": [TLP_MARKING_IDS[bank.tlp.strictest(entry.tlp)]],
        "extensions": {extension_id: properties},
    }
    labels = sorted(set(entry.labels) | set(bank.labels))
    if labels:
        obj["labels"] = labels
    if revoked:
        obj["revoked"] = True
    if len(json.dumps(obj)) > MAX_OBJECT_CHARS:
        raise StixUnsupported(
            f"entry {entry.id} is larger than {MAX_OBJECT_CHARS} characters as STIX",
            max_chars=MAX_OBJECT_CHARS,
        )
    return obj


def sighting(
    indicator_id: str,
    *,
    producer: str,
    instance: str,
    seen_at: datetime,
    count: int = 1,
    description: str = "",
) -> dict[str, Any]:
    """A ``sighting`` ("we have seen this too") of a shared indicator.

    Its id is derived from (instance, indicator, time seen), so re-sending it is idempotent.
    """
    _require_id(indicator_id, "indicator")
    if not 0 <= count <= 999_999_999:
        raise BastionError("a sighting count must be between 0 and 999999999")
    stamp = _timestamp(seen_at)
    obj: dict[str, Any] = {
        "type": "sighting",
        "spec_version": SPEC_VERSION,
        "id": _stix_id("sighting", "sighting", instance, indicator_id, stamp),
        "created_by_ref": producer,
        "created": stamp,
        "modified": stamp,
        "first_seen": stamp,
        "last_seen": stamp,
        "count": count,
        "sighting_of_ref": indicator_id,
        "where_sighted_refs": [producer],
    }
    if description:
        obj["description"] = description
    return obj


def opinion(
    indicator_id: str,
    verdict: str,
    explanation: str,
    *,
    producer: str,
    instance: str,
    created: datetime,
) -> dict[str, Any]:
    """An ``opinion`` on a shared indicator; ``disagree``/``strongly-disagree`` dispute it."""
    _require_id(indicator_id, "indicator")
    if verdict not in OPINIONS:
        raise BastionError(f"opinion must be one of {', '.join(OPINIONS)}, not {verdict!r}")
    stamp = _timestamp(created)
    return {
        "type": "opinion",
        "spec_version": SPEC_VERSION,
        "id": _stix_id("opinion", "opinion", instance, indicator_id, stamp),
        "created_by_ref": producer,
        "created": stamp,
        "modified": stamp,
        "opinion": verdict,
        "explanation": explanation,
        "object_refs": [indicator_id],
    }


def bundle(objects: Iterable[Mapping[str, Any]], *, bundle_id: str | None = None) -> dict[str, Any]:
    """A STIX ``bundle`` of ``objects``, with each TLP marking they reference added once.

    The id is random unless given: a bundle is a transport envelope, not a shared object.
    """
    items = [dict(obj) for obj in objects]
    present = {obj.get("id") for obj in items}
    needed: list[str] = []
    for obj in items:
        for ref in obj.get("object_marking_refs", ()):
            if ref not in present and ref not in needed:
                needed.append(ref)
    by_id = {marking_id: tlp for tlp, marking_id in TLP_MARKING_IDS.items()}
    markings = [tlp_marking(by_id[ref]) for ref in needed if ref in by_id]
    return {
        "type": "bundle",
        "id": bundle_id or f"bundle--{uuid.uuid4()}",
        "objects": [*markings, *items],
    }


# --- the reverse: indicator -> entry ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SharedEntry:
    """An indicator read back: the entry to add, and what the sharer said about it."""

    entry: NewEntry
    indicator_id: str
    producer: str | None
    revoked: bool
    kind: BankKind
    tlp: Tlp | None
    valid_from: datetime | None
    confidence: int | None
    match_distance: int | None
    provenance: dict[str, Any]


def _require_id(value: Any, object_type: str) -> None:
    if not isinstance(value, str) or not _ID_RE.fullmatch(value):
        raise StixUnsupported(f"not a STIX {object_type} id: {str(value)[:80]!r}")
    if not value.startswith(f"{object_type}--"):
        raise StixUnsupported(f"{value!r} is not a {object_type} id")


def indicator_to_entry(obj: Mapping[str, Any], *, extension_id: str = EXTENSION_ID) -> SharedEntry:
    """Read one ``indicator`` of this profile back into an entry, validating everything.

    Raises ``StixUnsupported`` for objects outside the profile (other types, pattern languages or
    patterns, too large) and ``InvalidSignal`` for a value its signal type rejects. Labels that
    are TVEC codes are kept; other labels (free-form in STIX) are left out.
    """
    if not isinstance(obj, Mapping):
        raise StixUnsupported("a STIX object must be a JSON object")
    try:
        size = len(json.dumps(obj))
    except (TypeError, ValueError):
        raise StixUnsupported("the object is not plain JSON") from None
    if size > MAX_OBJECT_CHARS:
        raise StixUnsupported(
            f"the object is larger than {MAX_OBJECT_CHARS} characters", max_chars=MAX_OBJECT_CHARS
        )
    if obj.get("type") != "indicator":
        raise StixUnsupported(f"object type {str(obj.get('type'))[:40]!r} is not an indicator")
    if obj.get("spec_version") != SPEC_VERSION:
        raise StixUnsupported("only STIX 2.1 objects are accepted (spec_version '2.1')")
    ident = obj.get("id")
    _require_id(ident, "indicator")
    if obj.get("pattern_type") != "stix":
        raise StixUnsupported(
            f"pattern type {str(obj.get('pattern_type'))[:40]!r} is not supported; use 'stix'"
        )
    pattern = obj.get("pattern")
    if not isinstance(pattern, str):
        raise StixUnsupported("the indicator has no pattern")
    signal_type, raw = parse_pattern(pattern)
    value = get_signal_type(signal_type).normalize(raw)  # InvalidSignal for a bad value
    producer = obj.get("created_by_ref")
    if producer is not None:
        _require_id(producer, "identity")
    labels = sorted(
        {label.lower() for label in _strings(obj.get("labels"), "labels")} & set(BY_CODE)
    )
    extensions = obj.get("extensions", {})
    if not isinstance(extensions, Mapping):
        raise StixUnsupported("extensions must be an object")
    ours = extensions.get(extension_id, {})
    if not isinstance(ours, Mapping):
        raise StixUnsupported("the Bastion extension must be an object")
    declared = ours.get("signal_type", signal_type)
    if declared != signal_type:
        raise StixUnsupported(
            f"the extension says {str(declared)[:40]!r} but the pattern is {signal_type!r}"
        )
    # The note travels in the extension (the description may be generated); other producers'
    # indicators carry it in the description.
    note = ours.get("note", "") if extension_id in extensions else obj.get("description", "")
    if note is None:
        note = ""
    if not isinstance(note, str):
        raise StixUnsupported("description and note must be strings")
    quality = _optional_int(ours.get("quality"), "quality", 0, 100)
    distance = _optional_int(ours.get("match_distance"), "match_distance", 0, 1_000_000)
    confidence = _optional_int(obj.get("confidence"), "confidence", 0, 100)
    revoked = obj.get("revoked", False)
    if not isinstance(revoked, bool):
        raise StixUnsupported("revoked must be true or false")
    types = _strings(obj.get("indicator_types"), "indicator_types")
    kind = BankKind.NEGATIVE if "benign" in types else BankKind.POSITIVE
    markings = set(_strings(obj.get("object_marking_refs"), "object_marking_refs"))
    tlps = [tlp for tlp, marking_id in TLP_MARKING_IDS.items() if marking_id in markings]
    # Several TLP markings: the strictest applies.
    tlp = max(tlps, key=list(Tlp).index) if tlps else None
    valid_from = None
    if "valid_from" in obj:
        valid_from = _parse_timestamp(obj["valid_from"], "valid_from")
    entry = NewEntry(
        signal_type=signal_type,
        value=value,
        labels=labels,
        note=note[:MAX_NOTE_CHARS],
        quality=quality,
        added_from=f"stix:{ident}",
        # The sharer's marking stays on the entry, so it is never shared on more widely.
        tlp=tlp.value if tlp is not None else None,
    )
    provenance = {
        "indicator_id": ident,
        "created_by_ref": producer,
        "created": obj.get("created"),
        "modified": obj.get("modified"),
    }
    return SharedEntry(
        entry=entry,
        indicator_id=str(ident),
        producer=producer,
        revoked=revoked,
        kind=kind,
        tlp=tlp,
        valid_from=valid_from,
        confidence=confidence,
        match_distance=distance,
        provenance=provenance,
    )


def parse_modified(obj: Mapping[str, Any]) -> datetime | None:
    """The object's version (``modified``, else ``created``) as a time; None when it has none."""
    value = obj.get("modified", obj.get("created"))
    if value is None:
        return None
    return _parse_timestamp(value, "modified")


def _strings(value: Any, field: str) -> Sequence[str]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise StixUnsupported(f"{field} must be a list of strings", field=field)
    return value


def _optional_int(value: Any, field: str, low: int, high: int) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise StixUnsupported(f"{field} must be an integer from {low} to {high}", field=field)
    return value
