"""Alerts for operators (e.g. an entry quarantined by flood control): list and acknowledge."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from bastion.api.auth import BanksReadKey, BanksWriteKey, BastionDep
from bastion.api.schemas import AlertList, AlertOut

router = APIRouter(prefix="/v1/alerts", tags=["alerts"])


@router.get("", response_model=AlertList, summary="Alerts, newest first")
def list_alerts(
    key: BanksReadKey,
    bastion: BastionDep,
    open_only: Annotated[bool, Query(description="Only alerts nobody acknowledged.")] = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> AlertList:
    with bastion.db.session() as session:
        alerts = bastion.alerts.list(session, open_only=open_only, limit=limit)
    return AlertList(alerts=[AlertOut.model_validate(alert) for alert in alerts])


@router.post("/{alert_id}/ack", response_model=AlertOut, summary="Acknowledge an alert")
def acknowledge_alert(alert_id: int, key: BanksWriteKey, bastion: BastionDep) -> AlertOut:
    with bastion.db.session() as session:
        return AlertOut.model_validate(
            bastion.alerts.acknowledge(session, alert_id, actor=key.actor)
        )
