"""``bastion demo``: build the synthetic demo data set, print how to try it, then serve the API."""

from __future__ import annotations

import shlex
from typing import Annotated

import typer

from bastion.cli.context import cli_actor, load_settings, open_bastion
from bastion.cli.serve import PortOption, serve_api
from bastion.demo.setup import DemoSet, build_demo


def _instructions(demo: DemoSet, host: str, port: int, serving: bool) -> str:
    url = f"http://{host}:{port}"
    state = "built" if demo.built else "already present, reused"
    lines = [
        f"Bastion demo data ({state}); all media are synthetic.",
        f"  banks: {demo.positive_bank} (positive, tvec1), {demo.negative_bank} (negative)",
        f"  samples: {demo.samples_dir}",
    ]
    lines += [f"    {s.path.name}: {s.description}" for s in demo.samples]
    lines += [
        "",
        "API key (scopes scan, banks:read; shown once, earlier demo keys revoked):",
        f"  {demo.key.secret}",
        "",
        "Scan from the command line (exit code 1 means something matched):",
        f"  bastion scan {shlex.quote(str(demo.samples_dir))}",
        "",
        f"Scan over HTTP{'' if serving else ' (after `bastion serve`)'}:",
    ]
    lines += [
        f'  curl -H "Authorization: Bearer {demo.key.secret}" '
        f"-F file=@{shlex.quote(str(s.path))} {url}/v1/scan"
        for s in demo.samples
    ]
    lines += [
        "",
        f"Review workbench: {url}/ui/ (new passwords on every run; shown once):",
    ]
    lines += [f"  {p.username} ({p.role}): {p.password}" for p in demo.people]
    if demo.cases_opened:
        lines.append(f"  {demo.cases_opened} demo cases are waiting in the queue.")
    if serving:
        lines += ["", f"Serving the API and the workbench on {url} (Ctrl-C stops it)."]
    return "\n".join(lines)


def demo(
    port: PortOption = None,
    no_serve: Annotated[
        bool,
        typer.Option(
            "--no-serve", help="Build the data set and print how to use it; do not serve."
        ),
    ] = False,
) -> None:
    """Build a synthetic demo data set (banks, API key, sample files) and serve the API."""
    settings = load_settings()
    host, chosen_port = settings.host, port or settings.port
    with open_bastion() as bastion:
        result = build_demo(bastion, actor=cli_actor())
        typer.echo(_instructions(result, host, chosen_port, serving=not no_serve))
        if not no_serve:
            serve_api(bastion, host, chosen_port)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
