"""Fuzz the OpenAPI document with schemathesis against the running gateway: no 500, no schema violation.

Every documented path is fuzzed against the session's SQLite gateway and once more against a gateway on
PostgreSQL (a fresh database), since the store's SQL differs between the two. Paths that call a provider
(images, chat) get fewer examples than the cheap ones, to keep the whole run near a minute on 2 cores.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
import schemathesis.specs.openapi.checks as checks
from hypothesis import HealthCheck, settings

from mediarouter.api.openapi import openapi_document

from harness import Server, start_server
from services import create_pg_database, drop_pg_database

schema = schemathesis.openapi.from_dict(openapi_document())
UPSTREAM_PATHS = "^/v1/(images|chat)/"


@pytest.fixture(scope="module")
def pg_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    pg = create_pg_database()
    handle, server, thread = start_server(tmp_path_factory.mktemp("pg"), {"MEDIAROUTER_DATABASE_URL": pg})
    yield handle
    server.should_exit = True
    thread.join(timeout=10)
    drop_pg_database(pg)


@pytest.fixture(params=["sqlite", "postgres"])
def api(request: pytest.FixtureRequest) -> Server:
    return request.getfixturevalue("gateway" if request.param == "sqlite" else "pg_gateway")


def _check(case: schemathesis.Case, api: Server) -> None:
    case.headers = {**(case.headers or {}), "Authorization": f"Bearer {api.admin_key}"}
    response = case.call(base_url=api.url, timeout=30)
    assert response.status_code < 500, response.text
    # Auth is injected above, so the auth-removal checks do not apply (tests/api/test_errors.py covers
    # auth). Which values a model accepts (sizes, qualities) depends on the model, beyond what a
    # static schema can say, so schema-valid requests may still get a clear 400.
    case.validate_response(
        response,
        excluded_checks=[
            checks.missing_required_header,
            checks.ignored_auth,
            checks.positive_data_acceptance,
        ],
    )


_SETTINGS = {"deadline": None, "derandomize": True, "suppress_health_check": list(HealthCheck)}


@schema.exclude(path_regex=UPSTREAM_PATHS).parametrize()
@settings(max_examples=50, **_SETTINGS)
def test_no_server_errors_and_responses_match_the_schema(case: schemathesis.Case, api: Server) -> None:
    _check(case, api)


@schema.include(path_regex=UPSTREAM_PATHS).parametrize()
@settings(max_examples=25, **_SETTINGS)
def test_provider_paths_no_server_errors_and_match_the_schema(case: schemathesis.Case, api: Server) -> None:
    _check(case, api)


def _documented(path: str) -> str:
    return path.replace("{model_id:path}", "{model_id}")


def test_every_routed_path_and_method_is_documented() -> None:
    from mediarouter.api.routes import routes

    paths = openapi_document()["paths"]
    for route in routes():
        path = _documented(route.path)  # type: ignore[attr-defined]
        if not path.startswith("/v1/") and path not in ("/health", "/metrics", "/openapi.json"):
            continue  # the /openai/v1 and bare aliases of the /v1 paths
        documented = {m.upper() for m in paths[path]}
        assert set(route.methods) - {"HEAD"} <= documented, path  # type: ignore[attr-defined]


def test_a_405_lists_every_method_of_the_path(admin: object, gateway: Server) -> None:
    import httpx

    for path, methods in (("/v1/keys", {"GET", "POST"}), ("/v1/keys/k1", {"PATCH", "DELETE"})):
        r = httpx.request("PUT", gateway.url + path, headers={"Authorization": f"Bearer {gateway.admin_key}"})
        assert r.status_code == 405
        assert methods <= {m.strip() for m in r.headers["Allow"].split(",")}, r.headers["Allow"]


@pytest.mark.parametrize("field", ["rpm", "max_concurrency"])
def test_a_limit_past_the_stores_integer_is_a_400(api: Server, field: str) -> None:
    import httpx

    headers = {"Authorization": f"Bearer {api.admin_key}"}
    for method, path in (("POST", "/v1/keys"), ("PATCH", "/v1/keys/no-such-key")):
        body = {field: 2**31} if method == "PATCH" else {"name": "big", field: 2**31}
        r = httpx.request(method, api.url + path, json=body, headers=headers)
        assert r.status_code == 400 and r.json()["error"]["param"] == field, r.text
    r = httpx.post(api.url + "/v1/keys", json={"name": "max", field: 2**31 - 1}, headers=headers)
    assert r.status_code == 201 and r.json()["limits"][field] == 2**31 - 1, r.text
