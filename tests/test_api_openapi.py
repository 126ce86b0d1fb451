"""The API's OpenAPI 3.1 document (issue 16): generated from the code, valid
(openapi-spec-validator), holding every ``/api/`` route, and true: Schemathesis calls
every operation in process with a valid token and finds no 5xx and no answer that
breaks the document."""

from __future__ import annotations

import itertools

import schemathesis
from hypothesis import HealthCheck, given, settings
from openapi_spec_validator import validate
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api_setup import api_client, token

# Served, not operations of the API: the document itself and its reference page.
NOT_OPERATIONS = {"/api/v1/openapi.json", "/api/v1/docs"}


def test_the_document_is_valid_openapi_3_1(app, tenants):
    response = app.test_client().get("http://a.test/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"] == "3.1.0"
    validate(document)


def test_every_api_route_is_in_the_document(app, tenants):
    document = app.test_client().get("http://a.test/api/v1/openapi.json").get_json()
    documented = {
        (path, method.upper())
        for path, operations in document["paths"].items()
        for method in operations
        if method != "parameters"
    }
    missing = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/") or rule.rule in NOT_OPERATIONS:
            continue
        path = rule.rule.replace("<int:", "{").replace("<", "{").replace(">", "}")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            if (path, method) not in documented:
                missing.append((path, method))
    assert not missing
    assert ("/api/v1/clients", "GET") in documented


def test_every_operation_declares_its_scope(app, tenants):
    document = app.test_client().get("http://a.test/api/v1/openapi.json").get_json()
    for operations in document["paths"].values():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            assert operation["security"][0]["oauth2"], operation


def test_every_operation_is_in_one_of_the_documents_sections(app, tenants):
    document = app.test_client().get("http://a.test/api/v1/openapi.json").get_json()
    sections = [tag["name"] for tag in document["tags"]]
    assert sections == ["Clients", "Client users", "Billing", "Desks and tickets", "Audit log"]
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in {"get", "post", "patch", "put", "delete"}:
                assert len(operation["tags"]) == 1 and operation["tags"][0] in sections, (method, path)


def test_every_operation_keeps_to_the_document(app, tenants):
    """Schemathesis over every operation (10 valid and 10 invalid examples each), with a
    valid token of A."""
    client_id, secret, _ = api_client(app, tenants.a.id)
    headers = {"Authorization": f"Bearer {token(app, client_id, secret)}", "Host": "a.test"}
    checks = [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
    ]
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 4

    # Valid inputs, then invalid ones (which must be refused with a documented problem).
    for operation, mode in itertools.product(operations, GenerationMode):

        @given(case=operation.as_strategy(mode))
        @settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
        def keeps_to_the_document(case):
            case.call_and_validate(headers=headers, checks=checks)

        keeps_to_the_document()
