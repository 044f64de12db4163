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

One ``ApnsClient`` per process keeps one HTTP/2 connection, written directly on ``h2`` over
asyncio + ``ssl`` (ALPN ``h2``, TLS 1.2+, the pass certificate in the ``SSLContext`` for
certificate auth, the ``authorization`` header for token auth) and living on a private
event-loop thread. Why not httpx: its HTTP/2 transport (httpcore) measured about 1,000 us of
client CPU per push in ``bench/bench_apns.py`` (about 950 pushes/s, under the 1,000/s
target), spent in generic per-request machinery (connection pool, request queue, locks,
header validation) that one connection to one host does not need. The direct client measured
about 160-170 us per push and about 2,500 pushes/s against the same stand-in, whose own CPU
per push also fell from about 580 to 230 us, mostly because requests started in one loop
iteration leave in one write. Per push it does: one HPACK header block without Huffman
coding (measured 40 us cheaper per push here, and cheaper for the peer to decode), the path
(unique per push) never indexed so the provider token stays in the HPACK table, one future
and one timer, and no task per stream (``send_many`` runs ``max_concurrency`` coroutines).

Connection rules: streams are multiplexed up to the server's SETTINGS_MAX_CONCURRENT_STREAMS
(requests beyond it wait in the client for a slot); request bodies honour flow control; a
request's ``timeout`` covers its wait for a slot and for the answer, after which the stream
is reset and the push comes back ``RETRYABLE`` (a PING then checks that the connection is
alive, else it is replaced). When the connection dies under requests (GOAWAY, close, reset
streams) each of them is retried once on a new connection, then comes back ``RETRYABLE``:
never lost, never raised. Synchronous callers (Celery tasks, views) submit coroutines to the
loop, so the client is thread-safe. After ``fork`` (Celery's prefork pool) the child builds
its own loop and connection on first use.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import ssl
import threading
import time
from collections import deque
from collections.abc import Callable, Coroutine, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

import jwt
from h2.config import H2Configuration
from h2.connection import H2Connection
from h2.errors import ErrorCodes
from h2.events import (
    ConnectionTerminated,
    DataReceived,
    PingAckReceived,
    RemoteSettingsChanged,
    ResponseReceived,
    StreamEnded,
    StreamReset,
    WindowUpdated,
)
from h2.exceptions import H2Error, NoAvailableStreamIDError
from hpack import Encoder, NeverIndexedHeaderTuple

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
    # Seconds for connecting (TCP + TLS + the server's SETTINGS) and, per request, for
    # waiting for a free stream slot plus the answer.
    timeout: float = 10.0
    # Streams in flight from send_many; the connection also honours the server's
    # SETTINGS_MAX_CONCURRENT_STREAMS (requests beyond it wait in the client for a slot).
    # Locally throughput is flat from 16 to 128 (bench/bench_apns.py); against the real
    # APNs, in-flight streams / round-trip time bounds pushes per second.
    max_concurrency: int = 100
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
    # APNs speaks HTTP/2 only: offer nothing else in ALPN.
    context.set_alpn_protocols(["h2"])
    if isinstance(config.auth, CertificateAuth):
        context.load_cert_chain(
            config.auth.cert_path, config.auth.key_path, password=config.auth.key_password
        )
    return context


# -- the HTTP/2 connection ---------------------------------------------------------------


class _TransportError(Exception):
    """A request got no HTTP answer; ``kind`` names the failure in ``PushResult.reason``."""

    kind = "TransportError"
    # The request may not have reached APNs, or reached it on a connection that is gone:
    # one immediate retry on a fresh connection is worth it.
    retry = False

    def reason(self) -> str:
        return f"{self.kind}: {self}".strip()


class _ConnectError(_TransportError):
    kind = "ConnectError"


class _ConnectTimeout(_TransportError):
    kind = "ConnectTimeout"


class _ConnectionLost(_TransportError):
    kind = "RemoteProtocolError"
    retry = True


class _ReadTimeout(_TransportError):
    kind = "ReadTimeout"


class _PoolTimeout(_TransportError):
    kind = "PoolTimeout"


# Response: status, headers, body.
_Response = tuple[int, list[tuple[bytes, bytes]], bytes]
_PING_DATA = b"apnsping"


class _PlainEncoder(Encoder):
    """HPACK without Huffman coding: a few more bytes per header block, but Huffman coding
    (pure Python in ``hpack``) is the biggest part of encoding a push's headers, and of the
    peer's decoding of them."""

    def encode(self, headers: Any, huffman: bool = False) -> bytes:
        return super().encode(headers, huffman=False)


class _Stream:
    __slots__ = (
        "body",
        "future",
        "headers",
        "response_body",
        "response_headers",
        "stream_id",
        "timer",
        "unsent",
    )

    def __init__(self, future: asyncio.Future[_Response], headers: list[Any], body: bytes) -> None:
        self.future = future
        self.headers = headers
        self.body = body
        self.unsent = body
        self.stream_id: int | None = None
        self.response_headers: list[tuple[bytes, bytes]] = []
        self.response_body = b""
        self.timer: asyncio.TimerHandle | None = None


class _H2Connection(asyncio.Protocol):
    """One client HTTP/2 connection on ``h2``, driven by asyncio callbacks (no task per
    stream). Requests beyond the server's SETTINGS_MAX_CONCURRENT_STREAMS wait in a queue;
    request bodies honour the peer's flow-control windows; everything queued by one event
    loop iteration goes out in one write. Runs on the client's loop thread only."""

    def __init__(self, loop: asyncio.AbstractEventLoop, timeout: float) -> None:
        self._loop = loop
        self._timeout = timeout
        self._h2 = H2Connection(
            config=H2Configuration(
                client_side=True,
                header_encoding=None,
                # The client builds every header itself: skip h2's per-header passes.
                validate_outbound_headers=False,
                normalize_outbound_headers=False,
                validate_inbound_headers=False,
                normalize_inbound_headers=False,
            )
        )
        self._h2.encoder = _PlainEncoder()
        self._transport: asyncio.Transport | None = None
        self._streams: dict[int, _Stream] = {}
        self._queued: deque[_Stream] = deque()
        self._blocked: dict[int, _Stream] = {}  # bodies waiting for a WINDOW_UPDATE
        self._max_streams = 0  # until the server's SETTINGS arrive
        self._flush_scheduled = False
        self._ping_timer: asyncio.TimerHandle | None = None
        self._error: _TransportError | None = None
        self._draining = False
        # Set by the server's first SETTINGS frame (its connection preface).
        self.ready: asyncio.Future[None] = loop.create_future()
        self.closed: asyncio.Future[None] = loop.create_future()

    @property
    def usable(self) -> bool:
        return self._error is None and not self._draining

    # -- asyncio.Protocol ---------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)
        ssl_object = transport.get_extra_info("ssl_object")
        if ssl_object is None or ssl_object.selected_alpn_protocol() != "h2":
            self._fail(_ConnectError("the server did not negotiate HTTP/2 (ALPN h2)"))
            return
        self._h2.initiate_connection()
        self._transport.write(self._h2.data_to_send())

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(_ConnectionLost(f"connection lost: {exc}" if exc else "connection closed"))
        if not self.closed.done():
            self.closed.set_result(None)

    def data_received(self, data: bytes) -> None:
        try:
            events = self._h2.receive_data(data)
        except H2Error as exc:
            self._flush()  # h2 may have queued a GOAWAY saying why
            self._fail(_ConnectionLost(f"HTTP/2 protocol error: {exc}"))
            return
        for event in events:
            if isinstance(event, ResponseReceived):
                stream = self._streams.get(event.stream_id or 0)
                if stream is not None:
                    stream.response_headers = event.headers or []  # type: ignore[assignment]
            elif isinstance(event, DataReceived):
                stream_id = event.stream_id or 0
                stream = self._streams.get(stream_id)
                if stream is not None and event.data:
                    stream.response_body += event.data
                self._h2.acknowledge_received_data(event.flow_controlled_length or 0, stream_id)
            elif isinstance(event, StreamEnded):
                self._stream_ended(event.stream_id or 0)
            elif isinstance(event, StreamReset):
                stream = self._streams.get(event.stream_id or 0)
                if stream is not None:
                    self._end(stream, _ConnectionLost(f"stream reset: {event.error_code!r}"))
            elif isinstance(event, WindowUpdated):
                if self._blocked:
                    for blocked in list(self._blocked.values()):
                        self._send_body(blocked)
            elif isinstance(event, RemoteSettingsChanged):
                self._max_streams = self._h2.remote_settings.max_concurrent_streams
                if not self.ready.done():
                    self.ready.set_result(None)
                self._open_queued()
            elif isinstance(event, PingAckReceived):
                if self._ping_timer is not None:
                    self._ping_timer.cancel()
                    self._ping_timer = None
            elif isinstance(event, ConnectionTerminated):
                # GOAWAY: h2 accepts no more frames on this connection. Everything in
                # flight is retried on a new one; a duplicate push is harmless (the device
                # just asks which passes changed).
                self._flush()
                self._fail(
                    _ConnectionLost(
                        f"GOAWAY {event.error_code!r}"
                        + (f" {event.additional_data!r}" if event.additional_data else "")
                    )
                )
                return
        self._flush()

    def eof_received(self) -> bool | None:
        return None  # close; connection_lost fails what is left

    # -- requests -----------------------------------------------------------------------

    def request(self, headers: list[Any], body: bytes) -> asyncio.Future[_Response]:
        """Start a request; the future gives (status, headers, body) or raises a
        ``_TransportError``. The timeout covers waiting for a stream slot and the answer."""
        future: asyncio.Future[_Response] = self._loop.create_future()
        if self._error is not None:
            future.set_exception(self._error)
            return future
        stream = _Stream(future, headers, body)
        stream.timer = self._loop.call_later(self._timeout, self._timed_out, stream)
        if not self._queued and len(self._streams) < self._max_streams:
            self._open(stream)
        else:
            self._queued.append(stream)
        return future

    def _open(self, stream: _Stream) -> None:
        h2 = self._h2
        try:
            stream_id = h2.get_next_available_stream_id()
        except NoAvailableStreamIDError:
            # 2**31 streams on one connection: let it drain, open another.
            self._draining = True
            self._end(stream, _ConnectionLost("stream ids exhausted"))
            while self._queued:
                self._end(self._queued.popleft(), _ConnectionLost("stream ids exhausted"))
            return
        stream.stream_id = stream_id
        self._streams[stream_id] = stream
        h2.send_headers(stream_id, stream.headers, end_stream=not stream.body)
        if stream.body:
            self._send_body(stream)
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self._loop.call_soon(self._flush)

    def _send_body(self, stream: _Stream) -> None:
        h2, stream_id = self._h2, stream.stream_id or 0
        while stream.unsent:
            window = min(h2.local_flow_control_window(stream_id), h2.max_outbound_frame_size)
            if window <= 0:
                self._blocked[stream_id] = stream
                return
            chunk, stream.unsent = stream.unsent[:window], stream.unsent[window:]
            h2.send_data(stream_id, chunk, end_stream=not stream.unsent)
        self._blocked.pop(stream_id, None)

    def _open_queued(self) -> None:
        queued = self._queued
        while queued and len(self._streams) < self._max_streams and self.usable:
            stream = queued.popleft()
            if not stream.future.done():  # not timed out while waiting
                self._open(stream)

    def _stream_ended(self, stream_id: int) -> None:
        stream = self._streams.pop(stream_id, None)
        if stream is None:
            return
        if stream.timer is not None:
            stream.timer.cancel()
        status = 0
        for name, value in stream.response_headers:
            if name == b":status":
                status = int(value)
                break
        if not stream.future.done():
            stream.future.set_result((status, stream.response_headers, stream.response_body))
        self._stream_closed()

    def _end(self, stream: _Stream, error: _TransportError) -> None:
        if stream.timer is not None:
            stream.timer.cancel()
        if stream.stream_id is not None and self._streams.pop(stream.stream_id, None) is not None:
            self._blocked.pop(stream.stream_id, None)
            self._stream_closed()
        if not stream.future.done():
            stream.future.set_exception(error)

    def _stream_closed(self) -> None:
        if self._queued:
            self._open_queued()
        if self._draining and not self._streams:
            self.close()

    def _timed_out(self, stream: _Stream) -> None:
        stream.timer = None
        if stream.future.done():
            return
        if stream.stream_id is None:
            # Still waiting for a stream slot: never sent. It stays in the queue, skipped.
            stream.future.set_exception(
                _PoolTimeout(f"no stream slot free within {self._timeout:g}s")
            )
            return
        stream_id = stream.stream_id
        if self._error is None:
            try:
                self._h2.reset_stream(stream_id, ErrorCodes.CANCEL)
            except H2Error:
                pass
        self._end(stream, _ReadTimeout(f"no answer within {self._timeout:g}s"))
        self._check_alive()
        self._flush()

    def _check_alive(self) -> None:
        """A request timed out: a PING tells a slow APNs from a dead connection (a peer gone
        without a FIN would otherwise time out every request on it)."""
        if self._error is not None or self._ping_timer is not None:
            return
        self._h2.ping(_PING_DATA)
        self._ping_timer = self._loop.call_later(self._timeout, self._ping_expired)

    def _ping_expired(self) -> None:
        self._ping_timer = None
        self._fail(_ConnectionLost(f"no PING answer within {self._timeout:g}s"))

    def _flush(self) -> None:
        self._flush_scheduled = False
        transport = self._transport
        if transport is None or transport.is_closing():
            return
        data = self._h2.data_to_send()
        if data:
            transport.write(data)

    def _fail(self, error: _TransportError) -> None:
        """The connection is finished: fail everything on it and close the socket."""
        if self._error is None:
            self._error = error
        if self._ping_timer is not None:
            self._ping_timer.cancel()
            self._ping_timer = None
        if not self.ready.done():
            self.ready.set_exception(self._error)
        streams = [*self._streams.values(), *self._queued]
        self._streams.clear()
        self._queued.clear()
        self._blocked.clear()
        for stream in streams:
            self._end(stream, self._error)
        if self._transport is not None and not self._transport.is_closing():
            self._transport.abort()

    def close(self) -> None:
        """Say GOAWAY and close; what is still in flight fails as ``_ConnectionLost``."""
        if self._error is None and self._transport is not None:
            try:
                self._h2.close_connection()
            except H2Error:
                pass
            self._flush()
            self._error = _ConnectionLost("the client closed the connection")
            streams = [*self._streams.values(), *self._queued]
            self._streams.clear()
            self._queued.clear()
            for stream in streams:
                self._end(stream, self._error)
            self._transport.close()
        elif self._transport is None and not self.closed.done():
            self.closed.set_result(None)


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
        self._conn: _H2Connection | None = None
        self._connecting: asyncio.Future[_H2Connection] | None = None
        url = urlsplit(config.host)
        if url.scheme != "https" or not url.hostname:
            raise ValueError(f"APNs host must be an https:// URL, not {config.host!r}")
        self._host = url.hostname
        self._port = url.port or 443
        netloc = url.netloc.rsplit("@", 1)[-1]
        self._authority = (netloc.removesuffix(":443") if url.port == 443 else netloc).encode()
        self._expiration: tuple[int, bytes] = (0, b"")

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
                self._loop, self._thread = loop, thread
                self._conn = self._connecting = None
                self._pid = os.getpid()
            return self._loop

    def _run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        loop = self._ensure_loop()
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result()

    async def _connection(self) -> _H2Connection:
        # Runs on the loop thread only, so no lock: concurrent callers share one attempt.
        conn = self._conn
        if conn is not None and conn.usable:
            return conn
        if self._connecting is None:
            self._connecting = asyncio.ensure_future(self._connect())
        connecting = self._connecting
        # shield: one caller's cancellation must not cancel the others' connect.
        return await asyncio.shield(connecting)

    async def _connect(self) -> _H2Connection:
        loop = asyncio.get_running_loop()
        timeout = self.config.timeout
        try:
            try:
                async with asyncio.timeout(timeout):
                    _, conn = await loop.create_connection(
                        lambda: _H2Connection(loop, timeout),
                        self._host,
                        self._port,
                        ssl=self._ssl_context,
                        server_hostname=self._host,
                    )
                    # Apple asks providers to keep connections open; wait for the server's
                    # SETTINGS so the first requests respect its stream limit.
                    await conn.ready
            except TimeoutError as exc:
                raise _ConnectTimeout(f"no HTTP/2 connection within {timeout:g}s") from exc
            except OSError as exc:  # refused, unreachable, TLS (ssl.SSLError), DNS
                raise _ConnectError(str(exc)) from exc
            self._conn = conn
            return conn
        finally:
            self._connecting = None

    # -- requests -----------------------------------------------------------------------

    def _headers(self, token: str, topic: str) -> tuple[list[Any], str | None]:
        # Only what APNs reads: every extra header costs HPACK work on every push. The path
        # is unique per push: never indexed, so it does not evict the provider token (the
        # largest header) from the HPACK table.
        headers: list[Any] = [
            (b":method", b"POST"),
            (b":scheme", b"https"),
            (b":authority", self._authority),
            NeverIndexedHeaderTuple(b":path", b"/3/device/" + token.encode()),
            (b"apns-topic", topic.encode()),
            (b"content-length", b"%d" % len(EMPTY_PAYLOAD)),
        ]
        config = self.config
        if config.priority is not None:
            headers.append((b"apns-priority", b"%d" % config.priority))
        if config.push_type:
            headers.append((b"apns-push-type", config.push_type.encode()))
        if config.expiration_seconds is not None:
            now = int(time.time())
            if self._expiration[0] != now:
                self._expiration = (now, b"%d" % (now + config.expiration_seconds))
            headers.append((b"apns-expiration", self._expiration[1]))
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
        headers, bearer = self._headers(token, topic)
        try:
            conn = self._conn
            if conn is None or not conn.usable:
                conn = await self._connection()
            status, response_headers, content = await conn.request(headers, EMPTY_PAYLOAD)
        except _TransportError as exc:
            if exc.retry and transport_retry:
                # The connection died under the request (GOAWAY, reset, closed): one
                # immediate retry on a fresh connection. A duplicate push is harmless: the
                # device just asks which passes changed.
                return await self._send_one(
                    token, topic, auth_retry=auth_retry, transport_retry=False
                )
            return PushResult(token, PushOutcome.RETRYABLE, reason=exc.reason())

        reason = None
        if content:
            try:
                body = json.loads(content)
                reason = body.get("reason") if isinstance(body, dict) else None
            except ValueError:
                reason = None
        if (
            status == 403
            and reason == "ExpiredProviderToken"
            and self._signer is not None
            and bearer is not None
            and auth_retry
        ):
            self._signer.invalidate(bearer)
            return await self._send_one(
                token, topic, auth_retry=False, transport_retry=transport_retry
            )
        apns_id = retry_after = None
        for name, value in response_headers:
            if name == b"apns-id":
                apns_id = value.decode("ascii", "replace")
            elif name == b"retry-after":
                try:
                    retry_after = float(value)
                except ValueError:
                    retry_after = None
        return PushResult(
            device_push_token=token,
            outcome=classify_response(
                status, reason, bad_token_is_unregistered=self.config.bad_token_is_unregistered
            ),
            status=status,
            reason=reason,
            apns_id=apns_id,
            retry_after=retry_after,
        )

    async def _send_many(self, tokens: list[str], topic: str) -> list[PushResult]:
        # max_concurrency workers pull from one iterator: a coroutine per stream in flight,
        # not a task per token.
        results: list[PushResult | None] = [None] * len(tokens)
        pending = iter(range(len(tokens)))

        async def worker() -> None:
            for index in pending:
                results[index] = await self._send_one(tokens[index], topic)

        workers = min(max(1, self.config.max_concurrency), len(tokens))
        await asyncio.gather(*(worker() for _ in range(workers)))
        return [r for r in results if r is not None]

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

    async def _aclose(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        conn.close()
        try:
            async with asyncio.timeout(1):
                await asyncio.shield(conn.closed)
        except TimeoutError:
            if conn._transport is not None:
                conn._transport.abort()

    def close(self) -> None:
        """Close the connection and stop the loop thread (safe to call twice)."""
        with self._lock:
            loop, thread = self._loop, self._thread
            owned = self._pid == os.getpid()
            self._loop = self._thread = None
            self._pid = None
        if loop is None or not owned:
            return
        try:
            asyncio.run_coroutine_threadsafe(self._aclose(), loop).result(timeout=5)
        finally:
            self._conn = self._connecting = None
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
