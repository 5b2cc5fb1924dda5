"""Designated entities: find names of terrorist organisations, their media and slogans in text.

The list lives in ``data/entities.json`` (see ``data/README.md`` for how it is curated). A hit is
*evidence for a reviewer*, never a verdict: news, research and counter-speech name these groups
all the time, which is why the TVEC.01 exception exists.

Matching runs an Aho-Corasick automaton (``pyahocorasick``) over text normalised by
:func:`bastion.signals.text_normalize.normalize_text`, so case, punctuation, Arabic spelling
variants, tatweel, harakat, zero-width characters and Latin/Cyrillic look-alikes inside a name do
not hide it. Rules, decided here once:

* **Whole words only.** An alias matches only between spaces (or the ends) of the normalised
  text, so ``Amaq`` never matches inside ``Amaqiya`` and punctuation around a name is ignored.
* **Short aliases are exact-case acronyms.** An alias whose normalised form is shorter than
  4 characters (``IS``, ``JI``, ``LeT``, ``TTP``) must be marked ``case_sensitive_acronym``. It is
  matched against the *original* text in exactly that case, with word boundaries, and ignored
  when the text around it (40 characters each side) has no lower-case letter at all: in shouted
  text case says nothing, so ``THIS IS IT`` never yields ISIL. ``is`` in English never matches.
  Aliases that are ordinary phrases (``The Base``) can be marked ``case_sensitive`` likewise.
* **Longest wins.** A hit whose span lies inside a longer hit is dropped (``Islamic State
  Khorasan Province`` reports ISKP only, not ISIL too; ISIL is its ``parent``). Partly
  overlapping hits are all kept, and an alias shared by two entries reports both.
* **Offsets are into the original text**, found through a per-character map built alongside
  the normalised text (see :func:`_aligned_normal_form`).
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import ahocorasick  # type: ignore[import-not-found]  # compiled module without type stubs
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bastion.errors import ConfigurationError
from bastion.signals.text_align import MARK_CATEGORIES, aligned_normal_form
from bastion.signals.text_normalize import normalize_text
from bastion.taxonomy import BY_CODE

__all__ = [
    "DEFAULT_RESOURCE",
    "KNOWN_LISTS",
    "Alias",
    "Designation",
    "Entity",
    "EntityFile",
    "EntityHit",
    "EntityMatcher",
    "load_entity_file",
]

DEFAULT_RESOURCE = "data/entities.json"
SCHEMA_VERSION = 1
# Lists a designation may cite. US-SDGT exists because some groups (RIM, NRM) are Specially
# Designated Global Terrorists but not Foreign Terrorist Organizations: claiming FTO would be false.
KNOWN_LISTS = ("UN", "EU", "UK", "US-FTO", "US-SDGT")
MIN_ALIAS_LENGTH = 4
_ACRONYM_WINDOW = 40

EntityKind = Literal["organisation", "media_outlet", "publication", "slogan"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Alias(_Strict):
    text: str = Field(min_length=1)
    case_sensitive_acronym: bool = False
    case_sensitive: bool = False

    @property
    def exact_case(self) -> bool:
        return self.case_sensitive_acronym or self.case_sensitive


class Designation(_Strict):
    list: Literal["UN", "EU", "UK", "US-FTO", "US-SDGT"]
    reference: str | None = None
    # ISO date, or year-month where only the month is certain.
    date: str | None = Field(default=None, pattern=r"^\d{4}(-\d{2}(-\d{2})?)?$")


class Source(_Strict):
    title: str = Field(min_length=1)
    url: str = Field(pattern=r"^https?://")
    # When a curator last compared the entry with this source; null = not yet checked.
    checked: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}-\d{2}$")


class Entity(_Strict):
    id: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")
    kind: EntityKind
    name: str = Field(min_length=1)
    aliases: tuple[Alias, ...] = Field(min_length=1)
    parent: str | None = None
    designations: tuple[Designation, ...] = ()
    sources: tuple[Source, ...] = ()
    tvec: tuple[str, ...] = ()
    notes: str = ""

    @field_validator("aliases", mode="before")
    @classmethod
    def _plain_strings_are_aliases(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [{"text": item} if isinstance(item, str) else item for item in value]
        return value

    @field_validator("tvec")
    @classmethod
    def _known_codes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [code for code in value if code not in BY_CODE]
        if unknown:
            raise ValueError(f"unknown TVEC codes {unknown}")
        return value


class EntityFile(_Strict):
    schema_: int = Field(alias="schema")
    version: str = Field(pattern=r"^\d{4}\.\d{2}\.\d{2}$")
    description: str = ""
    licence: str = ""
    entries: tuple[Entity, ...]


@dataclass(frozen=True, slots=True)
class EntityHit:
    entity_id: str
    kind: str
    name: str
    parent: str | None
    matched_alias: str  # the alias as written in the data file
    start: int  # offsets into the original text: text[start:end] is what matched
    end: int
    designations: tuple[Designation, ...]
    # True when the entry has none of its own and these are its parent organisation's.
    designations_inherited: bool
    tvec: tuple[str, ...]


def _problem(where: str, detail: str) -> ConfigurationError:
    return ConfigurationError(f"entity list {where} is malformed: {detail}", path=where)


def _check_consistency(data: EntityFile, where: str) -> None:
    """Rules pydantic cannot see: unique ids, parents that exist, aliases that can match."""
    if data.schema_ != SCHEMA_VERSION:
        raise _problem(where, f"schema {data.schema_} is not supported (expected {SCHEMA_VERSION})")
    by_id: dict[str, Entity] = {}
    for entity in data.entries:
        if entity.id in by_id:
            raise _problem(where, f"duplicate id {entity.id!r}")
        by_id[entity.id] = entity
    for entity in data.entries:
        if entity.kind == "organisation" and entity.parent is not None:
            raise _problem(where, f"{entity.id}: an organisation has no parent")
        if entity.kind != "organisation":
            parent = by_id.get(entity.parent or "")
            if parent is None or parent.kind != "organisation":
                raise _problem(where, f"{entity.id}: parent must be an organisation id")
        for alias in entity.aliases:
            normal = normalize_text(alias.text)
            if not normal:
                raise _problem(where, f"{entity.id}: alias {alias.text!r} is only punctuation")
            if len(normal) < MIN_ALIAS_LENGTH and not alias.exact_case:
                raise _problem(
                    where,
                    f"{entity.id}: alias {alias.text!r} is shorter than {MIN_ALIAS_LENGTH} "
                    "characters; mark it case_sensitive_acronym",
                )


def load_entity_file(path: str | Path | None = None) -> EntityFile:
    """Read and validate an entity list: the bundled one when ``path`` is None."""
    where = str(path) if path is not None else f"bastion.classify/{DEFAULT_RESOURCE}"
    try:
        if path is None:
            raw = resources.files("bastion.classify").joinpath(DEFAULT_RESOURCE).read_text("utf-8")
        else:
            raw = Path(path).read_text("utf-8")
        parsed = json.loads(raw)
    except (OSError, UnicodeDecodeError) as exc:
        raise _problem(where, f"cannot be read ({exc})") from exc
    except json.JSONDecodeError as exc:
        raise _problem(where, f"invalid JSON at line {exc.lineno}: {exc.msg}") from exc
    try:
        data = EntityFile.model_validate(parsed)
    except ValidationError as exc:
        first = exc.errors()[0]
        location = ".".join(str(part) for part in first["loc"])
        raise _problem(where, f"{location}: {first['msg']}") from exc
    _check_consistency(data, where)
    return data


# --- the matcher ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Target:
    entity: int  # index into the matcher's entity list
    alias: str
    acronym: bool


class EntityMatcher:
    """Finds every entity alias in a text; build once, share freely (read-only after init)."""

    def __init__(self, entities: Sequence[Entity], version: str = "") -> None:
        self.version = version
        self._entities = tuple(entities)
        self._by_id = {entity.id: entity for entity in self._entities}
        normal_targets: dict[str, list[_Target]] = {}
        exact_targets: dict[str, list[_Target]] = {}
        for number, entity in enumerate(self._entities):
            for alias in entity.aliases:
                target = _Target(number, alias.text, alias.case_sensitive_acronym)
                if alias.exact_case:
                    key, table = alias.text, exact_targets
                else:
                    key, table = f" {normalize_text(alias.text)} ", normal_targets
                bucket = table.setdefault(key, [])
                # Several aliases of one entry may normalise alike ("al-Qaida", "al Qaida").
                if all(existing.entity != number for existing in bucket):
                    bucket.append(target)
        self._normal = _automaton(normal_targets)
        self._exact = _automaton(exact_targets)

    @classmethod
    def from_file(cls, path: str | Path | None = None) -> EntityMatcher:
        """The matcher for a validated list file (the bundled list when ``path`` is None)."""
        data = load_entity_file(path)
        return cls(data.entries, data.version)

    @property
    def entities(self) -> tuple[Entity, ...]:
        return self._entities

    def entity(self, entity_id: str) -> Entity | None:
        return self._by_id.get(entity_id)

    def find(self, text: str) -> list[EntityHit]:
        """Every entity named in ``text``, in text order (see the module docstring for rules)."""
        spans: list[tuple[int, int, _Target]] = []
        if self._exact is not None:
            spans.extend(self._find_exact(text))
        if self._normal is not None:
            spans.extend(self._find_normal(text))
        return [self._hit(start, end, target) for start, end, target in _longest(spans)]

    def _find_normal(self, text: str) -> Iterable[tuple[int, int, _Target]]:
        # Cheap pre-check on the plain normal form: most posts name no entity at all, and then
        # the per-character offset map is never built.
        if not any(True for _ in self._normal.iter(f" {normalize_text(text)} ")):
            return []
        normal, starts, ends = aligned_normal_form(text)
        found = []
        for last, (key_length, targets) in self._normal.iter(f" {normal} "):
            # The padded key ends one past the alias's last character: in the padded string the
            # alias spans [last - key_length + 2, last - 1], which is one less in `normal`.
            first_char = last - key_length + 1
            last_char = last - 2
            for target in targets:
                found.append((starts[first_char], ends[last_char], target))
        return found

    def _find_exact(self, text: str) -> Iterable[tuple[int, int, _Target]]:
        found = []
        for last, (key_length, targets) in self._exact.iter(text):
            start, end = last - key_length + 1, last + 1
            if _is_word_char(text, start - 1) or _is_word_char(text, end):
                continue
            for target in targets:
                if target.acronym and _shouted(text, start, end):
                    continue
                found.append((start, end, target))
        return found

    def _hit(self, start: int, end: int, target: _Target) -> EntityHit:
        entity = self._entities[target.entity]
        designations, inherited = entity.designations, False
        if not designations and entity.parent is not None:
            parent = self._by_id.get(entity.parent)
            if parent is not None and parent.designations:
                designations, inherited = parent.designations, True
        return EntityHit(
            entity_id=entity.id,
            kind=entity.kind,
            name=entity.name,
            parent=entity.parent,
            matched_alias=target.alias,
            start=start,
            end=end,
            designations=designations,
            designations_inherited=inherited,
            tvec=entity.tvec,
        )


def _automaton(targets: dict[str, list[_Target]]) -> Any:
    if not targets:
        return None
    automaton = ahocorasick.Automaton()
    for key, bucket in targets.items():
        automaton.add_word(key, (len(key), tuple(bucket)))
    automaton.make_automaton()
    return automaton


def _is_word_char(text: str, index: int) -> bool:
    if index < 0 or index >= len(text):
        return False
    char = text[index]
    return char.isalnum() or unicodedata.category(char) in MARK_CATEGORIES


def _shouted(text: str, start: int, end: int) -> bool:
    """No lower-case letter near the match: all-caps text, where case carries no signal."""
    before = text[max(0, start - _ACRONYM_WINDOW) : start]
    after = text[end : end + _ACRONYM_WINDOW]
    return not any(char.islower() for char in before + after)


def _longest(spans: list[tuple[int, int, _Target]]) -> list[tuple[int, int, _Target]]:
    """Drop duplicates and spans strictly inside a longer span; sort by position."""
    unique = {(start, end, target.entity): (start, end, target) for start, end, target in spans}
    kept = [
        (start, end, target)
        for start, end, target in unique.values()
        if not any(
            other_start <= start and end <= other_end and (other_end - other_start) > (end - start)
            for other_start, other_end, _ in unique.values()
        )
    ]
    return sorted(kept, key=lambda span: (span[0], -span[1], span[2].entity))
