"""Request and response bodies of the stream, incident and case endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Record(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StreamStart(_Input):
    source: str = Field(
        max_length=4096,
        description="rtmp(s)://, rtsp(s)://, http(s)://...m3u8 (HLS) or srt:// URL, or a file in "
        "BASTION_STREAM_FILES_DIR played as live.",
    )
    name: str | None = Field(None, max_length=128, description="Defaults to the source's label.")
    rate: float = Field(1.0, ge=0.125, le=30, description="Frames hashed per stream second.")
    incident_id: int | None = Field(None, description="The incident this stream is watched for.")


class StreamOut(_Record):
    id: int
    name: str
    label: str = Field(description="The source without credentials, query or fragment.")
    live: bool
    desired_state: str = Field(description="watching or stopped (what operators asked for)")
    state: str = Field(
        description="connecting, watching, reconnecting, ended, failed, stopped, or not_running "
        "(watching was asked for but no watcher runs in this process)"
    )
    incident_id: int | None
    connections: int
    reconnects: int
    alerts: int
    repeats_suppressed: int = Field(
        description="Entries that fired again after a reconnection: not alerted twice."
    )
    watch_seconds: float = Field(description="Wall seconds since the stream was first opened.")
    lag_seconds: float | None = Field(description="How far behind live the watcher is.")
    target_rate: float
    current_rate: float | None = Field(description="Sampling rate after the governor.")
    sampled_per_second: float | None = Field(description="Measured over this connection.")
    frames_sampled: int
    frames_skipped: int
    cpu_seconds: float = Field(description="CPU time of the stream's thread (decode, hash, match).")
    cpu_share: float | None = Field(description="cpu_seconds / watch_seconds: share of one core.")
    cpu_seconds_per_frame: float | None
    decode_mode: str | None
    history_seconds: tuple[float, float] | None = Field(
        description="The watch seconds whose sampled hashes are kept, for banking a range."
    )
    error: dict[str, str] | None = Field(description="The last error: code and detail.")
    next_attempt_in: float | None = Field(description="Seconds until the next reconnection.")
    created_by: str
    created_at: datetime
    stopped_by: str | None
    stopped_at: datetime | None


class StreamList(BaseModel):
    streams: list[StreamOut]


class StreamRangeBank(_Input):
    bank: str | None = Field(
        None, description="The bank to add to; defaults to the incident's crisis bank."
    )
    incident_id: int | None = Field(None, description="Add to this incident's crisis bank.")
    start: str = Field(max_length=40, description="Watch time: mm:ss, hh:mm:ss or seconds.")
    end: str = Field(max_length=40, description="Watch time: mm:ss, hh:mm:ss or seconds.")
    labels: list[str] = Field(default_factory=list, max_length=20)
    note: str = Field("", max_length=2000)


class BankedRange(BaseModel):
    bank: str
    entry_ids: list[int]
    duplicates: int
    start_seconds: float
    end_seconds: float


class IncidentDeclare(_Input):
    name: str = Field(max_length=120, description="1-120 letters, digits, '_', '.', '-'.")
    description: str = Field("", max_length=10_000)
    labels: list[str] = Field(default_factory=list, max_length=20, description="TVEC codes.")
    severity: str = Field("critical", description="low, medium, high or critical.")
    tlp: str = Field("amber", description="TLP 2.0 marking of the crisis bank.")
    bank: str | None = Field(None, description="Crisis bank name; default crisis-<name>.")


class IncidentOut(_Record):
    id: int
    name: str
    description: str
    status: str
    severity: str
    bank: str | None = Field(description="The crisis bank: add footage with the bank endpoints.")
    bank_entries: int
    open_cases: int
    declared_by: str
    declared_at: datetime
    closed_by: str | None
    closed_at: datetime | None


class IncidentList(BaseModel):
    incidents: list[IncidentOut]


class CaseOut(_Record):
    id: int
    kind: str
    status: str
    priority: int = Field(description="0-100, higher first (95: banked footage on a live stream).")
    severity: str
    title: str
    labels: list[str]
    source: str
    stream_id: int | None
    alert_id: int | None
    incident_id: int | None
    bank: str | None
    entry_id: int | None
    details: dict[str, Any]
    evidence_image_ids: list[int] = Field(
        description="Blurred greyscale images: GET /v1/cases/{id}/images/{image_id}."
    )
    created_at: datetime
    updated_at: datetime
    content_id: int | None = Field(None, description="The scanned item, when a scan opened it.")
    account_ref: str | None = None
    category: str | None = Field(None, description="The main TVEC code (queues filter on it).")
    language: str | None = None
    verdict: str | None = Field(None, description="act, review or none (docs/decisions.md).")
    reasons: list[str] = Field(default_factory=list, description="Why, in words.")
    group_key: str | None = Field(None, description="Cases of one flood share it (bulk).")
    assigned_to: str | None = None
    assigned_at: datetime | None = None
    due_at: datetime | None = Field(None, description="The review deadline (SLA).")
    closed_at: datetime | None = None
    version: int = Field(1, description="Name it when deciding: a stale version is refused.")
    overdue: bool = False


class CaseList(BaseModel):
    cases: list[CaseOut]
