"""Platform actions (the ledger) and verdict policies."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Query

from bastion.api.auth import (
    ActionsReadKey,
    ActionsWriteKey,
    BastionDep,
    PolicyReadKey,
    PolicyWriteKey,
)
from bastion.api.review_schemas import ActionList, ActionOut, PolicyIn, PolicyList, PolicyOut
from bastion.decide import PolicyVersion

router = APIRouter(prefix="/v1", tags=["actions"])


def _policy(version: PolicyVersion) -> PolicyOut:
    return PolicyOut(
        version=version.version,
        active=version.active,
        created_by=version.created_by,
        created_at=version.created_at,
        note=version.note,
        rules=version.policy.to_json(),
    )


@router.get("/actions", response_model=ActionList, summary="Actions, newest first")
def list_actions(
    key: ActionsReadKey,
    bastion: BastionDep,
    status: Annotated[
        str | None, Query(pattern="^(pending|sending|delivered|failed|dead)$")
    ] = None,
    case_id: int | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> ActionList:
    with bastion.db.session() as session:
        found = bastion.actions.list(session, status=status, case_id=case_id, limit=limit)
    return ActionList(actions=[ActionOut.model_validate(asdict(a)) for a in found])


@router.post(
    "/actions/{action_id}/replay",
    response_model=ActionOut,
    summary="Deliver a failed or dead action again",
)
def replay_action(action_id: int, key: ActionsWriteKey, bastion: BastionDep) -> ActionOut:
    with bastion.db.session() as session:
        action = bastion.actions.replay(session, action_id, actor=key.actor)
    return ActionOut.model_validate(asdict(action))


@router.get("/policies", response_model=PolicyList, summary="Verdict policy versions")
def list_policies(key: PolicyReadKey, bastion: BastionDep) -> PolicyList:
    with bastion.db.session() as session:
        versions = [bastion.policies.active_version(session), *bastion.policies.list(session)]
    unique = {v.version: v for v in versions}
    return PolicyList(
        policies=[_policy(v) for v in sorted(unique.values(), key=lambda v: -v.version)]
    )


@router.get("/policies/active", response_model=PolicyOut, summary="The active verdict policy")
def active_policy(key: PolicyReadKey, bastion: BastionDep) -> PolicyOut:
    with bastion.db.session() as session:
        return _policy(bastion.policies.active_version(session))


@router.post(
    "/policies", response_model=PolicyOut, status_code=201, summary="Store a policy version"
)
def create_policy(body: PolicyIn, key: PolicyWriteKey, bastion: BastionDep) -> PolicyOut:
    with bastion.db.session() as session:
        version = bastion.policies.create(
            session, body.rules, actor=key.actor, note=body.note, activate=body.activate
        )
    return _policy(version)


@router.post(
    "/policies/{version}/activate", response_model=PolicyOut, summary="Activate a policy version"
)
def activate_policy(version: int, key: PolicyWriteKey, bastion: BastionDep) -> PolicyOut:
    with bastion.db.session() as session:
        return _policy(bastion.policies.activate(session, version, actor=key.actor))
