"""Google Wallet in the product, against the local Google stand-in (OAuth token exchange and
the walletobjects API): the Save button, the Save link, the object kept up to date by
stamps, linked reward offers with notifications inside Google's quota, and the rate limit."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from django.db import connection
from django.test import Client

from loyalty.models import Card, StampSource
from loyalty.services import card_add_stamps, customer_join, program_create
from tenants.scoping import tenant_scope
from vouchers.services import template_create, trigger_create
from wallet import google as wallet_google
from wallet.google_wallet import MAX_SAVE_URL_LENGTH, SAVE_URL_PREFIX
from wallet.models import WalletPass

from .google_server import (
    API_PREFIX,
    SERVICE_ACCOUNT_EMAIL,
    GoogleWalletStandIn,
    ServiceAccount,
    make_service_account,
)

pytestmark = pytest.mark.django_db
ISSUER_ID = "3388000000022223333"
GOOGLE_LIMIT_PER_SECOND = 20  # "Calls to the Google Wallet API are rate limited to 20 rps"


class TimedStandIn(GoogleWalletStandIn):
    """The stand-in, also noting when each API call arrived (for the rate limit)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._timeline_lock = threading.Lock()
        self.timeline: list[tuple[float, str, str]] = []

    def record(self, method: str, path: str, body: Any, status: int) -> None:
        with self._timeline_lock:
            self.timeline.append((time.monotonic(), method, path))
        super().record(method, path, body, status)


@pytest.fixture(scope="module")
def sa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def google(sa_key: rsa.RSAPrivateKey) -> Iterator[TimedStandIn]:
    with TimedStandIn(
        issuer_id=ISSUER_ID,
        service_account_email=SERVICE_ACCOUNT_EMAIL,
        service_account_public_key=sa_key.public_key(),
    ) as server:
        yield server


@pytest.fixture
def service_account(
    google: TimedStandIn, sa_key: rsa.RSAPrivateKey, tmp_path: Path, settings: Any
) -> ServiceAccount:
    """Google Wallet configured: issuer, service-account JSON (token_uri = the stand-in)."""
    account = make_service_account(tmp_path / "sa", google.token_uri, private_key=sa_key)
    settings.GOOGLE_WALLET_ISSUER_ID = ISSUER_ID
    settings.GOOGLE_APPLICATION_CREDENTIALS = str(account.json_path)
    settings.GOOGLE_WALLET_API_BASE = google.api_base
    return account


def make_card(world: Any, *, goal: int = 3, voucher_at_goal: bool = True) -> Card:
    with tenant_scope(world.tenant):
        program = program_create(
            tenant=world.tenant,
            data={"name": "Coffee", "stamp_goal": goal, "reward_text": "a free coffee"},
        )
        if voucher_at_goal:
            template = template_create(
                tenant=world.tenant, data={"reward_title": "Free coffee", "method": "redeem_code"}
            )
            trigger_create(template=template, program=program, kind="stamp_goal")
        card, _ = customer_join(program=program, name="Maya", email="maya@example.test")
    return card


@pytest.fixture
def card(world_a: Any) -> Card:
    return make_card(world_a)


def object_id(card: Card) -> str:
    return f"{ISSUER_ID}.sw-card-{card.serial_number}"


def save(card: Card) -> str:
    """The customer taps "Save to Google Wallet": the redirect's Save URL."""
    response = Client().get(f"/card/{card.token}/google/")
    assert response.status_code == 302
    return response["Location"]


def stamp(world: Any, card: Card, count: int, capture: Any) -> None:
    """Stamps at the counter; the wallet push runs after commit (eager Celery in tests)."""
    with tenant_scope(world.tenant), capture(execute=True) as callbacks:
        card_add_stamps(card=card, count=count, source=StampSource.STAFF)
    # The test's own transaction never commits, so the callbacks just run stay queued on the
    # connection, where the wallet's "one push per card per transaction" check would take
    # the next stamp's push for already pending. Drop them, as a real commit does.
    ran = {id(callback) for callback in callbacks}
    connection.run_on_commit[:] = [
        entry for entry in connection.run_on_commit if id(entry[1]) not in ran
    ]


def calls_to(google: TimedStandIn, method: str, suffix: str = "") -> list[Any]:
    return [c for c in google.calls if c.method == method and c.path.endswith(suffix)]


def test_save_inserts_class_and_object_and_redirects_with_a_short_signed_jwt(
    world_a: Any, card: Card, google: TimedStandIn, service_account: ServiceAccount, settings: Any
) -> None:
    # given Google Wallet is configured, the card page offers it
    page = Client().get(f"/card/{card.token}/").content.decode()
    assert 'data-testid="add-google"' in page
    assert "Save to Google Wallet" in page
    assert f'href="/card/{card.token}/google/"' in page

    # when the customer taps the button
    url = save(card)

    # then the class and the object were inserted over REST first
    class_id = f"{ISSUER_ID}.sw-program-{card.program_id}"
    stored_class = google.stored("loyaltyClass", class_id)
    assert stored_class is not None
    assert stored_class["programName"] == "Coffee"
    assert stored_class["issuerName"] == world_a.tenant.name
    stored = google.stored("loyaltyObject", object_id(card))
    assert stored is not None
    assert stored["classId"] == class_id
    assert stored["state"] == "ACTIVE"
    assert stored["accountName"] == "Maya"
    assert stored["loyaltyPoints"]["balance"]["string"] == "0 / 3"
    assert stored["barcode"]["value"] == card.token
    assert [c.method for c in google.calls] == ["GET", "POST", "POST"]  # class 404, 2 inserts
    # and the browser goes to Google with a skinny JWT signed by the service account
    assert url.startswith(SAVE_URL_PREFIX)
    token = url[len(SAVE_URL_PREFIX) :]
    assert len(token) < MAX_SAVE_URL_LENGTH
    assert len(url) < MAX_SAVE_URL_LENGTH
    claims = jwt.decode(token, service_account.public_key, algorithms=["RS256"], audience="google")
    assert jwt.get_unverified_header(token)["kid"] == service_account.key_id
    assert claims["iss"] == SERVICE_ACCOUNT_EMAIL
    assert claims["typ"] == "savetowallet"
    assert claims["origins"] == [settings.PUBLIC_BASE_URL]
    assert claims["payload"] == {"loyaltyObjects": [{"id": object_id(card)}]}
    with tenant_scope(world_a.tenant):
        wallet_pass = WalletPass.objects.get(card=card)
    assert wallet_pass.google_object_id == object_id(card)
    assert wallet_pass.google_saved_at is not None

    # a second tap inserts nothing more; it signs a new link to the same object
    again = save(card)
    assert len(google.calls) == 3
    assert jwt.decode(
        again[len(SAVE_URL_PREFIX) :],
        service_account.public_key,
        algorithms=["RS256"],
        audience="google",
    )["payload"] == {"loyaltyObjects": [{"id": object_id(card)}]}


def test_stamps_patch_the_object_and_rewards_notify_three_times_a_day_then_quietly(
    world_a: Any,
    card: Card,
    google: TimedStandIn,
    service_account: ServiceAccount,
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given the card is in Google Wallet
    save(card)
    object_path = API_PREFIX + "loyaltyObject/" + quote(object_id(card), safe="")

    # when a stamp is added
    stamp(world_a, card, 1, django_capture_on_commit_callbacks)

    # then the object is PATCHed with the new count, without a notification
    [patch] = calls_to(google, "PATCH", object_path)
    assert patch.status == 200
    assert patch.body["loyaltyPoints"]["balance"]["string"] == "1 / 3"
    assert patch.body["linkedOfferIds"] == []
    assert google.stored("loyaltyObject", object_id(card))["loyaltyPoints"]["balance"] == {
        "string": "1 / 3"
    }
    assert calls_to(google, "POST", "/addMessage") == []

    # when the goal is reached, a voucher is issued
    stamp(world_a, card, 2, django_capture_on_commit_callbacks)

    # then it becomes a linked offer with its redeem code, and the customer is notified
    with tenant_scope(world_a.tenant):
        [voucher] = card.vouchers.all()
    offer_id = f"{ISSUER_ID}.sw-voucher-{voucher.pk}"
    offer = google.stored("offerObject", offer_id)
    assert offer is not None
    assert offer["barcode"]["alternateText"] == voucher.code_display
    assert google.stored("offerClass", offer["classId"])["title"] == "Free coffee"
    stored = google.stored("loyaltyObject", object_id(card))
    assert stored["linkedOfferIds"] == [offer_id]
    assert stored["loyaltyPoints"]["balance"]["string"] == "0 / 3"  # next cycle
    [message] = stored["messages"]
    assert message["messageType"] == "TEXT_AND_NOTIFY"
    assert message["body"] == "Your Free coffee is ready"
    assert message["header"] == world_a.tenant.name

    # when three more rewards follow within 24 hours
    for _ in range(3):
        stamp(world_a, card, 3, django_capture_on_commit_callbacks)

    # then the first three buzzed the phone and the fourth is shown without a buzz
    stored = google.stored("loyaltyObject", object_id(card))
    assert [m["messageType"] for m in stored["messages"]] == [
        "TEXT_AND_NOTIFY",
        "TEXT_AND_NOTIFY",
        "TEXT_AND_NOTIFY",
        "TEXT",
    ]
    assert len(stored["linkedOfferIds"]) == 4
    assert all(c.status == 200 for c in google.calls if c.method != "GET")
    with tenant_scope(world_a.tenant):
        card.refresh_from_db()
        wallet_pass = WalletPass.objects.get(card=card)
    assert wallet_pass.google_pushed_version == card.version
    assert wallet_pass.google_pushed_at is not None


def max_in_any_second(moments: list[float]) -> int:
    """The most calls inside any window [t, t + 1 s)."""
    moments = sorted(moments)
    best, start = 0, 0
    for end, moment in enumerate(moments):
        while moment - moments[start] >= 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best


def test_a_burst_of_updates_stays_under_googles_rate_limit(
    world_a: Any, google: TimedStandIn, service_account: ServiceAccount
) -> None:
    # given a card in Google Wallet, and a lull (the limiter's bucket is as full as it gets)
    card = make_card(world_a, goal=30, voucher_at_goal=False)
    save(card)
    with tenant_scope(world_a.tenant):
        card = Card.objects.select_related("tenant", "program", "customer").get(pk=card.pk)
    time.sleep(1.1)
    first = len(google.timeline)

    # when three workers push 30 updates of it as fast as they can (a local PATCH takes a
    # few milliseconds, so without the limiter all 30 would land within a fraction of a second)
    def worker() -> None:
        for _ in range(10):
            wallet_google.patch_object(card, [], None)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # then all 30 PATCHes reached Google, and never more than 20 calls in any second
    burst = google.timeline[first:]
    assert [method for _t, method, _path in burst] == ["PATCH"] * 30
    assert all(c.status == 200 for c in calls_to(google, "PATCH"))
    moments = [t for t, _method, _path in burst]
    busiest = max_in_any_second(moments)
    rate = (len(moments) - 1) / (moments[-1] - moments[0])
    print(f"30 PATCHes: {rate:.1f}/s on average, at most {busiest} in one second")  # noqa: T201
    assert busiest <= GOOGLE_LIMIT_PER_SECOND


def test_without_credentials_the_button_is_hidden_and_save_is_404(
    card: Card, settings: Any
) -> None:
    settings.GOOGLE_WALLET_ISSUER_ID = ""
    settings.GOOGLE_APPLICATION_CREDENTIALS = ""

    page = Client().get(f"/card/{card.token}/")

    assert page.status_code == 200
    assert 'data-testid="add-google"' not in page.content.decode()
    assert "Save to Google Wallet" not in page.content.decode()
    assert Client().get(f"/card/{card.token}/google/").status_code == 404


def test_an_unknown_card_is_404_even_with_credentials(service_account: ServiceAccount) -> None:
    assert Client().get("/card/not-a-card-token/google/").status_code == 404
