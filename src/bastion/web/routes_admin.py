"""Admin pages: the effective settings of this process and the active verdict policy version.

Secrets (``SecretStr`` settings: webhook signing secrets) are shown only as "set" or "unset".
URL settings may carry credentials or tokens (a database password, a webhook token in its path
or query), so only their scheme, host and port are shown; a path is shown for ``sqlite`` URLs,
which name a local file and carry no credentials.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request, Response
from pydantic import SecretStr

from bastion.api.auth import BastionDep
from bastion.settings import Settings
from bastion.web.render import WebRoute, render
from bastion.web.session import SignedIn

router = APIRouter(prefix="/ui", route_class=WebRoute, include_in_schema=False)


@dataclass(frozen=True, slots=True)
class SettingRow:
    name: str
    env: str
    value: str
    description: str
    secret: bool


def shown_url(url: str) -> str:
    """A URL without anything that could be a credential: no user, password, path or query."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "(set; unparsable URL hidden)"
    scheme = parts.scheme.lower()
    if scheme.startswith("sqlite") and not parts.username and not parts.password:
        return f"{parts.scheme}://{parts.netloc}{parts.path}"
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc = f"{netloc}:{port}"
    hidden = parts.username or parts.password or parts.path.strip("/") or parts.query
    return f"{parts.scheme}://{netloc}" + ("/… (rest hidden)" if hidden else "")


def shown_value(value: Any) -> tuple[str, bool]:
    """How the settings page shows a value, and whether it is a secret."""
    if isinstance(value, SecretStr):
        return ("set" if value.get_secret_value() else "unset"), True
    if value is None:
        return "unset", False
    if isinstance(value, bool):
        return ("yes" if value else "no"), False
    if isinstance(value, Path):
        return str(value), False
    if isinstance(value, str) and "://" in value:
        return shown_url(value), False
    return str(value), False


def settings_rows(settings: Settings) -> list[SettingRow]:
    prefix = str(Settings.model_config.get("env_prefix", ""))
    rows = []
    for name, spec in sorted(Settings.model_fields.items()):
        annotation = str(spec.annotation)
        value, secret = shown_value(getattr(settings, name))
        if not secret and "SecretStr" in annotation:
            value, secret = "unset", True  # an unset secret (None) says so, and nothing more
        rows.append(
            SettingRow(
                name=name,
                env=f"{prefix}{name}".upper(),
                value=value,
                description=spec.description or "",
                secret=secret,
            )
        )
    return rows


@router.get("/settings")
def settings_page(request: Request, web: SignedIn, bastion: BastionDep) -> Response:
    web.user.require("users.manage")
    with bastion.db.session() as session:
        policy = bastion.policies.active_version(session)
    return render(
        request,
        "settings.html",
        web=web,
        rows=settings_rows(bastion.settings),
        policy=policy,
    )
