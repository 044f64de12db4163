"""Google Wallet client against the local stand-in (OAuth token exchange + objects API)."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from wallet.google_wallet import (
    MAX_SAVE_URL_LENGTH,
    SAVE_URL_PREFIX,
    WALLET_SCOPE,
    GoogleWalletClient,
    GoogleWalletError,
    LocalNotificationQuota,
    LocalTokenBucket,
    NotificationQuotaExceededError,
    RateLimitTimeoutError,
    RedisNotificationQuota,
    RedisTokenBucket,
    build_loyalty_class,
    build_loyalty_object,
    build_offer_class,
    build_offer_object,
    make_object_id,
)

from .google_server import (
    GOOGLE_TOKEN_AUDIENCE,
    SERVICE_ACCOUNT_EMAIL,
    GoogleWalletStandIn,
    ServiceAccount,
    make_service_account,
)

ISSUER_ID = "3388000000012345678"
CLASS_ID = f"{ISSUER_ID}.demo-cafe-program-1"


class FakeClock:
    """A clock the test moves by hand; ``sleep`` advances it (no wall time involved)."""

    def __init__(self, start: float = 1_000.0) -> None:
        self.now = start
        self.slept = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.slept += seconds


class CountingLimiter:
    def __init__(self) -> None:
        self.acquired = 0

    def acquire(self, timeout: float | None = None) -> bool:
        self.acquired += 1
        return True


@pytest.fixture(scope="module")
def sa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def google(sa_key: rsa.RSAPrivateKey) -> Iterator[GoogleWalletStandIn]:
    with GoogleWalletStandIn(
        issuer_id=ISSUER_ID,
        service_account_email=SERVICE_ACCOUNT_EMAIL,
        service_account_public_key=sa_key.public_key(),
    ) as server:
        yield server


@pytest.fixture
def service_account(
    google: GoogleWalletStandIn, sa_key: rsa.RSAPrivateKey, tmp_path: Path
) -> ServiceAccount:
    return make_service_account(tmp_path / "sa", google.token_uri, private_key=sa_key)


@pytest.fixture
def client(
    google: GoogleWalletStandIn, service_account: ServiceAccount
) -> Iterator[GoogleWalletClient]:
    wallet_client = GoogleWalletClient(
        ISSUER_ID,
        str(service_account.json_path),
        api_base=google.api_base,
        notification_quota=LocalNotificationQuota(),
    )
    yield wallet_client
    wallet_client.close()


def loyalty_class(program_name: str = "Demo Café stamps") -> dict:
    return build_loyalty_class(
        class_id=CLASS_ID,
        issuer_name="Demo Café",
        program_name=program_name,
        program_logo_uri="https://example.com/logo.png",
        hex_background_color="#1f2937",
    )


def loyalty_object(suffix: str = "card-abc", stamps: int = 3) -> dict:
    return build_loyalty_object(
        object_id=make_object_id(ISSUER_ID, suffix),
        class_id=CLASS_ID,
        account_name="Ada",
        account_id=suffix,
        stamps=stamps,
        goal=10,
        barcode_value=f"https://stampwise.example/card/{suffix}/",
    )


def test_token_exchange_uses_a_verified_service_account_assertion(
    client: GoogleWalletClient, google: GoogleWalletStandIn
) -> None:
    client.upsert_loyalty_class(loyalty_class())

    # one token exchange served every later call; its assertion verified with the public key
    [claims] = google.token_requests
    assert claims["iss"] == SERVICE_ACCOUNT_EMAIL
    assert claims["aud"] == GOOGLE_TOKEN_AUDIENCE
    assert claims["scope"] == WALLET_SCOPE
    assert all(call.status != 401 for call in google.calls)


def test_upsert_loyalty_class_inserts_then_patches(
    client: GoogleWalletClient, google: GoogleWalletStandIn
) -> None:
    created = client.upsert_loyalty_class(loyalty_class())
    updated = client.upsert_loyalty_class(loyalty_class(program_name="Renamed program"))

    assert created["programName"] == "Demo Café stamps"
    assert updated["programName"] == "Renamed program"
    assert google.stored("loyaltyClass", CLASS_ID)["programName"] == "Renamed program"
    assert [(c.method, c.status) for c in google.calls] == [
        ("GET", 404),
        ("POST", 200),
        ("GET", 200),
        ("PATCH", 200),
    ]


def test_insert_loyalty_object_twice_returns_the_existing_object(
    client: GoogleWalletClient, google: GoogleWalletStandIn
) -> None:
    client.upsert_loyalty_class(loyalty_class())
    first = client.insert_loyalty_object(loyalty_object(stamps=3))
    second = client.insert_loyalty_object(loyalty_object(stamps=7))

    assert first["loyaltyPoints"]["balance"]["string"] == "3 / 10"
    # 409 ALREADY_EXISTS is "already there", not an error; the stored object is unchanged
    assert second == first
    assert 409 in [c.status for c in google.calls if c.method == "POST"]


def test_insert_object_of_unknown_class_raises_with_googles_status(
    client: GoogleWalletClient,
) -> None:
    with pytest.raises(GoogleWalletError) as excinfo:
        client.insert_loyalty_object(loyalty_object())

    assert excinfo.value.status == 400
    assert excinfo.value.reason == "INVALID_ARGUMENT"


def test_patch_loyalty_object_changes_only_the_given_fields(
    client: GoogleWalletClient, google: GoogleWalletStandIn
) -> None:
    client.upsert_loyalty_class(loyalty_class())
    obj = client.insert_loyalty_object(loyalty_object(stamps=3))

    patched = client.patch_loyalty_object(
        obj["id"], {"loyaltyPoints": {"label": "Stamps", "balance": {"string": "4 / 10"}}}
    )

    stored = google.stored("loyaltyObject", obj["id"])
    assert patched["loyaltyPoints"]["balance"]["string"] == "4 / 10"
    assert stored["loyaltyPoints"]["balance"]["string"] == "4 / 10"
    assert stored["accountName"] == "Ada"
    assert google.calls[-1].method == "PATCH"
    assert google.calls[-1].body == {
        "loyaltyPoints": {"label": "Stamps", "balance": {"string": "4 / 10"}}
    }


def test_patch_unknown_object_raises_404(client: GoogleWalletClient) -> None:
    with pytest.raises(GoogleWalletError) as excinfo:
        client.patch_loyalty_object(f"{ISSUER_ID}.missing", {"state": "EXPIRED"})
    assert excinfo.value.status == 404


def test_add_message_notifies_three_times_then_the_fourth_is_refused(
    client: GoogleWalletClient, google: GoogleWalletStandIn
) -> None:
    client.upsert_loyalty_class(loyalty_class())
    obj = client.insert_loyalty_object(loyalty_object())

    for n in range(3):
        client.add_message(obj["id"], {"header": "Reward ready", "body": f"message {n}"})
    with pytest.raises(NotificationQuotaExceededError):
        client.add_message(obj["id"], {"header": "Reward ready", "body": "one too many"})

    add_calls = [c for c in google.calls if c.path.endswith("/addMessage")]
    assert len(add_calls) == 3
    assert {c.body["message"]["messageType"] for c in add_calls} == {"TEXT_AND_NOTIFY"}
    assert len(google.stored("loyaltyObject", obj["id"])["messages"]) == 3


def test_add_message_past_quota_can_downgrade_to_text(
    client: GoogleWalletClient, google: GoogleWalletStandIn
) -> None:
    client.upsert_loyalty_class(loyalty_class())
    obj = client.insert_loyalty_object(loyalty_object())
    for _ in range(3):
        client.add_message(obj["id"], {"header": "h", "body": "b"})

    client.add_message(
        obj["id"], {"header": "h", "body": "quiet"}, downgrade_when_quota_exceeded=True
    )

    last = google.calls[-1]
    assert last.status == 200
    assert last.body["message"]["messageType"] == "TEXT"


def test_notification_quota_is_a_rolling_24_hour_window() -> None:
    clock = FakeClock()
    quota = LocalNotificationQuota(clock=clock)

    assert [quota.try_consume("obj") for _ in range(4)] == [True, True, True, False]
    assert quota.try_consume("other-object") is True
    clock.now += 24 * 3600 - 1
    assert quota.try_consume("obj") is False
    clock.now += 2
    assert quota.remaining("obj") == 3
    assert quota.try_consume("obj") is True


def test_save_jwt_verifies_with_the_service_account_key_and_stays_short(
    client: GoogleWalletClient, service_account: ServiceAccount
) -> None:
    object_id = make_object_id(ISSUER_ID, "card-7f3e2a9c1b5d4e6f8a0b1c2d3e4f5a6b")

    token = client.save_jwt([object_id], origins=["https://stampwise.example"])
    url = client.save_url(token)

    header = jwt.get_unverified_header(token)
    claims = jwt.decode(token, service_account.public_key, algorithms=["RS256"], audience="google")
    assert header["alg"] == "RS256"
    assert header["kid"] == service_account.key_id
    assert claims["iss"] == SERVICE_ACCOUNT_EMAIL
    assert claims["typ"] == "savetowallet"
    assert claims["origins"] == ["https://stampwise.example"]
    assert claims["payload"] == {"loyaltyObjects": [{"id": object_id}]}
    assert abs(claims["iat"] - time.time()) < 60
    assert url == SAVE_URL_PREFIX + token
    assert len(url) < MAX_SAVE_URL_LENGTH


def test_save_jwt_signed_by_another_key_does_not_verify(client: GoogleWalletClient) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = client.save_jwt([make_object_id(ISSUER_ID, "x")])

    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, other.public_key(), algorithms=["RS256"], audience="google")


def test_linked_offer_is_upserted_and_linked_to_the_card(
    client: GoogleWalletClient, google: GoogleWalletStandIn
) -> None:
    client.upsert_loyalty_class(loyalty_class())
    card = client.insert_loyalty_object(loyalty_object())
    offer_class_id = make_object_id(ISSUER_ID, "free-coffee")
    offer_id = make_object_id(ISSUER_ID, "voucher-42")

    client.upsert_offer_class(
        build_offer_class(
            class_id=offer_class_id, issuer_name="Demo Café", title="Free coffee", provider="Demo"
        )
    )
    client.upsert_offer_object(
        build_offer_object(object_id=offer_id, class_id=offer_class_id, redeem_code="ABCDE-12345")
    )
    client.upsert_offer_object(
        build_offer_object(object_id=offer_id, class_id=offer_class_id, state="COMPLETED")
    )
    client.link_offers(card["id"], [offer_id])

    assert google.stored("offerObject", offer_id)["state"] == "COMPLETED"
    assert google.stored("offerObject", offer_id)["barcode"]["alternateText"] == "ABCDE-12345"
    assert google.stored("loyaltyObject", card["id"])["linkedOfferIds"] == [offer_id]


def test_every_api_call_goes_through_the_rate_limiter(
    google: GoogleWalletStandIn, service_account: ServiceAccount
) -> None:
    limiter = CountingLimiter()
    wallet_client = GoogleWalletClient(
        ISSUER_ID, str(service_account.json_path), api_base=google.api_base, rate_limiter=limiter
    )
    try:
        wallet_client.upsert_loyalty_class(loyalty_class())
        wallet_client.insert_loyalty_object(loyalty_object())
    finally:
        wallet_client.close()

    assert limiter.acquired == len(google.calls) == 3


def test_client_gives_up_when_the_limiter_has_no_token(
    google: GoogleWalletStandIn, service_account: ServiceAccount
) -> None:
    clock = FakeClock()
    bucket = LocalTokenBucket(rate=1.0, burst=1, clock=clock, sleep=clock.sleep)
    wallet_client = GoogleWalletClient(
        ISSUER_ID,
        str(service_account.json_path),
        api_base=google.api_base,
        rate_limiter=bucket,
        rate_limit_timeout=0.5,
    )
    try:
        assert wallet_client.get_loyalty_class(CLASS_ID) is None
        with pytest.raises(RateLimitTimeoutError):
            wallet_client.get_loyalty_class(CLASS_ID)
    finally:
        wallet_client.close()
    assert len(google.calls) == 1


def test_local_token_bucket_limits_the_rate() -> None:
    clock = FakeClock()
    bucket = LocalTokenBucket(rate=20.0, burst=5, clock=clock, sleep=clock.sleep)

    # the burst is available at once, then the bucket is empty
    assert [bucket.try_acquire() for _ in range(6)] == [True] * 5 + [False]
    # 95 more tokens at 20/s take 4.75 s of (simulated) waiting
    for _ in range(95):
        assert bucket.acquire() is True
    assert clock.slept == pytest.approx(95 / 20, rel=1e-6)
    # a bounded wait shorter than one token's interval gives up
    assert bucket.acquire(timeout=0.01) is False


def test_local_token_bucket_is_thread_safe() -> None:
    clock = FakeClock()
    bucket = LocalTokenBucket(rate=1.0, burst=100, clock=clock, sleep=clock.sleep)
    granted: list[bool] = []
    lock = threading.Lock()

    def grab() -> None:
        for _ in range(50):
            ok = bucket.try_acquire()
            with lock:
                granted.append(ok)

    threads = [threading.Thread(target=grab) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # the clock never moved, so exactly the burst was handed out across all threads
    assert sum(granted) == 100


requires_redis = pytest.mark.skipif(
    not os.environ.get("REDIS_URL"),
    reason="REDIS_URL is not set: the Redis token bucket and quota need a Redis server",
)


@pytest.fixture
def redis_client() -> Iterator[object]:
    import redis

    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    prefix = f"test:wallet:{time.time_ns()}:"
    yield client, prefix
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)
    client.close()


@requires_redis
def test_redis_token_bucket_hands_out_the_burst_atomically(redis_client: tuple) -> None:
    client, prefix = redis_client
    # a slow refill (one token per 100 s) so no token appears during the test
    bucket = RedisTokenBucket(client, prefix + "bucket", rate=0.01, burst=20)
    results: list[bool] = []
    lock = threading.Lock()

    def grab() -> None:
        for _ in range(10):
            ok = bucket.try_acquire()
            with lock:
                results.append(ok)

    threads = [threading.Thread(target=grab) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(results) == 20
    assert bucket.acquire(timeout=0) is False


@requires_redis
def test_redis_token_bucket_refills_at_its_rate(redis_client: tuple) -> None:
    client, prefix = redis_client
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        time.sleep(seconds)

    bucket = RedisTokenBucket(client, prefix + "refill", rate=50.0, burst=1, sleep=sleep)

    assert bucket.try_acquire() is True
    assert bucket.try_acquire() is False
    # the next acquire waits for the refill the script computed: at most 1/50 s
    assert bucket.acquire() is True
    assert waits
    assert 0 < waits[0] <= 1 / 50 + 1e-6


@requires_redis
def test_redis_notification_quota_allows_three_per_object(redis_client: tuple) -> None:
    client, prefix = redis_client
    quota = RedisNotificationQuota(client, prefix=prefix + "notify:")

    assert [quota.try_consume("obj-1") for _ in range(4)] == [True, True, True, False]
    assert quota.remaining("obj-1") == 0
    assert quota.remaining("obj-2") == 3
    assert quota.try_consume("obj-2") is True
