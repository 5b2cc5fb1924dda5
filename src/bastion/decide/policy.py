"""The verdict policy: which evidence may act automatically, what goes to review, and how urgent.

A policy is plain JSON (stored per version in the ``policy`` table, see ``policies.py``), checked
by a strict model: an unknown key, an unknown TVEC code or signal type, a priority outside 0-100
is refused with the path of the offending field (``InvalidInput`` with ``field``), never ignored.
Every field has a default, so ``{}`` is the built-in policy (:data:`DEFAULT_POLICY`).

The defaults, in short (docs/decisions.md has the whole story):

* **act** only on a match that is near-exact (exact hashes at distance 0, PDQ within 10 bits,
  vPDQ with 90% of frames shared either way) against a *trusted* bank: a positive bank kept
  locally (source ``local``) of severity ``high`` or ``critical``. Partner and exchange banks,
  robust-variant matches and every other signal type go to review.
* **review** everything else that points at TVEC: weaker matches, quarantined entries,
  classifier flags (priority from the category's weight times the score), the TVEC.01 exception
  (which also forbids automatic action), designated entities named in the text.
* **threat to life** (``tvec2``) puts the item at priority 100 and asks for escalation.
* **financing**: a wallet on a sanctions list (priority 90), a listed name in the text (60), a
  payment instrument beside donation-appeal wording or a material-support flag (80).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from bastion.banks.records import BankSource, Severity
from bastion.errors import BastionError, InvalidInput
from bastion.signals.registry import get_signal_type
from bastion.taxonomy import normalize_labels

EXCEPTION_CODE = "tvec01"
NOT_TVEC = "tvec0"


def _tvec_code(value: str) -> str:
    try:
        codes = normalize_labels([value])
    except BastionError as error:
        raise ValueError(error.detail) from None
    if len(codes) != 1:
        raise ValueError(f"{value!r} is not a TVEC code")
    return codes[0]


def _signal_type(value: str) -> str:
    try:
        return get_signal_type(value).name
    except BastionError as error:
        raise ValueError(error.detail) from None


def _bank_name(value: str) -> str:
    if not value.strip():
        raise ValueError("a bank name cannot be empty")
    return value


TvecCode = Annotated[str, AfterValidator(_tvec_code)]
SignalName = Annotated[str, AfterValidator(_signal_type)]
BankName = Annotated[str, AfterValidator(_bank_name)]
Priority = Annotated[int, Field(ge=0, le=100)]
EntityKind = Literal["organisation", "media_outlet", "publication", "slogan"]
DesignationList = Literal["UN", "EU", "UK", "US-FTO", "US-SDGT"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _default_distances() -> dict[str, float]:
    # Exact hashes only at 0 (the match itself is exact); PDQ within 10 of its 31 bits.
    return {"md5": 0.0, "sha256": 0.0, "pdq": 10.0, "text_sha256": 0.0}


class AutoAction(_Strict):
    """When a match may act without a person: a near-exact match against a trusted bank."""

    enabled: bool = True  # False: nothing acts automatically, everything goes to review
    # Trusted banks: a positive bank named in ``banks``, or one whose source and severity are
    # listed (and, when ``labels`` is not empty, carrying one of those labels). ``exclude``
    # names banks that are never trusted, whatever else says so.
    banks: list[BankName] = Field(default_factory=list)
    sources: list[BankSource] = Field(default_factory=lambda: [BankSource.LOCAL])
    severities: list[Severity] = Field(default_factory=lambda: [Severity.HIGH, Severity.CRITICAL])
    labels: list[TvecCode] = Field(default_factory=list)
    exclude: list[BankName] = Field(default_factory=list)
    # Near-exact: the largest distance that may act, per signal type. Types not listed never act.
    max_distance: dict[SignalName, Annotated[float, Field(ge=0)]] = Field(
        default_factory=_default_distances
    )
    # A whole-video (vPDQ) match acts when at least this share of the item's frames, or of the
    # banked video's frames, matched; None: vPDQ matches never act.
    vpdq_min_percent: Annotated[float, Field(ge=0, le=100)] | None = 90.0
    # Robust matches (an undone edit of the item, or a banked variant) may act only if True.
    variants: bool = False

    @model_validator(mode="after")
    def _vpdq_by_share(self) -> AutoAction:
        if "vpdq" in self.max_distance:
            raise ValueError(
                "vpdq matches act by shared frames: set vpdq_min_percent, not max_distance.vpdq"
            )
        return self


class MatchReview(_Strict):
    """Matches that may not act go to review, at a priority set by their bank's severity."""

    enabled: bool = True
    severity_priority: dict[Severity, Priority] = Field(
        default_factory=lambda: {
            Severity.CRITICAL: 80,
            Severity.HIGH: 60,
            Severity.MEDIUM: 40,
            Severity.LOW: 40,
        }
    )


def _default_weights() -> dict[str, int]:
    return {
        "tvec1": 80,
        "tvec2": 100,
        "tvec3": 70,
        "tvec4": 70,
        "tvec5": 80,
        "tvec6": 70,
        "tvec7": 60,
        "tvec8": 80,
    }


class ClassifierReview(_Strict):
    """A flagged harm category goes to review; never to automatic action.

    Priority: ``round(weight[category] * score)``, at least ``min_priority``.
    """

    enabled: bool = True
    weights: dict[TvecCode, Priority] = Field(default_factory=_default_weights)
    min_priority: Priority = 40

    @model_validator(mode="after")
    def _harms_only(self) -> ClassifierReview:
        for code in (EXCEPTION_CODE, NOT_TVEC):
            if code in self.weights:
                raise ValueError(f"{code} is not a harm category and has no weight")
        return self


class ExceptionReview(_Strict):
    """TVEC.01 (educational, journalistic, research context): human review, never action.

    Raised by the classifier's exception head or a match labelled ``tvec01``. Only whether the
    exception alone opens a review can be changed: it always blocks automatic action.
    """

    review: bool = True
    priority: Priority = 40


class ThreatToLife(_Strict):
    """Categories that go to the top of the queue and ask for escalation (law enforcement)."""

    codes: list[TvecCode] = Field(default_factory=lambda: ["tvec2"])
    priority: Priority = 100
    escalate: bool = True


def _all_kinds() -> list[EntityKind]:
    return ["organisation", "media_outlet", "publication", "slogan"]


def _all_lists() -> list[DesignationList]:
    return ["UN", "EU", "UK", "US-FTO", "US-SDGT"]


class EntityReview(_Strict):
    """Designated organisations, their outlets, publications and slogans named in the text."""

    enabled: bool = True
    kinds: list[EntityKind] = Field(default_factory=_all_kinds)
    # Only entities designated on one of these lists (own or inherited designation) count.
    lists: list[DesignationList] = Field(default_factory=_all_lists)
    priority: Priority = 40


class FinanceReview(_Strict):
    """Terrorist financing (``bastion.finance``): sanctions hits and donation appeals.

    A payment instrument alone opens nothing (charities and shops post IBANs and wallets too).
    A wallet on a sanctions list goes to review at ``sanctions_wallet_priority``; a listed name
    in the text at ``sanctions_name_priority``; an instrument beside appeal wording or beside a
    flagged material-support (``tvec4``) classification at ``appeal_priority``. Instruments
    written with look-alike characters (to slip past filters) add ``obfuscation_bonus``.
    """

    enabled: bool = True
    sanctions_wallet_priority: Priority = 90
    sanctions_name_priority: Priority = 60
    appeal_priority: Priority = 80
    obfuscation_bonus: Priority = 5
    labels: list[TvecCode] = Field(default_factory=lambda: ["tvec4"])


class Policy(_Strict):
    """One version of the verdict rules. ``Policy()`` is the built-in default."""

    schema_version: Literal[1] = 1
    auto_action: AutoAction = Field(default_factory=AutoAction)
    matches: MatchReview = Field(default_factory=MatchReview)
    classifier: ClassifierReview = Field(default_factory=ClassifierReview)
    exception: ExceptionReview = Field(default_factory=ExceptionReview)
    threat_to_life: ThreatToLife = Field(default_factory=ThreatToLife)
    entities: EntityReview = Field(default_factory=EntityReview)
    finance: FinanceReview = Field(default_factory=FinanceReview)

    def to_json(self) -> dict[str, Any]:
        """The full policy as JSON (every default written out): what a version stores."""
        return self.model_dump(mode="json")


DEFAULT_POLICY = Policy()


def _field_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if part == "[key]":
            continue  # the dict key before it already names the field
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path


def parse_policy(data: Any) -> Policy:
    """A policy from its JSON form; ``InvalidInput`` naming the first bad field otherwise.

    The error's ``field`` is the dotted path (``auto_action.max_distance.pdq``,
    ``threat_to_life.codes[0]``), its ``errors`` every problem found as ``{field, detail}``.
    """
    if not isinstance(data, dict):
        raise InvalidInput("a policy is a JSON object", field="policy")
    try:
        return Policy.model_validate(data)
    except ValidationError as error:
        problems = [
            {"field": _field_path(tuple(item["loc"])) or "policy", "detail": _message(item)}
            for item in error.errors()
        ]
        first = problems[0]
        raise InvalidInput(
            f"policy field {first['field']!r}: {first['detail']}",
            field=first["field"],
            errors=problems,
        ) from None


def _message(item: Any) -> str:
    message = str(item["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    return message
