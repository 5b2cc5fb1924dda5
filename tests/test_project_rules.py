"""Project-wide rules from DESIGN.md that a reader would otherwise have to trust."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from bastion.errors import all_error_classes
from bastion.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "bastion"
EDGES = {"api", "web", "cli", "worker"}
EDGE_LIBRARIES = {"fastapi", "starlette", "typer", "jinja2", "uvicorn", "click"}


def test_settings_and_their_documentation_agree() -> None:
    documented = set(re.findall(r"`(BASTION_[A-Z0-9_]+)`", (ROOT / "docs/settings.md").read_text()))
    declared = {f"BASTION_{name.upper()}" for name in Settings.model_fields}
    assert documented == declared


def test_error_codes_are_unique_and_lower_snake() -> None:
    codes = [cls.code for cls in all_error_classes()]
    assert len(codes) == len(set(codes))
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", code) for code in codes)
    assert all(400 <= cls.status < 600 for cls in all_error_classes())


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_stages_never_import_web_or_cli_frameworks() -> None:
    offenders = []
    for path in SRC.rglob("*.py"):
        part = path.relative_to(SRC).parts[0]
        if part in EDGES:
            continue
        bad = _imports(path) & EDGE_LIBRARIES
        if bad:
            offenders.append(f"{path.relative_to(ROOT)} imports {sorted(bad)}")
    assert offenders == []


def test_stages_never_import_the_edges() -> None:
    offenders = []
    for path in SRC.rglob("*.py"):
        part = path.relative_to(SRC).parts[0]
        if part in EDGES:
            continue
        text = path.read_text()
        for edge in EDGES:
            if re.search(rf"^\s*(from|import) bastion\.{edge}\b", text, re.MULTILINE):
                offenders.append(f"{path.relative_to(ROOT)} imports bastion.{edge}")
    assert offenders == []
