"""APNs HTTP/2 provider client for Wallet pass update pushes.

What Apple specifies for a pass update ("Adding a Web Service to Update Passes"): a push to
each registered device's push token, authenticated with the same certificate and key that
signed the pass, with an empty JSON dictionary as payload; it works only against the
production environment. APNs' generic rules ("Sending notification requests to APNs"): HTTP/2
over TLS 1.2+, ``POST /3/device/<token>``, ``apns-topic`` (here the pass type identifier),
optional ``apns-priority``/``apns-expiration``/``apns-push-type``, and for token-based auth an
``authorization: bearer <ES256 JWT>`` header whose token is refreshed at most every 20 and at
least every 60 minutes.

Choices where Apple's Wallet documentation is silent:

* ``apns-push-type`` is omitted by default. Apple's push types describe app notifications
  whose topic is a bundle id; ``background`` must be sent with priority 5 and APNs throttles
  and delays such pushes, which would delay the pass refresh. The header stays configurable.
* ``apns-priority`` defaults to 10 (deliver now): a stamp should show on the card while the
  customer is still at the counter.
* ``apns-expiration`` defaults to 24 hours, so a phone that is offline gets the latest update
  when it comes back (APNs keeps only the newest notification per topic anyway).

One ``ApnsClient`` per process keeps one HTTP/2 connection: an httpx HTTP/2 transport
(``httpx.AsyncHTTPTransport(http2=True)``) living on a private event-loop thread. The
transport is called directly rather than through ``httpx.AsyncClient``: APNs needs none of
the client's cookie, redirect, auth-flow or URL-merging layers, and skipping them cuts the
client's CPU per push by about a third (``bench/bench_apns.py``). Synchronous callers
(Celery tasks, views) submit coroutines to that loop, so the client is thread-safe and
``send_many`` multiplexes many streams over the single connection. After ``fork`` (Celery's
prefork pool) the child builds its own loop and connection on first use.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import ssl
import threading
import time
from collections.abc import Callable, Coroutine, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

import httpx
import jwt

PRODUCTION_HOST = "https://api.push.apple.com"
SANDBOX_HOST = "https://api.sandbox.push.apple.com"
# Apple rejects a provider token refreshed more often than every 20 minutes
# (TooManyProviderTokenUpdates) or older than an hour (ExpiredProviderToken).
TOKEN_REFRESH_SECONDS = 30 * 60
EMPTY_PAYLOAD = b"{}"
_DEVICE_TOKEN_RE = re.compile(r"[0-9A-Fa-f]{8,512}")

T = TypeVar("T")


class ApnsNotConfiguredError(RuntimeError):
    """``send_pass_update`` was called before ``configure`` (no APNs credentials)."""


class PushOutcome(StrEnum):
    OK = "ok"
    UNREGISTERED = "unregistered"  # the caller deletes the device registration
    RETRYABLE = "retryable"  # the caller retries later, with backoff
    FAILED = "failed"  # permanent for this request: fix configuration, do not retry blindly


@dataclass(frozen=True)
class PushResult:
    device_push_token: str
    outcome: PushOutcome
    status: int | None = None
    reason: str | None = None
    apns_id: str | None = None
    retry_after: float | None = None

    @property
    def ok(self) -> bool:
        return self.outcome is PushOutcome.OK

    @property
    def should_remove_registration(self) -> bool:
        return self.outcome is PushOutcome.UNREGISTERED

    @property
    def should_retry(self) -> bool:
        return self.outcome is PushOutcome.RETRYABLE


def classify_response(
    status: int, reason: str | None, *, bad_token_is_unregistered: bool = True
) -> PushOutcome:
    """Map an APNs status and ``reason`` to what the caller should do.

    410 means the token is no longer active for the topic. Apple's Wallet guide says to
    delete a device when APNs reports its push token invalid, so 400 ``BadDeviceToken`` is
    treated the same, unless the client talks to the sandbox, where a production token is
    "bad" only because of the environment. 429 and 5xx are transient; so is an expired
    provider token (it is re-minted). Anything else (other 400s, 403, 404, 405, 413) is a
    request or configuration error that a retry would repeat.
    """
    if status == 200:
        return PushOutcome.OK
    if status == 410:
        return PushOutcome.UNREGISTERED
    if status == 400 and reason == "BadDeviceToken" and bad_token_is_unregistered:
        return PushOutcome.UNREGISTERED
    if status == 429 or status >= 500:
        return PushOutcome.RETRYABLE
    if status == 403 and reason == "ExpiredProviderToken":
        return PushOutcome.RETRYABLE
    return PushOutcome.FAILED


@dataclass(frozen=True)
class TokenAuth:
    """Token-based auth: a ``.p8`` signing key from the developer account."""

    key_path: str
    key_id: str
    team_id: str


@dataclass(frozen=True)
class CertificateAuth:
    """Certificate-based auth: the Pass Type ID certificate and key (PEM) that sign passes."""

    cert_path: str
    key_path: str
    key_password: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class ApnsConfig:
    auth: TokenAuth | CertificateAuth
    host: str = PRODUCTION_HOST
    # True: the default CA bundle; a path: a CA file to trust (tests); False: no check.
    verify: bool | str = True
    push_type: str | None = None
    priority: int | None = 10
    expiration_seconds: int | None = 24 * 60 * 60
    timeout: float = 10.0
    # Streams in flight from send_many (httpcore also honours the server's
    # SETTINGS_MAX_CONCURRENT_STREAMS). More is not faster: httpcore scans its request queue
    # on every request, and bench/bench_apns.py peaks around 24-32 streams.
    max_concurrency: int = 32
    bad_token_is_unregistered: bool = True


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return bool(value)


def _setting(settings_like: Any, name: str) -> Any:
    if isinstance(settings_like, Mapping):
        return settings_like.get(name)
    return getattr(settings_like, name, None)


def config_from_settings(settings_like: Any, **overrides: Any) -> ApnsConfig | None:
    """Build an ``ApnsConfig`` from settings (attributes or a mapping); ``None`` without
    credentials, so a missing Apple setup disables pushes instead of crashing.

    Host: ``APNS_HOST`` if set, else the sandbox when ``APNS_USE_SANDBOX`` is true, else
    production. Auth: a ``.p8`` key (``APNS_KEY_PATH``, ``APNS_KEY_ID``, ``APPLE_TEAM_ID``)
    if configured, else the pass certificate (``APPLE_PASS_CERT``, ``APPLE_PASS_KEY``,
    ``APPLE_PASS_KEY_PASSWORD``).
    """
    host = _setting(settings_like, "APNS_HOST")
    sandbox = _truthy(_setting(settings_like, "APNS_USE_SANDBOX"))
    if not host:
        host = SANDBOX_HOST if sandbox else PRODUCTION_HOST
    key_path = _setting(settings_like, "APNS_KEY_PATH")
    key_id = _setting(settings_like, "APNS_KEY_ID")
    team_id = _setting(settings_like, "APPLE_TEAM_ID")
    cert = _setting(settings_like, "APPLE_PASS_CERT")
    cert_key = _setting(settings_like, "APPLE_PASS_KEY")
    auth: TokenAuth | CertificateAuth
    if key_path and key_id and team_id:
        auth = TokenAuth(key_path=str(key_path), key_id=str(key_id), team_id=str(team_id))
    elif cert and cert_key:
        password = _setting(settings_like, "APPLE_PASS_KEY_PASSWORD") or None
        auth = CertificateAuth(cert_path=str(cert), key_path=str(cert_key), key_password=password)
    else:
        return None
    values: dict[str, Any] = {
        "auth": auth,
        "host": str(host).rstrip("/"),
        "bad_token_is_unregistered": not (sandbox or str(host).rstrip("/") == SANDBOX_HOST),
    }
    values.update(overrides)
    return ApnsConfig(**values)


class ProviderTokenSigner:
    """Mints and caches the ES256 provider token; thread-safe.

    A token is reused for ``refresh_after`` seconds (30 minutes: inside Apple's 20-60 minute
    window). ``invalidate`` drops it early after APNs answers ``ExpiredProviderToken``.
    """

    def __init__(
        self,
        *,
        key_pem: bytes,
        key_id: str,
        team_id: str,
        refresh_after: float = TOKEN_REFRESH_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        from cryptography.hazmat.primitives.serialization import load_pem_private_key

        self._key = load_pem_private_key(key_pem, password=None)
        self._key_id = key_id
        self._team_id = team_id
        self._refresh_after = refresh_after
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._issued_at = 0.0
        self.minted = 0

    @classmethod
    def from_auth(cls, auth: TokenAuth, **kwargs: Any) -> ProviderTokenSigner:
        return cls(
            key_pem=Path(auth.key_path).read_bytes(),
            key_id=auth.key_id,
            team_id=auth.team_id,
            **kwargs,
        )

    def token(self) -> str:
        with self._lock:
            now = self._clock()
            if self._token is None or now - self._issued_at >= self._refresh_after:
                # Apple's header is exactly {alg, kid}; PyJWT drops "typ" when set to None.
                self._token = jwt.encode(
                    {"iss": self._team_id, "iat": int(now)},
                    self._key,  # type: ignore[arg-type]
                    algorithm="ES256",
                    headers={"kid": self._key_id, "typ": None},
                )
                self._issued_at = now
                self.minted += 1
            return self._token

    def invalidate(self, stale_token: str) -> None:
        # Only the token that was rejected: concurrent streams that all saw the same 403
        # must not mint one token each (TooManyProviderTokenUpdates).
        with self._lock:
            if self._token == stale_token:
                self._token = None


def _build_ssl_context(config: ApnsConfig) -> ssl.SSLContext:
    if config.verify is False:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    elif isinstance(config.verify, str):
        context = ssl.create_default_context(cafile=config.verify)
    else:
        import certifi

        context = ssl.create_default_context(cafile=certifi.where())
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if isinstance(config.auth, CertificateAuth):
        context.load_cert_chain(
            config.auth.cert_path, config.auth.key_path, password=config.auth.key_password
        )
    return context


class ApnsClient:
    """A persistent HTTP/2 connection to APNs with a synchronous, thread-safe API."""

    def __init__(self, config: ApnsConfig, *, token_clock: Callable[[], float] = time.time) -> None:
        self.config = config
        # Built eagerly so a bad certificate or key fails at configuration time.
        self._ssl_context = _build_ssl_context(config)
        self._signer = (
            ProviderTokenSigner.from_auth(config.auth, clock=token_clock)
            if isinstance(config.auth, TokenAuth)
            else None
        )
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._transport: httpx.AsyncHTTPTransport | None = None
        self._base_url = httpx.URL(config.host)
        # What httpx.AsyncClient would attach to each request; httpcore reads it.
        self._timeouts = httpx.Timeout(config.timeout).as_dict()

    @property
    def signer(self) -> ProviderTokenSigner | None:
        return self._signer

    # -- event loop plumbing ------------------------------------------------------------

    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None or self._pid != os.getpid():
                # First use, or a forked child: the parent's loop thread does not exist
                # here, and its connection's socket must not be shared across processes.
                loop = asyncio.new_event_loop()
                thread = threading.Thread(
                    target=loop.run_forever, name="apns-client-loop", daemon=True
                )
                thread.start()
                self._loop, self._thread, self._transport = loop, thread, None
                self._pid = os.getpid()
            return self._loop

    def _run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        loop = self._ensure_loop()
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result()

    async def _http(self) -> httpx.AsyncHTTPTransport:
        # Runs on the loop thread only, so creating the transport needs no lock.
        if self._transport is None:
            self._transport = httpx.AsyncHTTPTransport(
                http1=False,  # APNs speaks HTTP/2 only; offer nothing else in ALPN
                http2=True,
                verify=self._ssl_context,
                # One connection, many streams: APNs multiplexes, and Apple asks providers
                # to keep connections open rather than reconnecting per push.
                limits=httpx.Limits(
                    max_connections=1, max_keepalive_connections=1, keepalive_expiry=None
                ),
                trust_env=False,
            )
        return self._transport

    # -- requests -----------------------------------------------------------------------

    def _headers(self, topic: str) -> tuple[list[tuple[bytes, bytes]], str | None]:
        # Only what APNs reads: every extra header costs HPACK work on every push.
        headers = [(b"apns-topic", topic.encode())]
        if self.config.priority is not None:
            headers.append((b"apns-priority", str(self.config.priority).encode()))
        if self.config.push_type:
            headers.append((b"apns-push-type", self.config.push_type.encode()))
        if self.config.expiration_seconds is not None:
            expires = int(time.time()) + self.config.expiration_seconds
            headers.append((b"apns-expiration", str(expires).encode()))
        bearer = None
        if self._signer is not None:
            bearer = self._signer.token()
            headers.append((b"authorization", b"bearer " + bearer.encode()))
        return headers, bearer

    async def _send_one(
        self, token: str, topic: str, *, auth_retry: bool = True, transport_retry: bool = True
    ) -> PushResult:
        # fullmatch, not match: "$" would let a trailing newline through into the path.
        if not _DEVICE_TOKEN_RE.fullmatch(token):
            # Never interpolate a malformed token into the path; it can never be delivered.
            return PushResult(token, PushOutcome.UNREGISTERED, reason="MalformedDeviceToken")
        transport = await self._http()
        headers, bearer = self._headers(topic)
        request = httpx.Request(
            "POST",
            self._base_url.copy_with(raw_path=b"/3/device/" + token.encode()),
            headers=headers,
            content=EMPTY_PAYLOAD,
            extensions={"timeout": self._timeouts},
        )
        try:
            response = await transport.handle_async_request(request)
            try:
                await response.aread()
            finally:
                await response.aclose()
        except httpx.TransportError as exc:
            if transport_retry:
                # A stale connection (GOAWAY, idle close) fails the first request on it; one
                # immediate retry opens a fresh one. A duplicate push is harmless: the device
                # just asks which passes changed.
                return await self._send_one(
                    token, topic, auth_retry=auth_retry, transport_retry=False
                )
            return PushResult(
                token, PushOutcome.RETRYABLE, reason=f"{type(exc).__name__}: {exc}".strip()
            )

        reason = None
        if response.content:
            try:
                body = json.loads(response.content)
                reason = body.get("reason") if isinstance(body, dict) else None
            except ValueError:
                reason = None
        if (
            response.status_code == 403
            and reason == "ExpiredProviderToken"
            and self._signer is not None
            and bearer is not None
            and auth_retry
        ):
            self._signer.invalidate(bearer)
            return await self._send_one(
                token, topic, auth_retry=False, transport_retry=transport_retry
            )
        retry_after = None
        if "retry-after" in response.headers:
            try:
                retry_after = float(response.headers["retry-after"])
            except ValueError:
                retry_after = None
        return PushResult(
            device_push_token=token,
            outcome=classify_response(
                response.status_code,
                reason,
                bad_token_is_unregistered=self.config.bad_token_is_unregistered,
            ),
            status=response.status_code,
            reason=reason,
            apns_id=response.headers.get("apns-id"),
            retry_after=retry_after,
        )

    async def _send_many(self, tokens: list[str], topic: str) -> list[PushResult]:
        semaphore = asyncio.Semaphore(self.config.max_concurrency)

        async def one(token: str) -> PushResult:
            async with semaphore:
                return await self._send_one(token, topic)

        return list(await asyncio.gather(*(one(t) for t in tokens)))

    def send_pass_update(self, device_push_token: str, topic: str) -> PushResult:
        """Push the empty update notification for ``topic`` (the pass type id) to one device.

        Never raises for APNs or network errors: they come back classified in the result.
        """
        return self._run(self._send_one(device_push_token, topic))

    def send_many(self, tokens: Iterable[str], topic: str) -> list[PushResult]:
        """Push to many devices concurrently over the one connection; results keep the
        order of ``tokens``."""
        token_list = list(tokens)
        if not token_list:
            return []
        return self._run(self._send_many(token_list, topic))

    def close(self) -> None:
        """Close the connection and stop the loop thread (safe to call twice)."""
        with self._lock:
            loop, thread, transport = self._loop, self._thread, self._transport
            owned = self._pid == os.getpid()
            self._loop = self._thread = self._transport = None
            self._pid = None
        if loop is None or not owned:
            return
        if transport is not None:
            asyncio.run_coroutine_threadsafe(transport.aclose(), loop).result(timeout=5)
        loop.call_soon_threadsafe(loop.stop)
        if thread is not None:
            thread.join(timeout=5)
        loop.close()


_default_lock = threading.Lock()
_default_client: ApnsClient | None = None


def configure(config: ApnsConfig | None) -> None:
    """Set (or with ``None`` clear) the process-wide client; the old one is closed."""
    global _default_client
    with _default_lock:
        previous = _default_client
        if previous is not None and config is not None and previous.config == config:
            return
        _default_client = ApnsClient(config) if config is not None else None
    if previous is not None:
        previous.close()


def get_client() -> ApnsClient:
    """The process-wide client.

    Raises:
        ApnsNotConfiguredError: ``configure`` has not been called with credentials.
    """
    client = _default_client
    if client is None:
        raise ApnsNotConfiguredError("APNs is not configured (no .p8 key or pass certificate)")
    return client


def send_pass_update(device_push_token: str, topic: str) -> PushResult:
    """Send one pass update push with the process-wide client (see ``configure``)."""
    return get_client().send_pass_update(device_push_token, topic)


def send_many(tokens: Iterable[str], topic: str) -> list[PushResult]:
    """Send pass update pushes to many devices over the process-wide client's connection."""
    return get_client().send_many(tokens, topic)
