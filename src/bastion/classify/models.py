"""Versioned classifier models in the database, and the starter model shipped in the package.

Each training run stores a new version under a name (1, 2, ...). One version per name is active;
:class:`ActiveModel` lets a scoring process follow it the way matchers follow the bank change log:
a cheap query for the active id on each use, and a reload only when that id has changed. With no
active version in the database, the starter model from ``classify/data/starter_model.json`` serves.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bastion.audit import AuditLog
from bastion.classify.classifier import Classifier
from bastion.classify.heads import ModelSpec
from bastion.errors import InvalidInput, NotFound
from bastion.storage.locks import serialize_ordered_writes
from bastion.storage.models import ClassifierModelRow

DEFAULT_NAME = "tvec-text"
STARTER_NAME = "starter"
STARTER_RESOURCE = "data/starter_model.json"


class ModelNotFound(NotFound):
    code = "classifier_model_not_found"


@dataclass(frozen=True, slots=True)
class ModelInfo:
    id: int | None  # None for the packaged starter model
    name: str
    version: int
    created_at: datetime | None
    created_by: str
    embedder: str
    labels: list[str]
    metrics: dict[str, Any]
    active: bool

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"


def parse_ref(ref: str) -> tuple[str, int | None]:
    """``NAME`` or ``NAME@VERSION``."""
    name, _, version = ref.strip().partition("@")
    if not name:
        raise InvalidInput(f"bad model reference {ref!r}; use NAME or NAME@VERSION")
    if not version:
        return name, None
    if not version.isdigit():
        raise InvalidInput(f"bad model version {version!r} in {ref!r}; versions are numbers")
    return name, int(version)


def _info(row: ClassifierModelRow) -> ModelInfo:
    return ModelInfo(
        id=row.id,
        name=row.name,
        version=row.version,
        created_at=row.created_at,
        created_by=row.created_by,
        embedder=row.embedder,
        labels=list(row.labels),
        metrics=dict(row.metrics),
        active=row.active,
    )


def starter_document() -> dict[str, Any]:
    text = resources.files("bastion.classify").joinpath(STARTER_RESOURCE).read_text("utf-8")
    document: dict[str, Any] = json.loads(text)
    return document


def load_starter() -> tuple[ModelInfo, ModelSpec]:
    """The model shipped in the package (JSON numbers only), used when no version is active."""
    document = starter_document()
    spec = ModelSpec.from_json(document)
    info = ModelInfo(
        id=None,
        name=str(document.get("name", STARTER_NAME)),
        version=int(document.get("version", 0)),
        created_at=None,
        created_by="bastion",
        embedder=spec.embedder,
        labels=spec.labels,
        metrics=dict(document.get("metrics", {})),
        active=False,
    )
    return info, spec


def export_document(info: ModelInfo, spec: ModelSpec) -> dict[str, Any]:
    """A model as a JSON document ``load_starter`` and ``ModelSpec.from_json`` read back."""
    return {
        **spec.to_json(),
        "name": info.name,
        "version": info.version,
        "labels": info.labels,
        "metrics": info.metrics,
    }


class ModelStore:
    """Stores, lists and activates model versions; every change is audited."""

    def __init__(self, audit: AuditLog) -> None:
        self._audit = audit

    def save(
        self,
        session: Session,
        *,
        name: str,
        spec: ModelSpec,
        metrics: dict[str, Any],
        actor: str,
        activate: bool = False,
    ) -> ModelInfo:
        if not name.strip() or "@" in name or len(name) > 128:
            raise InvalidInput("model name must be 1-128 characters without '@'")
        # Version numbers are read then written: serialise writers so two runs never collide.
        serialize_ordered_writes(session)
        latest = session.scalar(
            select(func.max(ClassifierModelRow.version)).where(ClassifierModelRow.name == name)
        )
        row = ClassifierModelRow(
            name=name,
            version=(latest or 0) + 1,
            created_by=actor,
            embedder=spec.embedder,
            labels=spec.labels,
            metrics=json.loads(json.dumps(metrics)),
            heads=spec.to_json(),
            active=False,
        )
        session.add(row)
        session.flush()
        self._audit.record(
            session,
            actor=actor,
            action="model.train",
            target_type="classifier_model",
            target_id=f"{name}@{row.version}",
            details={"embedder": spec.embedder, "labels": spec.labels},
        )
        if activate:
            return self.activate(session, name, row.version, actor=actor)
        return _info(row)

    def _row(self, session: Session, name: str, version: int | None) -> ClassifierModelRow:
        query = select(ClassifierModelRow).where(ClassifierModelRow.name == name)
        if version is None:
            # The active version, else the newest.
            query = query.order_by(
                ClassifierModelRow.active.desc(), ClassifierModelRow.version.desc()
            )
        else:
            query = query.where(ClassifierModelRow.version == version)
        row = session.scalars(query.limit(1)).first()
        if row is None:
            shown = name if version is None else f"{name}@{version}"
            raise ModelNotFound(f"no classifier model {shown}")
        return row

    def get(self, session: Session, name: str, version: int | None = None) -> ModelInfo:
        return _info(self._row(session, name, version))

    def load(
        self, session: Session, name: str, version: int | None = None
    ) -> tuple[ModelInfo, ModelSpec]:
        if name == STARTER_NAME and not self.list(session, name=name):
            return load_starter()
        row = self._row(session, name, version)
        return _info(row), ModelSpec.from_json(dict(row.heads))

    def list(self, session: Session, *, name: str | None = None) -> list[ModelInfo]:
        query = select(ClassifierModelRow).order_by(
            ClassifierModelRow.name, ClassifierModelRow.version
        )
        if name is not None:
            query = query.where(ClassifierModelRow.name == name)
        return [_info(row) for row in session.scalars(query)]

    def activate(self, session: Session, name: str, version: int, *, actor: str) -> ModelInfo:
        """Make ``name@version`` the one active version of ``name``, in one transaction."""
        serialize_ordered_writes(session)
        row = self._row(session, name, version)
        session.execute(
            update(ClassifierModelRow)
            .where(ClassifierModelRow.name == name, ClassifierModelRow.id != row.id)
            .values(active=False)
        )
        row.active = True
        session.flush()
        self._audit.record(
            session,
            actor=actor,
            action="model.activate",
            target_type="classifier_model",
            target_id=f"{name}@{version}",
        )
        return _info(row)

    def active_id(self, session: Session, name: str) -> int | None:
        """The cheap query scoring processes poll (an indexed lookup of one integer)."""
        return session.scalar(
            select(ClassifierModelRow.id)
            .where(ClassifierModelRow.name == name, ClassifierModelRow.active.is_(True))
            .limit(1)
        )


class ActiveModel:
    """Follows the active version of one model name; reloads only when the active id changes."""

    def __init__(self, store: ModelStore, name: str = DEFAULT_NAME) -> None:
        self._store = store
        self.name = name
        self._lock = threading.Lock()
        self._loaded: tuple[int | None, Classifier] | None = None
        self.loads = 0  # how many times a model was (re)loaded: visible to tests and metrics

    def current(self, session: Session) -> Classifier:
        active = self._store.active_id(session, self.name)
        with self._lock:
            if self._loaded is not None and self._loaded[0] == active:
                return self._loaded[1]
            if active is None:
                info, spec = load_starter()
            else:
                row = session.get(ClassifierModelRow, active)
                if row is None:  # deactivated and deleted between the two queries
                    info, spec = load_starter()
                    active = None
                else:
                    info, spec = _info(row), ModelSpec.from_json(dict(row.heads))
            classifier = Classifier(spec, model_ref=info.ref)
            self._loaded = (active, classifier)
            self.loads += 1
            return classifier
