"""Live streams watched by this process: start, list, status, stop, bank a range."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Query

from bastion.api.auth import BanksWriteKey, BastionDep, StreamsReadKey, StreamsWriteKey
from bastion.api.stream_schemas import (
    BankedRange,
    StreamList,
    StreamOut,
    StreamRangeBank,
    StreamStart,
)
from bastion.errors import InvalidInput
from bastion.stream.clips import parse_stream_time
from bastion.stream.manager import StreamStatus

router = APIRouter(prefix="/v1/streams", tags=["streams"])


def _out(status: StreamStatus) -> StreamOut:
    return StreamOut.model_validate(asdict(status))


@router.post("", response_model=StreamOut, status_code=201, summary="Start watching a stream")
def start_stream(body: StreamStart, key: StreamsWriteKey, bastion: BastionDep) -> StreamOut:
    status = bastion.streams.start(
        body.source,
        actor=key.actor,
        name=body.name,
        rate=body.rate,
        incident_id=body.incident_id,
    )
    return _out(status)


@router.get("", response_model=StreamList, summary="Streams and their status")
def list_streams(
    key: StreamsReadKey,
    bastion: BastionDep,
    include_stopped: Annotated[bool, Query(description="Also streams stopped before.")] = False,
) -> StreamList:
    return StreamList(
        streams=[_out(s) for s in bastion.streams.list(include_stopped=include_stopped)]
    )


@router.get("/{stream_id}", response_model=StreamOut, summary="One stream's status")
def get_stream(stream_id: int, key: StreamsReadKey, bastion: BastionDep) -> StreamOut:
    return _out(bastion.streams.status(stream_id))


@router.post("/{stream_id}/stop", response_model=StreamOut, summary="Stop watching a stream")
def stop_stream(stream_id: int, key: StreamsWriteKey, bastion: BastionDep) -> StreamOut:
    return _out(bastion.streams.stop(stream_id, actor=key.actor))


@router.post(
    "/{stream_id}/bank",
    response_model=BankedRange,
    status_code=201,
    summary="Bank a range of the stream (e.g. from 00:12 to 00:40) as a video entry",
)
def bank_stream_range(
    stream_id: int,
    body: StreamRangeBank,
    key: StreamsWriteKey,
    bank_key: BanksWriteKey,
    bastion: BastionDep,
) -> BankedRange:
    if (body.bank is None) == (body.incident_id is None):
        raise InvalidInput("name either a bank or an incident (its crisis bank), not both")
    start, end = parse_stream_time(body.start), parse_stream_time(body.end)
    bank = body.bank
    if body.incident_id is not None:
        with bastion.db.session() as session:
            bank = bastion.incidents.active_bank(session, body.incident_id)
    assert bank is not None
    report = bastion.streams.bank_range(
        stream_id, start, end, bank=bank, actor=key.actor, labels=body.labels, note=body.note
    )
    return BankedRange(
        bank=bank,
        entry_ids=[entry.id for entry in report.added],
        duplicates=report.duplicates,
        start_seconds=start,
        end_seconds=end,
    )
