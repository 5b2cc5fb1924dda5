"""docs/api.md keeps up with the code: every route and every error code is described."""

from __future__ import annotations

import re
from pathlib import Path

from bastion.api import create_app
from bastion.api.errors import InternalError
from bastion.errors import all_error_classes
from bastion.settings import Settings

DOC = (Path(__file__).resolve().parents[2] / "docs" / "api.md").read_text()


def _import_every_module() -> None:
    """Error classes live beside the code that raises them: import it all, so the check does
    not depend on which tests ran before in this process."""
    import importlib
    import pkgutil

    import bastion

    for module in pkgutil.walk_packages(bastion.__path__, "bastion."):
        if ".migrations" not in module.name:
            importlib.import_module(module.name)


def test_every_error_code_is_in_the_table() -> None:
    assert InternalError.code == "internal_error"  # the API's own errors are registered
    _import_every_module()
    table = set(re.findall(r"^\| `([a-z0-9_]+)` \| (\d+) \|", DOC, flags=re.MULTILINE))
    expected = {(cls.code, str(cls.status)) for cls in all_error_classes()}
    assert expected == table


def test_every_route_is_documented(tmp_path: Path) -> None:
    from bastion.runtime import Bastion

    bastion = Bastion.from_settings(Settings(data_dir=tmp_path), upgrade=False)
    try:
        spec = create_app(bastion).openapi()
    finally:
        bastion.close()
    headings = set(re.findall(r"^### `([A-Z]+) ([^`]+)`", DOC, flags=re.MULTILINE))
    routes = {(method.upper(), path) for path, item in spec["paths"].items() for method in item}
    assert routes <= headings
    assert headings - routes <= {("GET", "/openapi.json"), ("GET", "/docs")}
