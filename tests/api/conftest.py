"""A real Bastion API on loopback: uvicorn in a thread, talked to with httpx over TCP.

The main server runs once per database backend (SQLite, and PostgreSQL when
``BASTION_TEST_POSTGRES_URL`` is set) and is shared by the tests, which keep apart by using their
own bank names and media seeds. Behaviour that does not depend on the database (upload limits,
private-address fetching) gets small SQLite-only servers with the settings under test.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from bastion.api import create_app
from bastion.runtime import Bastion
from bastion.settings import Settings

from ..conftest import new_postgres_database


@dataclass
class ApiServer:
    base_url: str
    bastion: Bastion
    admin_secret: str

    def client(self, secret: str | None = None, **kwargs: Any) -> httpx.Client:
        """A client sending ``secret`` (the admin key by default; "" sends no key)."""
        key = self.admin_secret if secret is None else secret
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=60, **kwargs)

    def make_key(self, *scopes: str) -> str:
        """A new key with ``scopes``, created through the domain layer (as the CLI would)."""
        with self.bastion.db.session() as session:
            created = self.bastion.keys.create(
                session, name=f"test-{'-'.join(scopes)}", scopes=list(scopes), actor="test"
            )
        return created.secret


class ServerThread:
    """uvicorn serving ``app`` on a free loopback port, in a daemon thread."""

    def __init__(self, app: FastAPI) -> None:
        config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="api-under-test", daemon=True)

    def start(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the API server did not start")
            time.sleep(0.01)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def _admin_secret(bastion: Bastion) -> str:
    with bastion.db.session() as session:
        created = bastion.keys.create(session, name="test-admin", scopes=["admin"], actor="test")
    return created.secret


@contextmanager
def serving(settings: Settings) -> Iterator[ApiServer]:
    """A server for ``settings`` with an admin key, stopped (and its pool closed) on exit."""
    bastion = Bastion.from_settings(settings)
    thread = ServerThread(create_app(bastion))
    try:
        base_url = thread.start()
        yield ApiServer(base_url=base_url, bastion=bastion, admin_secret=_admin_secret(bastion))
    finally:
        thread.stop()
        bastion.close()


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A PostgreSQL database of our own for the session (contract tests truncate theirs)."""
    with new_postgres_database("bastion_api") as url:
        yield url


@pytest.fixture(
    scope="session", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def api(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ApiServer]:
    """The shared API server, once per database backend."""
    data_dir: Path = tmp_path_factory.mktemp(f"api-{request.param}")
    database_url = ""
    if request.param == "postgres":
        database_url = request.getfixturevalue("postgres_database")
    # The server stops before the PostgreSQL database it uses is dropped: this fixture asked for
    # the database, so pytest tears this fixture down first.
    with serving(Settings(data_dir=data_dir, database_url=database_url)) as server:
        yield server


@pytest.fixture(scope="session")
def small_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    """A server whose upload cap is 64 KiB, for the size-limit tests (SQLite only)."""
    data_dir = tmp_path_factory.mktemp("api-small")
    with serving(Settings(data_dir=data_dir, max_upload_mb=1 / 16)) as server:
        yield server


@pytest.fixture(scope="session")
def private_fetch_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    """A server allowed to fetch URLs on private and loopback addresses (SQLite only)."""
    data_dir = tmp_path_factory.mktemp("api-private")
    with serving(Settings(data_dir=data_dir, fetch_allow_private=True)) as server:
        yield server


@pytest.fixture
def client(api: ApiServer) -> Iterator[httpx.Client]:
    """An httpx client holding the admin key."""
    with api.client() as http:
        yield http


@pytest.fixture
def bank_name() -> str:
    """A bank name no other test uses."""
    return f"bank-{uuid.uuid4().hex[:10]}"
