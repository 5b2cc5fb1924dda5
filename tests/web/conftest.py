"""A live Bastion server for the web UI tests, with people of each role and cases to review."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from PIL import Image, ImageDraw

from bastion.review.cases import NewCase
from bastion.review.evidence_image import blurred_thumbnail
from bastion.runtime import Bastion
from bastion.settings import Settings

from ..api.conftest import ApiServer, serving
from ..conftest import new_postgres_database

PASSWORD = "correct horse battery staple 42"
_CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')


def csrf_of(page: str) -> str:
    found = _CSRF.search(page)
    assert found is not None, "the page has no CSRF field"
    return found.group(1)


@dataclass
class WebSite:
    server: ApiServer

    @property
    def base_url(self) -> str:
        return self.server.base_url

    @property
    def bastion(self) -> Bastion:
        return self.server.bastion

    def user(self, role: str, *, languages: list[str] | None = None) -> str:
        """A new user of ``role`` (password :data:`PASSWORD`); their username."""
        name = f"{role}-{uuid.uuid4().hex[:8]}"
        with self.bastion.db.session() as session:
            self.bastion.users.create(
                session,
                username=name,
                password=PASSWORD,
                role=role,
                actor="test",
                display_name=f"Test {role}",
                languages=languages,
            )
        return name

    def case(self, *, title: str = "", priority: int = 60, image: bool = True) -> int:
        """A new open case (with a blurred evidence image); its id."""
        picture = Image.new("RGB", (200, 120), "white")
        ImageDraw.Draw(picture).rectangle((40, 30, 160, 90), fill="black")
        with self.bastion.db.session() as session:
            case = self.bastion.cases.open(
                session,
                NewCase(
                    kind="scan_match",
                    priority=priority,
                    severity="high",
                    title=title or f"a post matched {uuid.uuid4().hex[:6]}",
                    labels=["tvec3"],
                    language="en",
                    reasons=["matched bank entry 7 (pdq distance 12)"],
                    details={"pdq_distance": 12},
                ),
                actor="test",
                image=blurred_thumbnail(picture) if image else None,
            )
        return case.id

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=30)

    def login(self, username: str, password: str = PASSWORD) -> httpx.Client:
        """A client signed in as ``username``."""
        client = self.client()
        page = client.get("/ui/login")
        response = client.post(
            "/ui/login",
            data={"username": username, "password": password, "csrf": csrf_of(page.text)},
        )
        assert response.status_code == 303, response.text
        return client


@pytest.fixture(scope="session")
def web_postgres_database() -> Iterator[str]:
    """A PostgreSQL database of the page tests' own."""
    with new_postgres_database("bastion_web") as url:
        yield url


@pytest.fixture(
    scope="session", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[WebSite]:
    """The pages' server, once per database backend."""
    data_dir = tmp_path_factory.mktemp(f"web-{request.param}")
    database_url = ""
    if request.param == "postgres":
        database_url = request.getfixturevalue("web_postgres_database")
    with serving(Settings(data_dir=data_dir, database_url=database_url)) as server:
        yield WebSite(server)
