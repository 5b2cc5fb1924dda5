"""Who may call what: open health checks, a key for everything else, scopes per route."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from .conftest import ApiServer
from .helpers import TAXII_PREFIX, create_bank, error_code

HEALTH = {"/healthz", "/readyz"}


def _operations(api: ApiServer) -> list[tuple[str, str]]:
    with api.client() as http:
        spec: dict[str, Any] = http.get("/openapi.json").json()
    found = []
    for path, item in spec["paths"].items():
        for method in item:
            concrete = re.sub(r"\{[^}]+\}", "1", path)
            found.append((method.upper(), concrete))
    return found


def test_health_endpoints_need_no_key(api: ApiServer) -> None:
    with api.client("") as anonymous:
        assert anonymous.get("/healthz").json() == {"status": "ok"}
        ready = anonymous.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready"}


def test_every_other_route_refuses_an_anonymous_request(api: ApiServer) -> None:
    operations = _operations(api)
    assert len(operations) >= 20  # the walk found the API, not an empty document
    with api.client("") as anonymous:
        for method, path in [*operations, ("GET", "/openapi.json"), ("GET", "/docs")]:
            if path in HEALTH:
                continue
            response = anonymous.request(method, path)
            assert response.status_code == 401, (method, path, response.text)
            assert error_code(response) == "unauthorized"
            # TAXII clients send the key as HTTP Basic's password, so those routes offer both.
            challenge = 'Basic realm="taxii", Bearer' if path.startswith(TAXII_PREFIX) else "Bearer"
            assert response.headers["www-authenticate"] == challenge


def test_a_wrong_or_revoked_key_is_refused(api: ApiServer, client: httpx.Client) -> None:
    with api.client("bst_deadbeef_not-a-real-key") as stranger:
        response = stranger.get("/v1/banks")
    assert response.status_code == 401
    assert error_code(response) == "unauthorized"

    secret = api.make_key("banks:read")
    prefix = secret.split("_")[1]
    assert client.delete(f"/v1/keys/{prefix}").status_code == 200
    with api.client(secret) as revoked:
        assert error_code(revoked.get("/v1/banks")) == "unauthorized"


def test_a_bare_authorization_header_is_accepted(api: ApiServer) -> None:
    secret = api.make_key("banks:read")
    with httpx.Client(base_url=api.base_url, headers={"Authorization": secret}) as hma_style:
        assert hma_style.get("/v1/banks").status_code == 200


@pytest.mark.parametrize(
    ("scope", "allowed", "refused"),
    [
        ("scan", ("GET", "/v1/signal-types"), ("GET", "/v1/banks")),
        ("banks:read", ("GET", "/v1/banks"), ("POST", "/v1/banks")),
        ("banks:write", ("GET", "/v1/signal-types"), ("GET", "/v1/keys")),
        ("audit:read", ("GET", "/v1/audit"), ("POST", "/v1/scan")),
        ("scan", ("GET", "/openapi.json"), ("GET", "/v1/audit/verify")),
    ],
)
def test_a_key_without_the_scope_is_forbidden(
    api: ApiServer, scope: str, allowed: tuple[str, str], refused: tuple[str, str]
) -> None:
    with api.client(api.make_key(scope)) as http:
        assert http.request(*allowed).status_code == 200
        response = http.request(*refused, json={"name": "x"})
    assert response.status_code == 403
    assert error_code(response) == "forbidden"
    assert response.json()["error"]["required_scope"]


def test_bank_writers_cannot_manage_keys_and_readers_cannot_write(
    api: ApiServer, client: httpx.Client, bank_name: str
) -> None:
    create_bank(client, bank_name)
    with api.client(api.make_key("banks:read")) as reader:
        assert reader.get(f"/v1/banks/{bank_name}/entries").status_code == 200
        for method, path in [
            ("DELETE", f"/v1/banks/{bank_name}"),
            ("PATCH", f"/v1/banks/{bank_name}"),
            ("POST", f"/v1/banks/{bank_name}/import"),
            ("POST", f"/v1/banks/{bank_name}/entries/media"),
        ]:
            assert error_code(reader.request(method, path, json={})) == "forbidden"
    with api.client(api.make_key("banks:write")) as writer:
        assert error_code(writer.post("/v1/keys", json={"name": "x", "scopes": ["admin"]})) == (
            "forbidden"
        )


def test_openapi_document_describes_the_api(client: httpx.Client) -> None:
    spec = client.get("/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    scan_body = spec["paths"]["/v1/scan"]["post"]["requestBody"]["content"]
    assert {"multipart/form-data", "application/json", "image/*"} <= set(scan_body)
    assert "ScanJsonRequest" in spec["components"]["schemas"]
    # FastAPI's default 422 model documents a bare {"detail": ...} body, which we never send.
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    assert "ApiKey" in spec["components"]["securitySchemes"]
    page = client.get("/docs")
    assert page.status_code == 200
    assert "SwaggerUIBundle" in page.text
