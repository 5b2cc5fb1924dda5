"""Who is calling: the Bastion services for a request, and the API key with its scopes.

Keys arrive as ``Authorization: Bearer <key>``; a bare ``Authorization: <key>`` is accepted too, as
Meta's Hasher-Matcher-Actioner clients send it. The key itself is never logged: audit events and
log lines name a key by its prefix (``key:ab12cd34``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader
from sqlalchemy.exc import SQLAlchemyError

from bastion.accounts.keys import ApiKeyInfo, require_scope
from bastion.act.ledger import run_delivery_loop
from bastion.errors import DatabaseNotReady, Unauthorized
from bastion.runtime import Bastion
from bastion.settings import Settings

_authorization = APIKeyHeader(
    name="Authorization",
    scheme_name="ApiKey",
    description="`Bearer <key>` (or the bare key). Create keys with `bastion keys create`.",
    auto_error=False,
)


log = logging.getLogger(__name__)


class BastionProvider:
    """Builds the services on first use, so the process answers /healthz even before the
    database is reachable, and a failed start-up is retried by the next request."""

    def __init__(self, settings: Settings, bastion: Bastion | None = None) -> None:
        self.settings = settings
        self._bastion = bastion
        self._owned = bastion is None
        self._lock = threading.Lock()
        self._stop = threading.Event()  # ends the background loops at shut-down

    def get(self) -> Bastion:
        if self._bastion is not None:
            return self._bastion
        with self._lock:
            if self._bastion is None:
                try:
                    self._bastion = Bastion.from_settings(self.settings)
                except SQLAlchemyError as exc:
                    raise DatabaseNotReady(f"database unreachable: {type(exc).__name__}") from exc
            return self._bastion

    def warm_up(self) -> None:
        """Load the matching indexes now, so the first upload does not wait for a large bank,
        then resume the streams that were being watched when the process last stopped.

        Runs in a background thread at start-up; a database that is not up yet is no error here
        (the first request retries and reports it).
        """
        try:
            bastion = self.get()
            bastion.scanner.cache.status()
        except Exception:
            log.info("index warm-up skipped: the database is not ready yet", exc_info=True)
            return
        try:
            resumed = bastion.streams.resume()
        except Exception:
            log.exception("watched streams could not be resumed")
            return
        if resumed:
            log.info("resumed watching %d stream(s): %s", len(resumed), resumed)
        if bastion.actions.configured:
            # Decisions' platform actions (webhooks) are delivered, retried and dead-lettered
            # by this loop until the server stops.
            threading.Thread(
                target=run_delivery_loop,
                args=(bastion, self._stop),
                name="action-delivery",
                daemon=True,
            ).start()
        if bastion.settings.share_poll_enabled:
            # Subscriptions to partner feeds are polled, and feedback to partners delivered,
            # by this loop until the server stops.
            from bastion.share.subscriptions import run_poll_loop

            threading.Thread(
                target=run_poll_loop,
                args=(bastion, self._stop),
                name="share-poll",
                daemon=True,
            ).start()

    def close(self) -> None:
        """Stop the background loops; release the database pool, if this provider opened it."""
        self._stop.set()
        if self._owned and self._bastion is not None:
            self._bastion.close()
            self._bastion = None


def get_bastion(request: Request) -> Bastion:
    provider: BastionProvider = request.app.state.bastion
    return provider.get()


def presented_key(authorization: str | None) -> str:
    if not authorization or not authorization.strip():
        raise Unauthorized("missing API key: send 'Authorization: Bearer <key>'")
    scheme, _, rest = authorization.strip().partition(" ")
    if scheme.lower() == "bearer" and rest.strip():
        return rest.strip()
    return authorization.strip()


def require(scope: str | None) -> Callable[..., ApiKeyInfo]:
    """A dependency admitting live keys that hold ``scope`` (any live key when None).

    It is a plain function, so FastAPI runs its database lookup in the threadpool.
    """

    def dependency(
        request: Request, authorization: Annotated[str | None, Security(_authorization)] = None
    ) -> ApiKeyInfo:
        secret = presented_key(authorization)
        bastion = get_bastion(request)
        with bastion.db.session() as session:
            key = bastion.keys.authenticate(session, secret)
        if scope is not None:
            require_scope(key, scope)
        return key

    return dependency


AnyKey = Annotated[ApiKeyInfo, Depends(require(None))]
ScanKey = Annotated[ApiKeyInfo, Depends(require("scan"))]
BanksReadKey = Annotated[ApiKeyInfo, Depends(require("banks:read"))]
BanksWriteKey = Annotated[ApiKeyInfo, Depends(require("banks:write"))]
AuditKey = Annotated[ApiKeyInfo, Depends(require("audit:read"))]
AdminKey = Annotated[ApiKeyInfo, Depends(require("admin"))]
StreamsReadKey = Annotated[ApiKeyInfo, Depends(require("streams:read"))]
StreamsWriteKey = Annotated[ApiKeyInfo, Depends(require("streams:write"))]
IncidentsWriteKey = Annotated[ApiKeyInfo, Depends(require("incidents:write"))]
CasesReadKey = Annotated[ApiKeyInfo, Depends(require("cases:read"))]
CasesWriteKey = Annotated[ApiKeyInfo, Depends(require("cases:write"))]
AppealsWriteKey = Annotated[ApiKeyInfo, Depends(require("appeals:write"))]
ActionsReadKey = Annotated[ApiKeyInfo, Depends(require("actions:read"))]
ActionsWriteKey = Annotated[ApiKeyInfo, Depends(require("actions:write"))]
PolicyReadKey = Annotated[ApiKeyInfo, Depends(require("policy:read"))]
PolicyWriteKey = Annotated[ApiKeyInfo, Depends(require("policy:write"))]
ShareReadKey = Annotated[ApiKeyInfo, Depends(require("share:read"))]
ShareWriteKey = Annotated[ApiKeyInfo, Depends(require("share:write"))]
FinanceReadKey = Annotated[ApiKeyInfo, Depends(require("finance:read"))]
FinanceWriteKey = Annotated[ApiKeyInfo, Depends(require("finance:write"))]
BastionDep = Annotated[Bastion, Depends(get_bastion)]
