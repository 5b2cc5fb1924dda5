"""``bastion serve``: the HTTP API under uvicorn, on a database brought up to date first."""

from __future__ import annotations

from typing import Annotated

import typer

from bastion.cli.context import load_settings, open_bastion
from bastion.runtime import Bastion

HostOption = Annotated[
    str | None, typer.Option(help="Address to bind. Default: BASTION_HOST.", show_default=False)
]
PortOption = Annotated[
    int | None,
    typer.Option(min=1, max=65535, help="Port to bind. Default: BASTION_PORT.", show_default=False),
]


def serve_api(bastion: Bastion, host: str, port: int) -> None:
    """Serve until interrupted (uvicorn and FastAPI are imported only here: other commands
    do not need them)."""
    import uvicorn

    from bastion.api.app import create_app

    uvicorn.run(
        create_app(bastion),
        host=host,
        port=port,
        log_level=bastion.settings.log_level.lower(),
    )


def serve(host: HostOption = None, port: PortOption = None) -> None:
    """Run the HTTP API (applies pending migrations first)."""
    settings = load_settings()
    with open_bastion() as bastion:
        serve_api(bastion, host or settings.host, port or settings.port)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
