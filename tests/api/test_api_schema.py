"""Schemathesis against the OpenAPI document of a running `relay serve` (a real process, real
SMTP, real SQLite), with an admin token: every read endpoint, with generated and with real
path parameters, must never answer 5xx and must answer as the document says (status code,
content type, body schema)."""

from __future__ import annotations

import json
import smtplib
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from aiosmtpd.controller import Controller
from conftest import BUYER, ROOT, SELLER, SELLER2, compose, free_port
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from support.relay_process import RelayProcess

from relay.api.app import create_app
from relay.api.tokens import entry, new_token
from relay.config import Config
from relay.server import Relay

ADMIN = new_token()
AUTH = {"Authorization": f"Bearer {ADMIN}"}
OTHER_SELLER = "hello@other-shop.example"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, response_headers_conformance]
EXAMPLES = 30


def _operations(reads: bool) -> list[tuple[str, str]]:
    """The operations of the document the relay serves (checked against the running one in
    test_the_served_document_has_these_operations): the reads (GET), or the rest."""
    document = create_app(Relay(Config())).openapi()
    return sorted((method.upper(), path) for path, item in document["paths"].items()
                  for method in item if (method == "get") == reads)


READS = _operations(reads=True)
WRITES = _operations(reads=False)


class Sink:
    """The smarthost: takes every message."""

    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.count += 1
        return "250 OK"


@dataclass
class Served:
    relay: RelayProcess
    values: dict[str, list[str]] = field(default_factory=dict)  # path parameter -> real ones

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.relay.api_port}"

    @property
    def smtp_port(self) -> int:
        return self.relay.smtp_port


def write_config(tmp: Path, smtp_port: int, api_port: int, smarthost_port: int) -> Path:
    path = tmp / "relay.toml"
    path.write_text(f"""
domain = "relay.test"
shutdown_grace = 2.0
templates = {json.dumps(str(ROOT / "relay" / "default_templates"))}

[smtp]
host = "127.0.0.1"
port = {smtp_port}

[store]
path = {json.dumps(str(tmp / "relay.db"))}

[delivery]
mode = "smtp"
smtp_host = "127.0.0.1"
smtp_port = {smarthost_port}
smtp_timeout = 5.0
smtp_starttls = "never"
retry_initial = 0.2
retry_max = 1.0
poll_interval = 0.1
maildir = {json.dumps(str(tmp / "maildir"))}
bounce_key = {json.dumps(str(tmp / "bounce.key"))}

[dkim]
key = {json.dumps(str(tmp / "dkim.pem"))}

[rules]
contact_phone = "reject"

[api]
host = "127.0.0.1"
port = {api_port}
tokens = [{json.dumps(entry("admin", ADMIN))}]

[submission]
port = 0
tls_cert = {json.dumps(str(tmp / "cert.pem"))}
tls_key = {json.dumps(str(tmp / "key.pem"))}
""", encoding="utf-8")
    return path


def wait_ready(served: Served, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        served.relay.alive()
        try:
            if httpx.get(f"{served.base}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, f"relay not ready:\n{served.relay.log()[-3000:]}"
        time.sleep(0.05)


def smtp_send(served: Served, sender: str, alias: str, body: str) -> tuple[int, str]:
    with smtplib.SMTP("127.0.0.1", served.smtp_port, timeout=10) as client:
        client.ehlo("client.example")
        try:
            client.sendmail(sender, [alias], compose(sender, alias, body=body))
        except smtplib.SMTPDataError as exc:
            return exc.smtp_code, exc.smtp_error.decode()
        return 250, "queued"


def populate(served: Served) -> None:
    """Conversations, messages both ways, a refused one, a template, marks, buyer facts."""
    with httpx.Client(base_url=served.base, headers=AUTH, timeout=10) as api:
        def ok(method: str, path: str, status: int = 200, **kwargs: Any) -> Any:
            response = api.request(method, path, **kwargs)
            assert response.status_code == status, (path, response.text)
            return response.json()

        delivered = (datetime.now(UTC).date() - timedelta(days=10)).isoformat()
        conv = ok("POST", "/v1/conversations", 201, json={
            "order_id": "112-1234567-1234567", "buyer": BUYER, "sellers": [SELLER, SELLER2],
            "delivered_on": delivered})
        other = ok("POST", "/v1/conversations", 201, json={
            "order_id": "112-7654321-7654321", "buyer": BUYER, "sellers": [OTHER_SELLER]})
        closed = ok("POST", "/v1/conversations", 201, json={
            "order_id": "112-0000000-0000003", "buyer": BUYER, "sellers": [SELLER]})
        for sender, alias, body, code in [
            (BUYER, conv["seller_alias"], "Is the lamp base size 2?", 250),
            (SELLER, conv["buyer_alias"], "About the lamp base: it is size 2.", 250),
            (BUYER, conv["seller_alias"], "Please call me on +44 20 7946 0958 today.", 550),
            (BUYER, conv["seller_alias"], "And does the lamp come with a bulb?", 250),
            (BUYER, other["seller_alias"], "Is it in stock?", 250),
            (BUYER, closed["seller_alias"], "Is it in stock?", 250),
        ]:
            got, reply = smtp_send(served, sender, alias, body)
            assert got == code, reply
        ok("POST", f"/v1/conversations/{conv['conversation_id']}/messages", 201, json={
            "template": "shipping_delay", "variables": {"new_date": "the 3rd of May"}})
        ok("POST", f"/v1/conversations/{conv['conversation_id']}/review-request", 201)
        ok("POST", f"/v1/conversations/{closed['conversation_id']}/close")
        ok("PATCH", f"/v1/buyers/{BUYER}", json={"locale": "de-DE", "business": True})
        ok("PATCH", f"/v1/sellers/{SELLER}/settings", json={"notify_address": SELLER2})
        messages = ok("GET", "/v1/messages", params={"limit": 500})["messages"]
        assert len(messages) == 8
        ok("POST", f"/v1/messages/{messages[-1]['id']}/marks", json={"mark": "read"})
        ok("POST", f"/v1/messages/{messages[-2]['id']}/marks",
           json={"mark": "no_response_needed"})
        served.values = {
            "conversation_id": [c["conversation_id"] for c in (conv, other, closed)],
            "message_id": [m["id"] for m in messages],
            "address": [BUYER, SELLER, SELLER2, OTHER_SELLER],
        }


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[Served]:
    tmp = tmp_path_factory.mktemp("api-schema")
    sink = Controller(Sink(), hostname="127.0.0.1", port=free_port())
    sink.start()
    smtp_port, api_port = free_port(), free_port()
    relay = RelayProcess(write_config(tmp, smtp_port, api_port, sink.port))
    relay.start()
    running = Served(relay)
    try:
        wait_ready(running)
        populate(running)
        yield running
    finally:
        relay.close(grace=10)
        sink.stop()


@pytest.fixture(scope="module")
def schema(served: Served):
    return schemathesis.openapi.from_url(f"{served.base}/openapi.json")


def test_the_served_document_has_these_operations(served: Served, schema):
    document = httpx.get(f"{served.base}/openapi.json", timeout=10).json()
    assert document == create_app(Relay(Config())).openapi()
    served_ops = {(method.upper(), path) for path, item in document["paths"].items()
                  for method in item}
    assert served_ops == set(READS) | set(WRITES)
    assert len(READS) >= 14 and ("GET", "/v1/messages/{message_id}/delivered") in READS
    loaded = {(op.method.upper(), op.path) for op in (r.ok() for r in schema.get_all_operations())}
    assert loaded == served_ops


def test_the_checks_catch_an_answer_that_does_not_conform(served: Served, schema):
    """The checks are armed: a made-up answer the document does not allow fails them."""
    operation = schema["/v1/conversations"]["GET"]
    case = operation.Case(headers=AUTH)
    request = httpx.Request("GET", f"{served.base}/v1/conversations")
    for response in (httpx.Response(200, json=[{"conversation_id": 1}], request=request),
                     httpx.Response(200, text="[]", request=request,
                                    headers={"content-type": "text/html"}),
                     httpx.Response(418, json={"code": "x", "message": "y"}, request=request),
                     httpx.Response(500, json={"code": "x", "message": "y"}, request=request)):
        response.elapsed = timedelta(0)
        with pytest.raises((Failure, FailureGroup)):
            case.validate_response(response, checks=CHECKS)
    case.validate_response(case.call(base_url=served.base, headers=AUTH, timeout=10),
                           checks=CHECKS)


def strategy(operation: Any, served: Served) -> st.SearchStrategy:
    """Generated cases, and cases whose path parameters are real ids and addresses (so the
    200 answers are checked too, not only the 404s)."""
    names = [p.name for p in operation.path_parameters]
    found = [operation.as_strategy(),
             operation.as_strategy(generation_mode=schemathesis.GenerationMode.NEGATIVE)]
    for name in names:
        for value in served.values.get(name, []):
            found.append(operation.as_strategy(path_parameters={name: value}))
    return st.one_of(found)


@pytest.mark.parametrize(("method", "path"), READS, ids=[f"{m} {p}" for m, p in READS])
def test_read_endpoint_conforms_to_its_document(served: Served, schema, method, path):
    operation = schema[path][method]
    statuses: list[int] = []

    @given(case=strategy(operation, served))
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def check(case) -> None:
        response = case.call(base_url=served.base, headers=AUTH, timeout=10)
        statuses.append(response.status_code)
        case.validate_response(response, checks=CHECKS)

    try:
        check()
    except BaseException:
        print(f"relay log (last lines):\n{served.relay.log()[-3000:]}")
        raise
    assert statuses, "no request was made"
    assert all(s < 500 for s in statuses)


@pytest.mark.parametrize(("method", "path"), READS, ids=[f"{m} {p}" for m, p in READS])
def test_read_endpoint_without_a_token_is_a_documented_401(served: Served, schema, method,
                                                           path):
    operation = schema[path][method]

    @given(case=operation.as_strategy())
    @settings(max_examples=3, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def check(case) -> None:
        response = case.call(base_url=served.base, headers={"Authorization": "Bearer nope"},
                             timeout=10)
        expected = 200 if path in ("/healthz", "/readyz") else 401
        assert response.status_code == expected, response.text
        case.validate_response(response, checks=CHECKS)

    check()



@pytest.mark.parametrize(("method", "path"), WRITES, ids=[f"{m} {p}" for m, p in WRITES])
def test_write_endpoint_conforms_to_its_document(served: Served, schema, method, path):
    """Generated bodies (mostly refused with 400, some taken: marks, dates, buyer facts, a
    close) against real and made-up ids: never 5xx, always as documented."""
    operation = schema[path][method]

    @given(case=strategy(operation, served))
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def check(case) -> None:
        response = case.call(base_url=served.base, headers=AUTH, timeout=10)
        case.validate_response(response, checks=CHECKS)

    try:
        check()
    except BaseException:
        print(f"relay log (last lines):\n{served.relay.log()[-3000:]}")
        raise


def test_opening_an_existing_conversation_again_is_a_documented_answer(served: Served, schema):
    operation = schema["/v1/conversations"]["POST"]
    body = {"order_id": "112-5555555-5555555", "buyer": BUYER, "sellers": [SELLER]}
    first = operation.Case(body=body, media_type="application/json")
    response = first.call(base_url=served.base, headers=AUTH, timeout=10)
    assert response.status_code == 201, response.text
    first.validate_response(response, checks=CHECKS)
    again = operation.Case(body=body, media_type="application/json")
    response = again.call(base_url=served.base, headers=AUTH, timeout=10)
    assert response.status_code == 200 and response.json()["created"] is False, response.text
    again.validate_response(response, checks=CHECKS)
