"""Liveness and readiness: the only routes that need no API key (load balancers carry none)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from bastion.api.auth import get_bastion
from bastion.api.schemas import ErrorResponse, Status

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Status, summary="The process is alive")
async def healthz() -> Status:
    # Deliberately touches nothing: a slow database must not get a live process restarted.
    return Status(status="ok")


@router.get(
    "/readyz",
    response_model=Status,
    summary="The database is reachable and its schema is current",
    responses={503: {"model": ErrorResponse, "description": "database_not_ready"}},
)
async def readyz(request: Request) -> Status:
    def check() -> None:
        get_bastion(request).db.check_ready()

    await run_in_threadpool(check)
    return Status(status="ready")
