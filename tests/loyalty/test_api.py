"""The loyalty API: programs, cards, stamps with Stripe-style idempotency."""

from __future__ import annotations

import threading
import uuid

import pytest
import requests

from loyalty.models import Card, StampEvent
from loyalty.services import program_update
from tenants.scoping import tenant_scope

pytestmark = pytest.mark.django_db


def stamp(api, card_id, key, body=None):
    return api.post(
        f"/api/v1/cards/{card_id}/stamps",
        body or {"count": 1},
        content_type="application/json",
        headers={"Idempotency-Key": key},
    )


def test_programs_list_and_detail(world_a, program_a):
    listing = world_a.api.get("/api/v1/programs").json()
    assert [p["name"] for p in listing] == ["Coffee card"]
    detail = world_a.api.get(f"/api/v1/programs/{program_a.pk}").json()
    assert detail["goal"] == 10
    assert detail["join_url"].endswith(f"/join/{program_a.join_token}/")


def test_create_card_then_same_email_returns_it(world_a, program_a):
    body = {"customer": {"name": "Lea", "email": "Lea@Example.test"}}
    first = world_a.api.post(
        f"/api/v1/programs/{program_a.pk}/cards", body, content_type="application/json"
    )
    assert first.status_code == 201
    card = first.json()
    assert {"id", "token", "program", "stamps", "goal", "cycle"} <= card.keys()
    assert (card["stamps"], card["goal"], card["cycle"]) == (0, 10, 1)
    again = world_a.api.post(
        f"/api/v1/programs/{program_a.pk}/cards", body, content_type="application/json"
    )
    assert again.status_code == 200
    assert again.json()["id"] == card["id"]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"customer": {"name": "X", "email": "not-an-email"}}, "invalid"),
        ({"customer": {}}, "invalid"),
        ({}, "invalid"),
        ({"customer": {"name": "X", "phone": "12"}}, "invalid_phone"),
    ],
)
def test_bad_card_input_is_a_clear_400_and_creates_nothing(world_a, program_a, body, code):
    response = world_a.api.post(
        f"/api/v1/programs/{program_a.pk}/cards", body, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == code
    assert response.json()["detail"]
    with tenant_scope(world_a.tenant):
        assert Card.objects.count() == 0


def test_paused_program_refuses_new_cards(world_a, program_a):
    with tenant_scope(world_a.tenant):
        program_update(program=program_a, data={"is_active": False})
    response = world_a.api.post(
        f"/api/v1/programs/{program_a.pk}/cards",
        {"customer": {"name": "Z"}},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["code"] == "program_paused"


def test_stamp_with_idempotency_key_replays_the_first_answer(world_a, card_a):
    first = stamp(world_a.api, card_a.pk, "key-1")
    assert first.status_code == 201
    assert first.json()["card"]["stamps"] == 1
    assert first.json()["vouchers_issued"] == []
    again = stamp(world_a.api, card_a.pk, "key-1")
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    with tenant_scope(world_a.tenant):
        assert StampEvent.objects.filter(card=card_a).count() == 1


def test_same_key_with_a_different_body_is_422(world_a, card_a):
    stamp(world_a.api, card_a.pk, "key-2", {"count": 1})
    response = stamp(world_a.api, card_a.pk, "key-2", {"count": 3})
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    with tenant_scope(world_a.tenant):
        assert StampEvent.objects.filter(card=card_a).count() == 1


def test_missing_key_and_bad_count_are_400(world_a, card_a):
    response = world_a.api.post(
        f"/api/v1/cards/{card_a.pk}/stamps", {"count": 1}, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "idempotency_key_required"
    response = stamp(world_a.api, card_a.pk, "key-3", {"count": 0})
    assert response.status_code == 400
    with tenant_scope(world_a.tenant):
        assert not StampEvent.objects.filter(card=card_a).exists()


def test_rule_refusal_is_409_with_a_message(world_a, card_a, program_a):
    with tenant_scope(world_a.tenant):
        program_update(program=program_a, data={"cooldown_minutes": 60})
    assert stamp(world_a.api, card_a.pk, "a").status_code == 201
    refused = stamp(world_a.api, card_a.pk, "b")
    assert refused.status_code == 409
    assert refused.json()["code"] == "cooldown"
    assert "minutes" in refused.json()["detail"]


def test_api_needs_a_key(client, card_a):
    response = client.get(f"/api/v1/cards/{card_a.pk}")
    assert response.status_code in (401, 403)
    assert "detail" in response.json()


def _concurrently(n, fn):
    results: list = [None] * n
    barrier = threading.Barrier(n)

    def run(i):
        barrier.wait()
        results[i] = fn(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_k_concurrent_stamps_over_http_give_exactly_k(live_server, world_a, card_a):
    # Given a 10-stamp card, when 23 stamps arrive at once over HTTP (distinct keys),
    # then the card has exactly 23 stamps: cycle 3 with 3, and the ledger agrees.
    k = 23
    headers = {"Authorization": f"Bearer {world_a.api_key}"}
    url = f"{live_server.url}/api/v1/cards/{card_a.pk}/stamps"
    responses = _concurrently(
        k,
        lambda i: requests.post(
            url,
            json={"count": 1},
            timeout=60,
            headers={**headers, "Idempotency-Key": str(uuid.uuid4())},
        ),
    )
    assert [r.status_code for r in responses] == [201] * k
    with tenant_scope(world_a.tenant):
        card = Card.objects.get(pk=card_a.pk)
        events = StampEvent.objects.filter(card=card)
        assert events.count() == k
        assert (card.cycle, card.stamps, card.total_stamps) == (3, 3, k)
        # Each stamp saw the one before it: positions 1..k, none lost, none doubled.
        positions = sorted((e.cycle_after, e.stamps_after) for e in events)
        assert positions == sorted((1 + i // 10, i % 10) for i in range(1, k + 1))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_32_concurrent_requests_with_one_key_stamp_once(live_server, world_a, card_a):
    headers = {"Authorization": f"Bearer {world_a.api_key}", "Idempotency-Key": "same-key"}
    url = f"{live_server.url}/api/v1/cards/{card_a.pk}/stamps"
    responses = _concurrently(
        32, lambda i: requests.post(url, json={"count": 2}, headers=headers, timeout=60)
    )
    assert {r.status_code for r in responses} == {201}
    bodies = [r.json() for r in responses]
    assert all(body == bodies[0] for body in bodies)
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in responses) == 31
    with tenant_scope(world_a.tenant):
        assert StampEvent.objects.filter(card_id=card_a.pk).count() == 1
        assert Card.objects.get(pk=card_a.pk).stamps == 2


def test_idempotency_keys_are_kept_at_least_24_hours(world_a, card_a):
    from datetime import timedelta

    from django.utils import timezone

    from tenants.models import IdempotencyRecord
    from tenants.services import idempotency_purge

    stamp(world_a.api, card_a.pk, "day-old")
    stamp(world_a.api, card_a.pk, "two-days-old")
    with tenant_scope(world_a.tenant):
        now = timezone.now()
        IdempotencyRecord.objects.filter(key="day-old").update(created_at=now - timedelta(hours=25))
        IdempotencyRecord.objects.filter(key="two-days-old").update(
            created_at=now - timedelta(hours=49)
        )
    assert idempotency_purge() == 1
    # A day later the first key still replays instead of stamping again.
    replay = stamp(world_a.api, card_a.pk, "day-old")
    assert replay["Idempotent-Replayed"] == "true"
    with tenant_scope(world_a.tenant):
        assert StampEvent.objects.filter(card=card_a).count() == 2
