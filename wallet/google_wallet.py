"""Google Wallet REST client for loyalty cards, linked offers and "Save to Google Wallet".

Follows the Google Wallet API reference (walletobjects v1): one LoyaltyClass per program and
one LoyaltyObject per card, inserted with POST, read with GET and changed with PATCH;
``loyaltyObject/{id}/addMessage`` with ``messageType: TEXT_AND_NOTIFY`` shows a message and
pushes a notification, which Google allows three times per pass in 24 hours (past that it
answers QuotaExceeded and asks for ``TEXT`` instead). The Save link carries a "skinny" JWT
that only references objects already inserted through the API: ``iss`` the service account
email, ``aud`` ``google``, ``typ`` ``savetowallet``, ``payload.loyaltyObjects: [{"id": ...}]``
and the page ``origins``, signed RS256 with the service account key.

Also here: the pluggable ``RateLimiter`` (an atomic Redis token bucket shared by all workers,
or an in-process bucket without Redis) and the per-object ``NotificationQuota``.

Pure Python: no Django import; callers pass settings values.
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol
from urllib.parse import quote

import requests
from google.auth import jwt as google_jwt
from google.auth.transport.requests import AuthorizedSession
from google.oauth2 import service_account

WALLET_SCOPE = "https://www.googleapis.com/auth/wallet_object.issuer"
DEFAULT_API_BASE = "https://walletobjects.googleapis.com/walletobjects/v1"
SAVE_URL_PREFIX = "https://pay.google.com/gp/v/save/"
# Google's guidance for Save links: keep the whole URL under about 1,800 characters (some
# browsers and e-mail clients cut longer ones), which is why the JWT only carries ids.
MAX_SAVE_URL_LENGTH = 1800
NOTIFICATIONS_PER_WINDOW = 3
NOTIFICATION_WINDOW_SECONDS = 24 * 60 * 60

_EPSILON = 1e-9
_ID_SUFFIX_RE = re.compile(r"[^A-Za-z0-9._-]")


class GoogleWalletError(Exception):
    """Google answered with an error status; ``status`` and ``reason`` say which."""

    def __init__(self, status: int, reason: str | None, message: str, body: Any = None) -> None:
        super().__init__(f"{status} {reason or ''}: {message}".strip())
        self.status = status
        self.reason = reason
        self.body = body


class NotificationQuotaExceededError(Exception):
    """A fourth notifying message for the same object within 24 hours was refused locally."""


class RateLimitTimeoutError(Exception):
    """The rate limiter gave no token within the allowed wait."""


def make_object_id(issuer_id: str, suffix: str) -> str:
    """``<issuer id>.<suffix>``, with characters Google does not allow replaced by ``_``."""
    return f"{issuer_id}.{_ID_SUFFIX_RE.sub('_', suffix)}"


# -- rate limiting ------------------------------------------------------------------------


class RateLimiter(Protocol):
    def acquire(self, timeout: float | None = None) -> bool:
        """Take one token, waiting up to ``timeout`` seconds (``None``: as long as needed).
        Returns False when no token came in time."""
        ...


class LocalTokenBucket:
    """In-process token bucket (``rate`` tokens per second, up to ``burst`` stored); for a
    single process without Redis. Thread-safe. ``clock``/``sleep`` are injectable so tests do
    not depend on wall time."""

    def __init__(
        self,
        rate: float = 20.0,
        burst: float | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.burst = burst if burst is not None else rate
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tokens = self.burst
        self._stamp = clock()

    def _take(self) -> float:
        """Take a token if one is there (returns 0), else return the seconds to wait."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
            # The epsilon absorbs float rounding: after sleeping exactly the computed wait the
            # bucket may hold 0.9999999 tokens, which must count as one.
            if self._tokens >= 1 - _EPSILON:
                self._tokens = max(0.0, self._tokens - 1)
                return 0.0
            return (1 - self._tokens) / self.rate

    def try_acquire(self) -> bool:
        return self._take() == 0.0

    def acquire(self, timeout: float | None = None) -> bool:
        deadline = None if timeout is None else self._clock() + timeout
        while True:
            wait = self._take()
            if wait == 0.0:
                return True
            if deadline is not None:
                remaining = deadline - self._clock()
                if remaining <= 0:
                    return False
                wait = min(wait, remaining)
            self._sleep(wait)


# Atomic refill-and-take. The clock is Redis' TIME, so workers on machines with skewed
# clocks share one consistent bucket. Returns "0" when a token was taken, else the seconds
# to wait, as a string (Lua numbers would be truncated to integers in the reply).
# (S105: the name says "TOKEN" for rate-limit tokens; this is a Lua script, not a secret.)
_TOKEN_BUCKET_LUA = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil or ts == nil then
  tokens = burst
  ts = now
end
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate)
local wait = 0
if tokens >= 1 - 1e-9 then
  tokens = math.max(0, tokens - 1)
else
  wait = (1 - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.6f', tokens),
           'ts', string.format('%.6f', now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return string.format('%.6f', wait)
"""  # noqa: S105


class RedisTokenBucket:
    """Token bucket shared by every process that uses the same Redis ``key``.

    One Lua script refills and takes atomically, so concurrent workers never overdraw it.
    """

    def __init__(
        self,
        redis_client: Any,
        key: str,
        rate: float = 20.0,
        burst: float | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.burst = burst if burst is not None else rate
        self.key = key
        self._sleep = sleep
        self._script = redis_client.register_script(_TOKEN_BUCKET_LUA)

    def _take(self) -> float:
        reply = self._script(keys=[self.key], args=[self.rate, self.burst])
        return float(reply.decode() if isinstance(reply, bytes) else reply)

    def try_acquire(self) -> bool:
        return self._take() == 0.0

    def acquire(self, timeout: float | None = None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            wait = self._take()
            if wait == 0.0:
                return True
            if deadline is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                wait = min(wait, remaining)
            self._sleep(wait)


# -- notification quota -------------------------------------------------------------------


class NotificationQuota(Protocol):
    def try_consume(self, object_id: str) -> bool:
        """Count one notifying message for ``object_id``; False (and nothing counted) when
        the object already had ``limit`` within the window."""
        ...

    def remaining(self, object_id: str) -> int: ...


class LocalNotificationQuota:
    """In-memory rolling-window quota (3 per object per 24 hours by default)."""

    def __init__(
        self,
        limit: int = NOTIFICATIONS_PER_WINDOW,
        window_seconds: float = NOTIFICATION_WINDOW_SECONDS,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.limit = limit
        self.window = window_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._sent: dict[str, deque[float]] = {}

    def _prune(self, object_id: str, now: float) -> deque[float]:
        sent = self._sent.setdefault(object_id, deque())
        while sent and sent[0] <= now - self.window:
            sent.popleft()
        return sent

    def try_consume(self, object_id: str) -> bool:
        with self._lock:
            now = self._clock()
            sent = self._prune(object_id, now)
            if len(sent) >= self.limit:
                return False
            sent.append(now)
            return True

    def remaining(self, object_id: str) -> int:
        with self._lock:
            return max(0, self.limit - len(self._prune(object_id, self._clock())))


# Sorted set per object: members are unique ids, scores the send times (Redis TIME).
_QUOTA_LUA = """
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
if ARGV[3] == '' then
  return limit - count
end
if count >= limit then
  return -1
end
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('PEXPIRE', KEYS[1], math.ceil(window * 1000))
return limit - count - 1
"""


class RedisNotificationQuota:
    """The same rolling quota, shared across processes through Redis (atomic Lua)."""

    def __init__(
        self,
        redis_client: Any,
        *,
        prefix: str = "gwallet:notify:",
        limit: int = NOTIFICATIONS_PER_WINDOW,
        window_seconds: float = NOTIFICATION_WINDOW_SECONDS,
    ) -> None:
        self.limit = limit
        self.window = window_seconds
        self.prefix = prefix
        self._script = redis_client.register_script(_QUOTA_LUA)

    def try_consume(self, object_id: str) -> bool:
        reply = self._script(
            keys=[self.prefix + object_id], args=[self.limit, self.window, uuid.uuid4().hex]
        )
        return int(reply) >= 0

    def remaining(self, object_id: str) -> int:
        reply = self._script(keys=[self.prefix + object_id], args=[self.limit, self.window, ""])
        return max(0, int(reply))


# -- resource builders --------------------------------------------------------------------


def build_loyalty_class(
    *,
    class_id: str,
    issuer_name: str,
    program_name: str,
    program_logo_uri: str,
    hex_background_color: str | None = None,
    review_status: str = "UNDER_REVIEW",
    homepage_uri: str | None = None,
    locations: Sequence[tuple[float, float]] = (),
) -> dict[str, Any]:
    """A LoyaltyClass body with the fields Google requires (id, issuerName, programName,
    programLogo, reviewStatus)."""
    body: dict[str, Any] = {
        "id": class_id,
        "issuerName": issuer_name,
        "programName": program_name,
        "programLogo": {"sourceUri": {"uri": program_logo_uri}},
        "reviewStatus": review_status,
    }
    if hex_background_color:
        body["hexBackgroundColor"] = hex_background_color
    if homepage_uri:
        body["homepageUri"] = {"uri": homepage_uri}
    if locations:
        body["locations"] = [{"latitude": lat, "longitude": lng} for lat, lng in locations]
    return body


def build_loyalty_object(
    *,
    object_id: str,
    class_id: str,
    account_name: str,
    account_id: str,
    stamps: int,
    goal: int,
    barcode_value: str,
    barcode_alternate_text: str | None = None,
    points_label: str = "Stamps",
    linked_offer_ids: Sequence[str] = (),
    state: str = "ACTIVE",
) -> dict[str, Any]:
    """A LoyaltyObject body for one card: stamps as the points balance, the card QR code."""
    barcode: dict[str, Any] = {"type": "QR_CODE", "value": barcode_value}
    if barcode_alternate_text:
        barcode["alternateText"] = barcode_alternate_text
    body: dict[str, Any] = {
        "id": object_id,
        "classId": class_id,
        "state": state,
        "accountName": account_name,
        "accountId": account_id,
        "loyaltyPoints": {"label": points_label, "balance": {"string": f"{stamps} / {goal}"}},
        "barcode": barcode,
    }
    if linked_offer_ids:
        body["linkedOfferIds"] = list(linked_offer_ids)
    return body


def build_offer_class(
    *,
    class_id: str,
    issuer_name: str,
    title: str,
    provider: str,
    redemption_channel: str = "INSTORE",
    review_status: str = "UNDER_REVIEW",
) -> dict[str, Any]:
    """An OfferClass body (for a voucher linked to a loyalty card)."""
    return {
        "id": class_id,
        "issuerName": issuer_name,
        "title": title,
        "provider": provider,
        "redemptionChannel": redemption_channel,
        "reviewStatus": review_status,
    }


def build_offer_object(
    *,
    object_id: str,
    class_id: str,
    redeem_code: str | None = None,
    state: str = "ACTIVE",
) -> dict[str, Any]:
    body: dict[str, Any] = {"id": object_id, "classId": class_id, "state": state}
    if redeem_code:
        body["barcode"] = {
            "type": "CODE_128",
            "value": redeem_code.replace("-", ""),
            "alternateText": redeem_code,
        }
    return body


# -- client -------------------------------------------------------------------------------


class GoogleWalletClient:
    """Calls the walletobjects API as the issuer's service account.

    google-auth exchanges a signed assertion for an access token at the ``token_uri`` of the
    service-account JSON and refreshes it when it expires. ``rate_limiter`` (if given) is
    acquired before every API call; ``notification_quota`` (if given) is checked before every
    notifying ``add_message``. Share one client per process; concurrent threads may refresh
    the access token twice at expiry, which is harmless.
    """

    def __init__(
        self,
        issuer_id: str,
        credentials_json_path: str,
        api_base: str = DEFAULT_API_BASE,
        *,
        rate_limiter: RateLimiter | None = None,
        notification_quota: NotificationQuota | None = None,
        rate_limit_timeout: float | None = 30.0,
        timeout: float = 10.0,
    ) -> None:
        self.issuer_id = issuer_id
        self.api_base = api_base.rstrip("/")
        self.credentials = service_account.Credentials.from_service_account_file(
            credentials_json_path, scopes=[WALLET_SCOPE]
        )
        self.session = AuthorizedSession(self.credentials)
        self.rate_limiter = rate_limiter
        self.notification_quota = notification_quota
        self.rate_limit_timeout = rate_limit_timeout
        self.timeout = timeout

    @property
    def service_account_email(self) -> str:
        return str(self.credentials.service_account_email)

    def close(self) -> None:
        self.session.close()

    # -- HTTP ---------------------------------------------------------------------------

    def _request(
        self, method: str, path: str, body: Mapping[str, Any] | None = None
    ) -> requests.Response:
        """Raises RateLimitTimeoutError when the limiter gives no token in time."""
        limiter = self.rate_limiter
        if limiter is not None and not limiter.acquire(self.rate_limit_timeout):
            raise RateLimitTimeoutError(
                f"no Google Wallet API token within {self.rate_limit_timeout}s"
            )
        return self.session.request(
            method, f"{self.api_base}/{path}", json=body, timeout=self.timeout
        )

    @staticmethod
    def _error(response: requests.Response) -> GoogleWalletError:
        try:
            body = response.json()
        except ValueError:
            body = response.text
        error = body.get("error", {}) if isinstance(body, dict) else {}
        if not isinstance(error, dict):
            error = {}
        return GoogleWalletError(
            response.status_code,
            error.get("status"),
            str(error.get("message") or response.reason or ""),
            body,
        )

    def _expect(self, response: requests.Response) -> dict[str, Any]:
        if not 200 <= response.status_code < 300:
            raise self._error(response)
        if not response.content:
            return {}
        data = response.json()
        return data if isinstance(data, dict) else {"data": data}

    def _get(self, resource: str, resource_id: str) -> dict[str, Any] | None:
        response = self._request("GET", f"{resource}/{quote(resource_id, safe='')}")
        if response.status_code == 404:
            return None
        return self._expect(response)

    def _insert(self, resource: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """Insert; on 409 (already exists) return the stored resource instead of failing, so
        a retried task is harmless."""
        response = self._request("POST", resource, body)
        if response.status_code == 409:
            existing = self._get(resource, str(body["id"]))
            if existing is not None:
                return existing
        return self._expect(response)

    def _patch(self, resource: str, resource_id: str, patch: Mapping[str, Any]) -> dict[str, Any]:
        return self._expect(
            self._request("PATCH", f"{resource}/{quote(resource_id, safe='')}", patch)
        )

    def _upsert(self, resource: str, body: Mapping[str, Any]) -> dict[str, Any]:
        resource_id = str(body["id"])
        if self._get(resource, resource_id) is None:
            return self._insert(resource, body)
        return self._patch(resource, resource_id, body)

    # -- loyalty ------------------------------------------------------------------------

    def get_loyalty_class(self, class_id: str) -> dict[str, Any] | None:
        return self._get("loyaltyClass", class_id)

    def upsert_loyalty_class(self, class_body: Mapping[str, Any]) -> dict[str, Any]:
        """GET the class; insert it when missing, else PATCH it with ``class_body``.

        Raises:
            GoogleWalletError: Google rejected the request.
        """
        return self._upsert("loyaltyClass", class_body)

    def get_loyalty_object(self, object_id: str) -> dict[str, Any] | None:
        return self._get("loyaltyObject", object_id)

    def insert_loyalty_object(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        """Insert a LoyaltyObject; one that already exists (409) is returned as stored.

        Raises:
            GoogleWalletError: Google rejected the request.
        """
        return self._insert("loyaltyObject", obj)

    def patch_loyalty_object(self, object_id: str, patch: Mapping[str, Any]) -> dict[str, Any]:
        """PATCH only the given fields (stamps, barcode, linked offers...).

        Raises:
            GoogleWalletError: Google rejected the request (404 when the object is unknown).
        """
        return self._patch("loyaltyObject", object_id, patch)

    def add_message(
        self,
        object_id: str,
        message: Mapping[str, Any],
        *,
        notify: bool = True,
        downgrade_when_quota_exceeded: bool = False,
    ) -> dict[str, Any]:
        """POST ``loyaltyObject/<id>/addMessage``; ``TEXT_AND_NOTIFY`` unless ``notify`` is off.

        ``message`` holds ``header``, ``body`` and optionally ``id``/``displayInterval``.
        Before a notifying message the notification quota is consumed: past three in 24
        hours the call raises, or with ``downgrade_when_quota_exceeded`` sends the message
        as ``TEXT`` (shown on the pass, no push), as Google recommends.

        Raises:
            NotificationQuotaExceededError: quota used up and no downgrade requested.
            GoogleWalletError: Google rejected the request.
        """
        message_type = "TEXT_AND_NOTIFY" if notify else "TEXT"
        if notify and self.notification_quota is not None:
            if not self.notification_quota.try_consume(object_id):
                if not downgrade_when_quota_exceeded:
                    raise NotificationQuotaExceededError(
                        f"{object_id} already had {NOTIFICATIONS_PER_WINDOW} notifying "
                        "messages in the last 24 hours"
                    )
                message_type = "TEXT"
        body = {"message": {**message, "messageType": message_type}}
        path = f"loyaltyObject/{quote(object_id, safe='')}/addMessage"
        return self._expect(self._request("POST", path, body))

    def link_offers(self, object_id: str, offer_object_ids: Sequence[str]) -> dict[str, Any]:
        """Set the LoyaltyObject's ``linkedOfferIds`` (the vouchers shown with the card)."""
        return self.patch_loyalty_object(object_id, {"linkedOfferIds": list(offer_object_ids)})

    # -- offers -------------------------------------------------------------------------

    def upsert_offer_class(self, class_body: Mapping[str, Any]) -> dict[str, Any]:
        return self._upsert("offerClass", class_body)

    def upsert_offer_object(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        return self._upsert("offerObject", obj)

    def patch_offer_object(self, object_id: str, patch: Mapping[str, Any]) -> dict[str, Any]:
        return self._patch("offerObject", object_id, patch)

    # -- Save to Google Wallet ----------------------------------------------------------

    def save_jwt(
        self,
        object_ids: Sequence[str],
        *,
        origins: Sequence[str] = (),
        offer_object_ids: Sequence[str] = (),
    ) -> str:
        """A signed "skinny" Save JWT referencing already inserted objects by id."""
        payload: dict[str, Any] = {"loyaltyObjects": [{"id": oid} for oid in object_ids]}
        if offer_object_ids:
            payload["offerObjects"] = [{"id": oid} for oid in offer_object_ids]
        claims = {
            "iss": self.service_account_email,
            "aud": "google",
            "typ": "savetowallet",
            "iat": int(time.time()),
            "origins": list(origins),
            "payload": payload,
        }
        token = google_jwt.encode(self.credentials.signer, claims)
        return token.decode() if isinstance(token, bytes) else token

    @staticmethod
    def save_url(jwt: str) -> str:
        return SAVE_URL_PREFIX + jwt
