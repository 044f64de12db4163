"""Outgoing webhooks: signed, sent after commit, retried until the receiver says 2xx."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from loyalty.services import card_add_stamps, customer_join, program_create
from tenants.models import WebhookDelivery
from tenants.scoping import tenant_scope
from tenants.webhooks import verify, webhook_endpoint_create
from vouchers.services import template_create, trigger_create

pytestmark = pytest.mark.django_db


class Receiver:
    """A local HTTP server that records webhook requests; can fail the first N."""

    def __init__(self, fail_first: int = 0):
        self.requests: list[tuple[dict, bytes]] = []
        self.fail_first = fail_first
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                failing = len(receiver.requests) <= receiver.fail_first
                self.send_response(500 if failing else 204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def test_stamp_issue_and_redeem_are_sent_signed(
    world_a, receiver, django_capture_on_commit_callbacks
):
    with tenant_scope(world_a.tenant):
        endpoint = webhook_endpoint_create(
            tenant=world_a.tenant,
            url=receiver.url,
            events=["stamp.added", "voucher.issued", "voucher.redeemed"],
        )
        program = program_create(
            tenant=world_a.tenant, data={"name": "P", "stamp_goal": 2, "reward_text": "x"}
        )
        template = template_create(
            tenant=world_a.tenant, data={"reward_title": "Gift", "method": "redeem_code"}
        )
        trigger_create(template=template, program=program, kind="stamp_goal")
        card, _ = customer_join(program=program, name="Hook")
        with django_capture_on_commit_callbacks(execute=True):
            card_add_stamps(card=card, count=2, source="staff")
    events = [json.loads(body)["event"] for _headers, body in receiver.requests]
    assert events == ["voucher.issued", "stamp.added"] or sorted(events) == [
        "stamp.added",
        "voucher.issued",
    ]
    for headers, body in receiver.requests:
        assert verify(endpoint.secret, headers["Stampwise-Signature"], body)
        assert not verify("wrong-secret", headers["Stampwise-Signature"], body)
    stamp = next(
        json.loads(b) for h, b in receiver.requests if h["Stampwise-Event"] == "stamp.added"
    )
    assert stamp["data"]["card"]["cycle"] == 2
    with tenant_scope(world_a.tenant):
        voucher = card.vouchers.get()
    with django_capture_on_commit_callbacks(execute=True):
        response = world_a.api.post(
            "/api/v1/redeem", {"code": voucher.code}, content_type="application/json"
        )
    assert response.status_code == 200
    redeemed = [
        json.loads(b) for h, b in receiver.requests if h["Stampwise-Event"] == "voucher.redeemed"
    ]
    assert redeemed[0]["data"]["voucher"]["state"] == "redeemed"


def test_a_failing_receiver_is_retried_and_the_delivery_recorded(
    world_a, django_capture_on_commit_callbacks
):
    from tenants.tasks import deliver_webhook

    receiver = Receiver(fail_first=1)
    try:
        with tenant_scope(world_a.tenant):
            webhook_endpoint_create(tenant=world_a.tenant, url=receiver.url, events=["stamp.added"])
            program = program_create(tenant=world_a.tenant, data={"name": "P", "reward_text": "x"})
            card, _ = customer_join(program=program, name="Retry")
            with django_capture_on_commit_callbacks(execute=True):
                card_add_stamps(card=card, count=1, source="staff")
            delivery = WebhookDelivery.objects.get()
            assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
                "pending",
                1,
                500,
            )
        # The retry, as the worker runs it after the backoff:
        deliver_webhook.apply(kwargs={"tenant_id": world_a.tenant.pk, "delivery_id": delivery.pk})
        with tenant_scope(world_a.tenant):
            delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts) == ("delivered", 2)
        assert len(receiver.requests) == 2
    finally:
        receiver.close()


def test_owner_manages_webhooks_in_the_dashboard(world_a):
    owner = world_a.owner_client
    response = owner.post("/dashboard/webhooks/", {"url": "not a url", "events": ["stamp.added"]})
    assert response.status_code == 400
    response = owner.post(
        "/dashboard/webhooks/", {"url": "http://127.0.0.1:9/h", "events": ["stamp.added"]}
    )
    assert response.status_code == 302
    page = owner.get("/dashboard/webhooks/").content.decode()
    assert "http://127.0.0.1:9/h" in page
    assert world_a.staff_client.get("/dashboard/webhooks/").status_code == 403
