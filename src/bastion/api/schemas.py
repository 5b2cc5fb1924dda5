"""Pydantic models for what the API accepts and returns; they are what /openapi.json documents.

Response models mirror the domain's records (``BankInfo``, ``EntryInfo``, ``ScanResult.to_dict()``)
field for field and are filled with ``model_validate(record)``; no value is computed here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from bastion.banks.records import BankKind, BankSource, Severity, Tlp

EXTERNAL_ID = Field(
    None, max_length=255, description="The platform's own id for the content, kept with the scan."
)


class _Record(BaseModel):
    """Built from a domain dataclass by attribute access."""

    model_config = ConfigDict(from_attributes=True)


class _Input(BaseModel):
    """A request body: unknown fields are refused, so a typo is an error, not a silent no-op."""

    model_config = ConfigDict(extra="forbid")


# --- errors and health --------------------------------------------------------------------------


class ErrorDetail(BaseModel):
    model_config = ConfigDict(extra="allow")

    code: str = Field(description="Stable machine-readable code; see the table in docs/api.md.")
    detail: str = Field(description="Human-readable explanation.")


class ErrorResponse(BaseModel):
    error: ErrorDetail


class Status(BaseModel):
    status: str


# --- signals and scanning -----------------------------------------------------------------------


class SignalTypeOut(BaseModel):
    name: str = Field(description="Stable name used in banks, imports and scans.")
    display_name: str
    default_threshold: float = Field(
        description="Match distance used when a bank sets none (vPDQ: per frame); 0 means "
        "values must be identical."
    )
    max_distance: int | None = Field(description="Largest possible distance; null if exact.")
    applies_to: list[str] = Field(description="Content kinds it is computed from.")


class SignalTypeList(BaseModel):
    signal_types: list[SignalTypeOut]


class SignalOut(BaseModel):
    """One signal; ``quality``, ``frame_time`` and ``frame_number`` appear only when set."""

    type: str
    value: str
    quality: int | None = None
    frame_time: float | None = None
    frame_number: int | None = None


class MediaOut(BaseModel):
    kind: str
    width: int | None = None
    height: int | None = None
    duration_seconds: float | None = None
    frames_hashed: int | None = None
    extra: dict[str, Any] = Field(default_factory=dict)


class MatchOut(BaseModel):
    bank: str
    bank_kind: str
    entry_id: int
    group_id: int = Field(description="The banked item the entry belongs to (HMA content id).")
    signal_type: str
    distance: float
    threshold: float
    labels: list[str]
    severity: str
    tlp: str
    provenance: dict[str, Any] = Field(description="Who added the entry, from where, when.")
    note: str
    frame_time: float | None = None
    detail: dict[str, Any] | None = None
    suppressed: bool = Field(description="True when a negative bank marks this a false positive.")
    suppressed_by: dict[str, Any] | None = None
    review_only: bool = Field(description="The entry is quarantined: send to review, never act.")
    review_reason: str
    variant: str = Field(
        "",
        description="Robust matching: the undone edit of the item that matched (mirror, trim, "
        "region1, uncrop:l0r5t0b0, rot+3, ...); empty for a plain match.",
    )
    bank_variant: str = Field(
        "", description="The banked photo's variant it met (pdq, inner, trim, region:1)."
    )
    verification: dict[str, Any] | None = Field(
        None, description="How a variant match weaker than a plain one was confirmed."
    )
    reason: str = Field(description="The match explained in one sentence.")


class LanguageOut(BaseModel):
    code: str = Field(
        description="ISO 639-1 code (three letters where there is none); 'id' also for Malay; "
        "'und' when undetermined (too short, mixed, unsure)."
    )
    confidence: float = Field(description="The model's probability for the code (0 for a hint).")
    script: str = Field(description="Latin, Arabic, Cyrillic, Devanagari, other or none.")
    romanised: bool = Field(
        description="Latin letters used for a language normally written in another script."
    )
    hint: str | None = Field(
        description="The client's language hint, used only when detection was 'und'."
    )


class DesignationOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    list_: str = Field(alias="list", description="UN, EU, UK, US-FTO or US-SDGT.")
    reference: str | None = None
    date: str | None = None


class EntityOut(BaseModel):
    """A designated organisation, outlet, publication or slogan named in the text: a signal
    with offsets, not a verdict (news and research name groups too)."""

    entity_id: str
    kind: str = Field(description="organisation, media_outlet, publication or slogan.")
    name: str
    parent: str | None = Field(description="The organisation an outlet or slogan belongs to.")
    matched_alias: str = Field(description="The alias as written in the entity list.")
    start: int = Field(description="Offset into the analysed text: text[start:end] matched.")
    end: int
    designations: list[DesignationOut]
    designations_inherited: bool = Field(
        description="The designations are the parent organisation's (the entry has none)."
    )
    tvec: list[str] = Field(description="TVEC categories the entry hints at.")


class UrlOut(BaseModel):
    raw: str = Field(description="The link as written (text[start:end]).")
    start: int = Field(description="Offset into the text; -1 for a link beside it (an href).")
    end: int
    canonical: str | None = Field(description="Canonical form, as banks hold it; null if unusable.")
    host: str | None
    registrable_domain: str | None
    flags: list[str] = Field(
        description="credentials, shortener, ip_host, homoglyph, idn, obfuscated, invalid."
    )


class ContributionOut(BaseModel):
    """A finding of another stage that raised the score (noisy-OR with ``weight``)."""

    model_config = ConfigDict(extra="allow")

    kind: str = Field(description="entity or bank_match.")
    weight: float = Field(description="How much it raised the score; 0 when it did not count.")
    labels: list[str] = Field(default_factory=list)
    entity_id: str | None = None
    name: str | None = None
    entity_kind: str | None = None
    bank: str | None = None
    entry_id: int | None = None
    signal_type: str | None = None


class CategoryScoreOut(BaseModel):
    code: str = Field(description="TVEC category (tvec01 is the news/research exception).")
    display_name: str
    score: float = Field(description="Probability after evidence from entities and bank matches.")
    threshold: float
    threshold_source: str = Field(description="'language:xx' or 'global'.")
    language: str
    flagged: bool = Field(description="score >= threshold.")
    action: str = Field(description="'review' when a harm category is flagged, else 'none'.")
    model: str = Field(description="The model version, name@version.")
    contributions: list[ContributionOut]
    model_score: float | None = Field(
        description="The head's own probability, before evidence; null when the cheap screen "
        "cleared the post and the heads did not run."
    )
    stage: str = Field(
        "", description="What produced the score: 'screen' (cleared cheaply) or the embedder."
    )
    stage_reason: str = Field("", description="Why the post went to that stage.")
    screen_score: float | None = Field(
        None, description="The screen's 'could be TVEC' probability, when it ran."
    )


class TextOut(BaseModel):
    """The text stage of a scan; see docs/text-detection.md."""

    language: LanguageOut
    characters: int = Field(description="Characters of text analysed.")
    sources: list[str] = Field(description="Where the text came from: post, caption, ocr, pdf...")
    truncated: bool = Field(description="The document's text was cut at the extraction limits.")
    entities: list[EntityOut] = Field(description="At most 200.")
    urls: list[UrlOut] = Field(description="At most 200.")
    scores: list[CategoryScoreOut] = Field(description="One per TVEC category, highest first.")
    flagged: list[str] = Field(description="Harm categories flagged: send to review.")
    exception: bool = Field(description="The news/research/education head fired.")
    review: bool = Field(description="A person should look; never a reason to act on its own.")
    notes: list[str]


class ScanResponse(BaseModel):
    name: str | None
    content_id: int | None = Field(description="Id of the recorded content item.")
    kind: str | None
    media: MediaOut | None
    matched: bool = Field(description="True when any positive match is not suppressed.")
    actionable: bool = Field(description="True when a match may lead to automatic action.")
    review: bool = Field(
        description="True when a person should look: the text classifier flagged a TVEC "
        "category, or a match is review-only. Never a reason for automatic action."
    )
    signals: list[SignalOut]
    matches: list[MatchOut]
    reasons: list[str]
    notes: list[str]
    text: TextOut | None = Field(
        None,
        description="The text stage, for posts, documents, captions and OCR: language, "
        "designated entities named (with offsets), links, and one explained score per TVEC "
        "category (see docs/text-detection.md).",
    )
    finance: dict[str, Any] | None = Field(
        None,
        description="Terrorist-financing evidence (docs/finance.md): payment instruments found "
        "(kind, scheme, canonical value, checksum status, whether look-alike characters hid it, "
        "offsets and context), sanctions list hits with their explanation, donation-appeal "
        "wording, and how many earlier items carried each instrument.",
    )
    verdict: dict[str, Any] | None = Field(
        None,
        description="The verdict policy's answer (docs/decisions.md): action act, review or "
        "none, priority, reasons, escalate, category, language, labels.",
    )
    case_id: int | None = Field(None, description="The review case the verdict opened, if any.")
    error: ErrorDetail | None = None


class HashResponse(BaseModel):
    name: str | None
    kind: str | None
    media: MediaOut | None
    signals: list[SignalOut]


class SuppliedSignal(_Input):
    type: str = Field(description="A signal type name, e.g. pdq, md5, sha256.")
    value: str = Field(max_length=1_000_000)


class ScanJsonRequest(_Input):
    """Scan a URL (fetched by the server, with SSRF guards), signals computed by the client, or
    a post's text."""

    url: str | None = Field(None, max_length=2048, description="http(s) URL to fetch and scan.")
    signals: list[SuppliedSignal] | None = Field(None, description="Precomputed signals.")
    text: str | None = Field(
        None,
        description="A post's text, at most 200,000 characters (longer: 400 invalid_input; "
        "send a document file instead). Matched by its text and link signals, then analysed.",
    )
    language: str | None = Field(
        None,
        max_length=35,
        description="With text: a language hint ('en', 'ar', 'pt-BR'), used only when the "
        "detector cannot decide.",
    )
    external_id: str | None = EXTERNAL_ID

    @model_validator(mode="after")
    def _one_source(self) -> ScanJsonRequest:
        given = [self.url is not None, self.signals is not None, self.text is not None]
        if sum(given) != 1:
            raise ValueError("give exactly one of 'url', 'signals' or 'text'")
        if self.language is not None and self.text is None:
            raise ValueError("'language' goes with 'text'")
        return self


# --- banks --------------------------------------------------------------------------------------


class BankCreate(_Input):
    name: str = Field(description="1-128 letters, digits, '_', '.', '-', starting alphanumeric.")
    description: str = ""
    kind: BankKind = Field(BankKind.POSITIVE, description="negative banks hold false positives.")
    labels: list[str] = Field(default_factory=list, description="TVEC codes, e.g. tvec1.")
    severity: Severity = Severity.HIGH
    source: BankSource = BankSource.LOCAL
    tlp: Tlp = Field(Tlp.AMBER, description="TLP 2.0 marking: how far the bank may be shared.")
    thresholds: dict[str, float] = Field(
        default_factory=dict, description="Per-signal-type match distance overrides."
    )
    enabled: bool = True
    enable_ratio: float = Field(
        1.0, ge=0, le=1, description="Share of content matched against the bank (gradual roll-out)."
    )


class BankUpdate(_Input):
    """Fields left out (or null) stay as they are; a null threshold removes that override."""

    name: str | None = Field(None, description="A new name for the bank.")
    description: str | None = None
    labels: list[str] | None = None
    severity: Severity | None = None
    tlp: Tlp | None = None
    thresholds: dict[str, float | None] | None = None
    enabled: bool | None = None
    enable_ratio: float | None = Field(None, ge=0, le=1)


class BankOut(_Record):
    id: int
    name: str
    description: str
    kind: BankKind
    labels: list[str]
    severity: Severity
    source: BankSource
    tlp: Tlp
    thresholds: dict[str, float]
    enabled: bool
    created_at: datetime
    updated_at: datetime
    entry_count: int
    enable_ratio: float


class BankList(BaseModel):
    banks: list[BankOut]


class EntryIn(_Input):
    signal_type: str
    value: str = Field(max_length=1_000_000)
    labels: list[str] = Field(default_factory=list)
    note: str = Field("", max_length=10_000)
    tlp: Tlp | None = Field(
        None,
        description="A marking stricter than the bank's for this entry alone (a red hash in a "
        "green crisis bank: never shared); a looser one is ignored.",
    )


class EntryUpdate(_Input):
    """Fields left out stay as they are; ``disabled_until: null`` re-enables the entry."""

    disabled_until: AwareDatetime | None = Field(
        None, description="ISO 8601 time with a timezone; the entry does not match until then."
    )
    note: str | None = Field(None, max_length=10_000)
    labels: list[str] | None = None
    tlp: str | None = Field(
        None,
        pattern="^(clear|green|amber|amber\\+strict|red|bank)$",
        description="The entry's own marking; 'bank' drops it (the bank's applies).",
    )


class EntryOut(_Record):
    id: int
    bank: str
    signal_type: str
    value: str
    quality: int | None
    labels: list[str]
    note: str
    added_by: str
    added_from: str
    added_at: datetime
    first_seen: datetime | None
    last_seen: datetime | None
    disabled_until: datetime | None
    group_id: int | None
    quarantined_at: datetime | None = Field(description="Set by flood control: review only.")
    quarantine_reason: str
    tlp: str | None = Field(None, description="The entry's own marking, stricter than the bank's.")


class EntryPage(BaseModel):
    entries: list[EntryOut]
    next_after_id: int | None = Field(
        description="Pass as ?after_id= for the next page; null on the last page."
    )


class RowError(BaseModel):
    model_config = ConfigDict(extra="allow")

    line: int | None = Field(None, description="Line number (CSV, JSON Lines).")
    item: int | None = Field(None, description="1-based position in a JSON list.")
    code: str
    detail: str


class AddResult(BaseModel):
    added: int = Field(description="Entries written.")
    duplicates: int = Field(description="Values the bank already held (not an error).")
    errors: list[RowError] = Field(description="Rows skipped by a partial import.")
    skipped: list[str] = Field(description="Signals deliberately not banked, and why.")
    entries: list[EntryOut] = Field(description="The added entries (the first 1000).")


# --- keys and audit -----------------------------------------------------------------------------


class KeyCreate(_Input):
    name: str = Field(min_length=1, max_length=200)
    scopes: list[str] = Field(
        description="Any of scan, banks:read, banks:write, audit:read, admin."
    )
    expires_at: AwareDatetime | None = None


class KeyOut(_Record):
    name: str
    prefix: str = Field(description="Names the key in logs and audit events; revoke by it.")
    scopes: list[str]
    created_by: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


class CreatedKeyOut(BaseModel):
    key: KeyOut
    secret: str = Field(description="The API key itself. Shown once; Bastion keeps only a hash.")


class KeyList(BaseModel):
    keys: list[KeyOut]


class AuditEventOut(_Record):
    id: int
    occurred_at: datetime
    actor: str
    action: str
    target_type: str
    target_id: str
    details: dict[str, Any]
    hash: str


class AuditPage(BaseModel):
    events: list[AuditEventOut]
    next_before_id: int | None = Field(
        description="Pass as ?before_id= for older events; null when there are no more."
    )


class ChainReportOut(_Record):
    events_checked: int
    intact: bool
    first_broken_id: int | None


# Bodies the upload routes parse themselves; app.py adds them to the OpenAPI components.
BODY_MODELS: tuple[type[BaseModel], ...] = (ScanJsonRequest,)


class AlertOut(_Record):
    id: int
    kind: str = Field(description="e.g. flood_quarantine")
    severity: str
    summary: str
    bank: str | None
    entry_id: int | None
    details: dict[str, Any]
    created_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None


class AlertList(BaseModel):
    alerts: list[AlertOut]


# A bulk scan holds at most this many posts: enough to amortise one session, small enough that a
# request finishes in seconds with the classifier on.
MAX_BULK_TEXTS = 1000


class BulkTextItem(BaseModel):
    text: str = Field(max_length=200_000)
    external_id: str | None = Field(None, max_length=255)


class BulkTextRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    texts: list[BulkTextItem] = Field(min_length=1, max_length=MAX_BULK_TEXTS)


class BulkScanResponse(BaseModel):
    results: list[ScanResponse] = Field(description="One result per post, in order.")
