"""Request bodies and response shapes of the HMA-compatible routes, as HMA 2.x defines them.

Request models accept what HMA's clients send (including its older spellings: ``enabled_ratio`` and
``matching_enabled_ratio``, ``enabled``); response models document HMA's JSON for /openapi.json.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

HMA_NAME_RULE = r"^[A-Z_][A-Z0-9_]*$"


class _Body(BaseModel):
    """Unknown fields are ignored, as HMA ignores them (a newer client may send more)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class HmaBankCreate(_Body):
    name: str = Field(max_length=128, description="UPPER_WITH_UNDERSCORE, as HMA requires.")
    enabled_ratio: float | None = Field(
        None, description="Share of content matched against the bank, 0 to 1 (default 1)."
    )
    matching_enabled_ratio: float | None = Field(None, description="Same as enabled_ratio.")
    enabled: bool | None = Field(None, description="true is ratio 1, false is ratio 0.")


class HmaBankUpdate(_Body):
    name: str | None = Field(None, max_length=128, description="Rename the bank.")
    enabled_ratio: float | None = None
    matching_enabled_ratio: float | None = Field(None, description="Same as enabled_ratio.")
    enabled: bool | None = None


class ContentMetadata(_Body):
    """HMA's banked-content metadata. ``content_uri`` is kept as the content's source.

    Unknown keys are refused here, as HMA refuses them.
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    content_id: str | None = Field(None, max_length=1000)
    content_uri: str | None = Field(None, max_length=1000)
    json_data: dict[str, Any] | None = Field(None, alias="json")
    collab: dict[str, list[str]] | None = None


class ContentAddJson(_Body):
    """The optional JSON body of ``POST /c/bank/{name}/content`` (with ``?url=``)."""

    url: str | None = Field(None, max_length=8192)
    metadata: ContentMetadata | None = None
    note: str | None = Field(None, max_length=10_000)


class HmaContentUpdate(_Body):
    disable_until_ts: int | None = Field(
        None,
        description="Unix seconds until which the content does not match; 0 disables it, "
        "1 enables it. At most five years ahead.",
    )
    enabled: bool | None = Field(None, description="Bastion extension: same as 1 / 0 above.")
    note: str | None = Field(None, max_length=10_000)


# --- responses ----------------------------------------------------------------------------------


class HmaBank(BaseModel):
    name: str
    matching_enabled_ratio: float


class HmaMessage(BaseModel):
    message: str


class ContentAdded(BaseModel):
    id: int = Field(description="The bank content id (Bastion: the entry group id).")
    signals: dict[str, str] = Field(description="Signal type name to the banked value.")


class BankContent(BaseModel):
    id: int
    disable_until_ts: int = Field(description="1 enabled, 0 disabled, else unix seconds.")
    enabled: bool
    collab_metadata: dict[str, list[str]]
    original_media_uri: str | None
    bank: HmaBank
    note: str | None = None
    metadata: dict[str, Any] | None = None
    signals: dict[str, str] | None = Field(
        None, description="With include_signals=true or signal_type=...; omitted otherwise."
    )


class Deleted(BaseModel):
    deleted: int


class MatchWithDistance(BaseModel):
    bank_content_id: int
    distance: str = Field(description='PDQ bits ("12"), vPDQ "query%[compared%]", exact "-".')
    bastion_variant: str | None = Field(
        None,
        description="Bastion only, on robust matches: the undone edit of the query (mirror, "
        "trim, region1, uncrop:l0r5t0b0, rot+3...; plain when the query was unedited).",
    )
    bastion_bank_variant: str | None = Field(
        None, description="Bastion only: the banked variant met (pdq, inner, trim, region:1)."
    )
    bastion_verification: dict[str, Any] | None = Field(
        None, description="Bastion only: how a variant match weaker than plain was confirmed."
    )


class RawLookupResponse(BaseModel):
    matches: list[int | MatchWithDistance]


class IndexStatus(BaseModel):
    present: bool
    built_to: int = Field(description="Unix seconds of the newest change applied; -1 if none.")
    size: int
