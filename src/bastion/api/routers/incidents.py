"""Crisis mode: declare an incident (with its crisis bank), list, close."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from bastion.api.auth import BastionDep, IncidentsWriteKey, StreamsReadKey
from bastion.api.stream_schemas import IncidentDeclare, IncidentList, IncidentOut

router = APIRouter(prefix="/v1/incidents", tags=["incidents"])


@router.post(
    "", response_model=IncidentOut, status_code=201, summary="Declare an incident and its bank"
)
def declare_incident(
    body: IncidentDeclare, key: IncidentsWriteKey, bastion: BastionDep
) -> IncidentOut:
    with bastion.db.session() as session:
        info = bastion.incidents.declare(
            session,
            name=body.name,
            actor=key.actor,
            description=body.description,
            labels=body.labels,
            severity=body.severity,
            tlp=body.tlp,
            bank=body.bank,
        )
    return IncidentOut.model_validate(info)


@router.get("", response_model=IncidentList, summary="Incidents, newest first")
def list_incidents(
    key: StreamsReadKey,
    bastion: BastionDep,
    active_only: Annotated[bool, Query(description="Only incidents not closed.")] = False,
) -> IncidentList:
    with bastion.db.session() as session:
        incidents = bastion.incidents.list(session, active_only=active_only)
    return IncidentList(incidents=[IncidentOut.model_validate(i) for i in incidents])


@router.get("/{incident_id}", response_model=IncidentOut, summary="One incident")
def get_incident(incident_id: int, key: StreamsReadKey, bastion: BastionDep) -> IncidentOut:
    with bastion.db.session() as session:
        return IncidentOut.model_validate(bastion.incidents.get(session, incident_id))


@router.post("/{incident_id}/close", response_model=IncidentOut, summary="Close an incident")
def close_incident(incident_id: int, key: IncidentsWriteKey, bastion: BastionDep) -> IncidentOut:
    with bastion.db.session() as session:
        info = bastion.incidents.close(session, incident_id, actor=key.actor)
    return IncidentOut.model_validate(info)
