"""Wires Bastion's parts together from settings: what the API, CLI and demo share."""

from __future__ import annotations

from dataclasses import dataclass

from bastion.accounts.keys import ApiKeys
from bastion.audit import AuditLog
from bastion.banks.service import Banks
from bastion.match.alerts import Alerts
from bastion.match.scanner import Scanner
from bastion.settings import Settings
from bastion.storage.db import Database


@dataclass
class Bastion:
    settings: Settings
    db: Database
    audit: AuditLog
    banks: Banks
    keys: ApiKeys
    scanner: Scanner
    alerts: Alerts

    @classmethod
    def from_settings(cls, settings: Settings, *, upgrade: bool = True) -> Bastion:
        """Open the database (applying migrations unless told not to) and build the services."""
        db = Database.from_settings(settings)
        if upgrade:
            db.upgrade()
        audit = AuditLog()
        return cls(
            settings=settings,
            db=db,
            audit=audit,
            banks=Banks(audit),
            keys=ApiKeys(audit),
            scanner=Scanner(db, settings, audit),
            alerts=Alerts(audit),
        )

    def close(self) -> None:
        self.db.dispose()
