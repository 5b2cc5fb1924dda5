"""Importing a list the way every edge does it: store the version, then look back.

The CLI reads the operator's file where it lies; the API and the web UI receive it as an upload,
kept in a temporary file under the data folder only while it is read (a list is public data, not
media, so it may touch the disk), and removed whatever happens.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from bastion.decide.policies import Policies
from bastion.finance.list_store import ListInfo, SanctionsLists
from bastion.finance.rescreen import RescreenReport, rescreen
from bastion.review.cases import Cases
from bastion.storage.db import Database


@dataclass(frozen=True, slots=True)
class ImportOutcome:
    info: ListInfo
    new: bool  # False: the same file was imported before; nothing changed
    rescreen: RescreenReport | None

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.info.to_dict(),
            "new": self.new,
            "rescreen": self.rescreen.to_dict() if self.rescreen else None,
        }


@dataclass(frozen=True, slots=True)
class ListImporter:
    sanctions: SanctionsLists
    cases: Cases
    policies: Policies

    def import_path(
        self,
        session: Session,
        path: Path,
        *,
        actor: str,
        format: str | None = None,
        file_name: str | None = None,
    ) -> ImportOutcome:
        """Import ``path``; a new version also looks back at content already scanned."""
        info, new = self.sanctions.import_file(
            session, path, actor=actor, format=format, file_name=file_name
        )
        looked_back = None
        if new:
            looked_back = rescreen(session, info.id, self.cases, self.policies.active(session))
        return ImportOutcome(info, new, looked_back)

    def import_upload(
        self,
        db: Database,
        data: bytes,
        *,
        data_dir: Path,
        actor: str,
        format: str | None = None,
        file_name: str = "upload",
    ) -> ImportOutcome:
        """Import uploaded bytes (in their own session), through a temporary file."""
        handle, temp = tempfile.mkstemp(prefix="bastion-list-", dir=data_dir)
        path = Path(temp)
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(data)
            with db.session() as session:
                return self.import_path(
                    session, path, actor=actor, format=format, file_name=file_name
                )
        finally:
            path.unlink(missing_ok=True)
