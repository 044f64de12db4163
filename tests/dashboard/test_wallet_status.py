"""Wallets in the dashboard: on the customer page, which wallets each card is in and when
they were last updated; on the program page, the progress of a design change's fan-out."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_scopes import scopes_disabled

from tenants.scoping import tenant_scope
from tests.dashboard.conftest import join, make_program
from wallet import services as wallet_services
from wallet.models import WalletPass
from wallet.tasks import fan_out_key

pytestmark = pytest.mark.django_db

PUSHED = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
FETCHED = datetime(2026, 3, 10, 12, 1, tzinfo=UTC)
GOOGLE_PUSHED = datetime(2026, 3, 11, 9, 30, tzinfo=UTC)
PROGRAM_FORM = {
    "name": "Coffee card",
    "description": "",
    "stamp_goal": "10",
    "reward_text": "A free coffee",
    "card_color": "#112233",
    "text_color": "#ffffff",
    "stamp_color": "#ffcc00",
    "stamp_icon": "coffee",
    "max_stamps_per_visit": "",
    "cooldown_minutes": "",
    "daily_cap": "",
}


def card_section(body: str, card: Any) -> str:
    start = body.index(f'id="card-{card.pk}"')
    return body[start : body.index("</section>", start)]


def in_wallets(world: Any, card: Any, *, devices: int, google: bool) -> None:
    """The card's pass added on `devices` iPhones and/or saved to Google Wallet."""
    with tenant_scope(world.tenant):
        wallet_pass = wallet_services.wallet_pass_ensure(card=card)
        for number in range(devices):
            wallet_services.device_register(
                wallet_pass=wallet_pass,
                device_library_identifier=f"device{number}",
                push_token=f"{number:02x}" * 32,
            )
        if google:
            wallet_services.google_object_saved(
                wallet_pass=wallet_pass, object_id=f"issuer.sw-card-{card.pk}", version=1
            )


def test_customer_page_shows_each_cards_wallets_and_last_updates(world_a, manager_client):
    # given a customer with three cards: in Apple and Google Wallet, in Google only, in none
    coffee, cake, tea = (make_program(world_a, name=n) for n in ("Coffee", "Cake", "Tea"))
    both = join(coffee, "Ben Baker", "ben@example.test")
    google_only = join(cake, "Ben Baker", "ben@example.test")
    nowhere = join(tea, "Ben Baker", "ben@example.test")
    in_wallets(world_a, both, devices=2, google=True)
    in_wallets(world_a, google_only, devices=0, google=True)
    with scopes_disabled():
        WalletPass.objects.filter(card=both).update(
            apple_pushed_at=PUSHED, apple_fetched_at=FETCHED, google_pushed_at=GOOGLE_PUSHED
        )

    # when the manager opens the customer
    response = manager_client.get(reverse("dashboard:customer_detail", args=[both.customer_id]))

    # then each card says where it is and when each wallet was last updated (in the
    # business's time zone, as the rest of the dashboard)
    assert response.status_code == 200
    body = response.content.decode()
    local = world_a.tenant.tzinfo
    first = card_section(body, both)
    assert "On 2 devices" in first
    assert f'datetime="{PUSHED.astimezone(local).isoformat()}"' in first
    assert f'datetime="{FETCHED.astimezone(local).isoformat()}"' in first
    google_part = first[first.index('data-testid="wallet-google"') :]
    assert "Yes" in google_part
    assert f'datetime="{GOOGLE_PUSHED.astimezone(local).isoformat()}"' in google_part

    second = card_section(body, google_only)
    apple_part = second[second.index('data-testid="wallet-apple"') : second.index("wallet-google")]
    assert "No" in apple_part
    assert "Last update sent" not in apple_part
    assert "not since it was saved" in second

    third = card_section(body, nowhere)
    assert "Not in Apple Wallet or Google Wallet yet." in third
    assert 'data-testid="wallet-apple"' not in third


def test_customer_page_wallet_status_needs_no_query_per_card(world_a, manager_client):
    # given a customer with cards in three programs, all in wallets
    for name in ("Coffee", "Cake", "Tea"):
        card = join(make_program(world_a, name=name), "Ben Baker", "ben@example.test")
        in_wallets(world_a, card, devices=1, google=True)
    url = reverse("dashboard:customer_detail", args=[card.customer_id])
    manager_client.get(url)  # warm up the session and the cached permission look-ups
    with CaptureQueriesContext(connection) as queries:
        manager_client.get(url)
    wallet_queries = [q for q in queries.captured_queries if "wallet_walletpass" in q["sql"]]

    # then the wallet status of all the cards came from one query
    assert len(wallet_queries) == 1


def program_page(client: Any, program: Any) -> str:
    response = client.get(reverse("dashboard:program_edit", args=[program.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_program_page_shows_a_running_design_fan_out(world_a, manager_client):
    # given a design change being sent to 1,200 cards, 500 done
    program = make_program(world_a)
    cache.set(fan_out_key(program.pk), {"total": 1200, "done": 500}, 60)

    # when the manager opens the program, then the progress shows
    body = program_page(manager_client, program)
    assert 'data-testid="wallet-update"' in body
    assert "Sending the new design to the cards:" in body
    assert '<span data-progress-field="done_count">500</span> / 1200' in body
    assert 'aria-valuenow="41"' in body
    assert "width: 41%" in body
    # and the page follows it live from the JSON endpoint
    url = reverse("dashboard:program_wallet_update", args=[program.pk])
    assert f'data-progress-url="{url}"' in body
    state = manager_client.get(url).json()
    assert (state["done_count"], state["total"], state["percent"], state["done"]) == (
        500,
        1200,
        41,
        False,
    )
    cache.set(fan_out_key(program.pk), {"total": 1200, "done": 1200}, 60)
    assert manager_client.get(url).json()["done"] is True


def test_program_page_shows_a_finished_fan_out_after_a_design_change(
    world_a, manager_client, django_capture_on_commit_callbacks
):
    # given a program with three cards and no fan-out yet: nothing about it on the page
    program = make_program(world_a)
    for name in ("Ann", "Ben", "Cid"):
        join(program, name)
    assert 'data-testid="wallet-update"' not in program_page(manager_client, program)

    # when the manager changes the card's colour (the fan-out runs after commit)
    with django_capture_on_commit_callbacks(execute=True):
        response = manager_client.post(
            reverse("dashboard:program_edit", args=[program.pk]),
            {**PROGRAM_FORM, "card_color": "#654321"},
        )
    assert response.status_code == 302

    # then the page says the new design went out to every card
    body = program_page(manager_client, program)
    assert "The new design went out to all 3 cards of the program." in body
    assert 'role="progressbar"' not in body[body.index('data-testid="wallet-update"') :][:800]


def test_another_tenants_fan_out_is_not_shown(world_a, world_b, manager_client):
    # given a fan-out of tenant B's program
    theirs = make_program(world_b)
    cache.set(fan_out_key(theirs.pk), {"total": 10, "done": 3}, 60)

    # then tenant A's manager cannot open that program at all
    response = manager_client.get(reverse("dashboard:program_edit", args=[theirs.pk]))
    assert response.status_code == 404
