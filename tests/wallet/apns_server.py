"""A local stand-in for APNs: HTTP/2 over TLS, speaking APNs' request/response protocol.

Built on ``h2`` over asyncio in a background thread, on 127.0.0.1 and a free port. It
checks what APNs checks (POST, ``/3/device/<hex token>``, ``apns-topic``, a JSON payload of at
most 4 KB, the provider token or the client certificate), records every request, and can be
scripted: answer 410 for given tokens, fail the next N requests with 429/500, and so on.
Error answers carry APNs' JSON body ``{"reason": ...}`` (plus ``timestamp`` for 410).

The TLS certificate comes from a throwaway CA made by ``make_tls_files``; clients trust it by
passing the CA path as ``verify``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import json
import re
import ssl
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from h2.config import H2Configuration
from h2.connection import H2Connection
from h2.events import (
    ConnectionTerminated,
    DataReceived,
    RequestReceived,
    StreamEnded,
    StreamReset,
)
from h2.exceptions import ProtocolError
from h2.settings import SettingCodes

_PATH_RE = re.compile(r"^/3/device/([^/?]+)$")
_HEX_RE = re.compile(r"[0-9A-Fa-f]+")
MAX_PAYLOAD = 4096


@dataclass(frozen=True)
class TlsFiles:
    ca_path: Path
    cert_path: Path
    key_path: Path


def make_tls_files(directory: Path) -> TlsFiles:
    """A throwaway CA and a server certificate for 127.0.0.1/localhost, as PEM files."""
    directory.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test APNs stand-in CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    server_key = ec.generate_private_key(ec.SECP256R1())
    server_cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.DNSName("localhost"),
                    x509.IPAddress(ipaddress.IPv4Address("127.0.0.1")),
                ]
            ),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    files = TlsFiles(
        ca_path=directory / "apns-test-ca.pem",
        cert_path=directory / "apns-test-server.pem",
        key_path=directory / "apns-test-server-key.pem",
    )
    files.ca_path.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    files.cert_path.write_bytes(server_cert.public_bytes(serialization.Encoding.PEM))
    files.key_path.write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return files


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    connection_id: int
    status: int
    client_cert_uid: str | None = None

    @property
    def device_token(self) -> str | None:
        match = _PATH_RE.match(self.path)
        return match.group(1) if match else None


@dataclass
class _Script:
    unregistered: set[str] = field(default_factory=set)
    token_responses: dict[str, tuple[int, str]] = field(default_factory=dict)
    fail_next: list[tuple[int, str]] = field(default_factory=list)


class ApnsStandIn:
    """The server. Use as a context manager or call ``start``/``stop``.

    ``token_public_key``/``key_id``/``team_id`` turn on provider-token checks (403
    ``MissingProviderToken``/``InvalidProviderToken``/``ExpiredProviderToken``);
    ``client_ca_path`` turns on certificate auth: the TLS handshake requires a client
    certificate from that CA, and ``apns-topic`` must equal the certificate's UID (the pass
    type identifier), else 400 ``TopicDisallowed``.
    """

    def __init__(
        self,
        tls: TlsFiles,
        *,
        token_public_key: ec.EllipticCurvePublicKey | None = None,
        key_id: str | None = None,
        team_id: str | None = None,
        client_ca_path: Path | None = None,
        max_concurrent_streams: int = 1000,
        record: bool = True,
        token_max_age: float = 3600.0,
        delay: float = 0.0,
    ) -> None:
        self._tls = tls
        self._token_public_key = token_public_key
        self._key_id = key_id
        self._team_id = team_id
        self._client_ca_path = client_ca_path
        self._max_streams = max_concurrent_streams
        self._record = record
        self._token_max_age = token_max_age
        # Seconds to hold each answer (settable at any time): lets a test catch a client
        # mid-request. Held answers of a connection that closes are never sent nor recorded.
        self.delay = delay
        self._received: list[str] = []
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._script = _Script()
        self._verified_tokens: dict[str, float] = {}
        self.connections_opened = 0
        self.responses_sent = 0
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None

    # -- scripting ----------------------------------------------------------------------

    def unregister(self, *tokens: str) -> None:
        """Answer 410 Unregistered for these device tokens."""
        with self._lock:
            self._script.unregistered.update(tokens)

    def set_response(self, token: str, status: int, reason: str) -> None:
        with self._lock:
            self._script.token_responses[token] = (status, reason)

    def fail_next(self, count: int, status: int = 429, reason: str = "TooManyRequests") -> None:
        """The next ``count`` (otherwise valid) requests get ``status``/``reason``."""
        with self._lock:
            self._script.fail_next.extend([(status, reason)] * count)

    @property
    def received(self) -> list[str]:
        """Paths of every complete request received, answered yet or not (``requests``
        holds the answered ones)."""
        with self._lock:
            return list(self._received)

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def ca_path(self) -> str:
        return str(self._tls.ca_path)

    # -- lifecycle ----------------------------------------------------------------------

    def _ssl_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(self._tls.cert_path, self._tls.key_path)
        context.set_alpn_protocols(["h2"])
        if self._client_ca_path is not None:
            context.verify_mode = ssl.CERT_REQUIRED
            context.load_verify_locations(cafile=str(self._client_ca_path))
        return context

    def start(self) -> ApnsStandIn:
        ready = threading.Event()
        errors: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                self._server = loop.run_until_complete(
                    loop.create_server(
                        lambda: _H2ServerProtocol(self),
                        host="127.0.0.1",
                        port=0,
                        ssl=self._ssl_context(),
                    )
                )
                self.port = self._server.sockets[0].getsockname()[1]
            except BaseException as exc:  # reported to the starting thread
                errors.append(exc)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.close()

        self._thread = threading.Thread(target=run, name="apns-stand-in", daemon=True)
        self._thread.start()
        ready.wait(timeout=10)
        if errors:
            raise errors[0]
        return self

    def stop(self) -> None:
        loop, server = self._loop, self._server
        if loop is None or server is None:
            return

        async def shutdown() -> None:
            server.close()
            await server.wait_closed()

        try:
            asyncio.run_coroutine_threadsafe(shutdown(), loop).result(timeout=5)
        except Exception:  # noqa: S110 - best effort; stopping the loop below still ends it
            pass
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._loop = self._server = None

    def __enter__(self) -> ApnsStandIn:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- protocol decisions -------------------------------------------------------------

    def _check_provider_token(self, headers: dict[str, str]) -> str | None:
        """The 403 reason for a bad provider token, or None when it is acceptable."""
        authorization = headers.get("authorization", "")
        if not authorization.lower().startswith("bearer "):
            return "MissingProviderToken"
        token = authorization[len("bearer ") :]
        now = time.time()
        with self._lock:
            issued = self._verified_tokens.get(token)
        if issued is None:
            try:
                header = jwt.get_unverified_header(token)
                claims = jwt.decode(
                    token,
                    self._token_public_key,  # type: ignore[arg-type]
                    algorithms=["ES256"],
                    options={"require": ["iss", "iat"]},
                    leeway=60,
                )
            except jwt.PyJWTError:
                return "InvalidProviderToken"
            if header.get("kid") != self._key_id or claims.get("iss") != self._team_id:
                return "InvalidProviderToken"
            issued = float(claims["iat"])
            with self._lock:
                # Verifying ES256 per request would dominate a benchmark; APNs also caches.
                self._verified_tokens[token] = issued
        if now - issued > self._token_max_age:
            return "ExpiredProviderToken"
        return None

    def _decide(
        self, method: str, path: str, headers: dict[str, str], body: bytes, cert_uid: str | None
    ) -> tuple[int, dict[str, Any] | None]:
        if method != "POST":
            return 405, {"reason": "MethodNotAllowed"}
        match = _PATH_RE.match(path)
        if not match:
            return 404, {"reason": "BadPath"}
        token = match.group(1)
        if not _HEX_RE.fullmatch(token):
            return 400, {"reason": "BadDeviceToken"}
        topic = headers.get("apns-topic")
        if not topic:
            return 400, {"reason": "MissingTopic"}
        if "apns-priority" in headers and headers["apns-priority"] not in {"1", "5", "10"}:
            return 400, {"reason": "BadPriority"}
        if self._token_public_key is not None:
            problem = self._check_provider_token(headers)
            if problem is not None:
                return 403, {"reason": problem}
        if self._client_ca_path is not None and topic != cert_uid:
            return 400, {"reason": "TopicDisallowed"}
        if not body:
            return 400, {"reason": "PayloadEmpty"}
        if len(body) > MAX_PAYLOAD:
            return 413, {"reason": "PayloadTooLarge"}
        try:
            payload = json.loads(body)
        except ValueError:
            return 400, {"reason": "BadPayload"}
        if not isinstance(payload, dict):
            return 400, {"reason": "BadPayload"}
        with self._lock:
            if self._script.fail_next:
                status, reason = self._script.fail_next.pop(0)
                return status, {"reason": reason}
            if token in self._script.unregistered:
                return 410, {"reason": "Unregistered", "timestamp": int(time.time() * 1000)}
            if token in self._script.token_responses:
                status, reason = self._script.token_responses[token]
                return status, {"reason": reason}
        return 200, None

    def _handle(
        self,
        connection_id: int,
        method: str,
        path: str,
        headers: dict[str, str],
        body: bytes,
        cert_uid: str | None,
    ) -> tuple[int, dict[str, Any] | None]:
        status, error = self._decide(method, path, headers, body, cert_uid)
        with self._lock:
            self.responses_sent += 1
            if self._record:
                self._requests.append(
                    RecordedRequest(
                        method=method,
                        path=path,
                        headers=headers,
                        body=body,
                        connection_id=connection_id,
                        status=status,
                        client_cert_uid=cert_uid,
                    )
                )
        return status, error


class _H2ServerProtocol(asyncio.Protocol):
    def __init__(self, server: ApnsStandIn) -> None:
        self._server = server
        self._h2 = H2Connection(config=H2Configuration(client_side=False, header_encoding="utf-8"))
        self._streams: dict[int, tuple[dict[str, str], bytearray]] = {}
        self._transport: asyncio.Transport | None = None
        self._connection_id = 0
        self._cert_uid: str | None = None
        self._held: dict[int, asyncio.TimerHandle] = {}

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        ssl_object = transport.get_extra_info("ssl_object")
        if ssl_object is None or ssl_object.selected_alpn_protocol() != "h2":
            # APNs speaks HTTP/2 only.
            transport.close()
            return
        peer = ssl_object.getpeercert()
        if peer:
            for rdn in peer.get("subject", ()):
                for key, value in rdn:
                    if key == "userId":
                        self._cert_uid = value
        with self._server._lock:
            self._server.connections_opened += 1
            self._connection_id = self._server.connections_opened
        self._h2.initiate_connection()
        self._h2.update_settings({SettingCodes.MAX_CONCURRENT_STREAMS: self._server._max_streams})
        transport.write(self._h2.data_to_send())

    def data_received(self, data: bytes) -> None:
        assert self._transport is not None
        try:
            events = self._h2.receive_data(data)
        except ProtocolError:
            self._transport.write(self._h2.data_to_send())
            self._transport.close()
            return
        for event in events:
            if isinstance(event, RequestReceived):
                self._streams[event.stream_id] = (dict(event.headers or []), bytearray())
            elif isinstance(event, DataReceived):
                if event.stream_id in self._streams:
                    self._streams[event.stream_id][1].extend(event.data)
                self._h2.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            elif isinstance(event, StreamEnded):
                self._request_complete(event.stream_id)
            elif isinstance(event, StreamReset):
                self._streams.pop(event.stream_id, None)
                held = self._held.pop(event.stream_id, None)
                if held is not None:
                    held.cancel()
            elif isinstance(event, ConnectionTerminated):
                self._transport.close()
                return
        self._transport.write(self._h2.data_to_send())

    def _request_complete(self, stream_id: int) -> None:
        server = self._server
        with server._lock:
            server._received.append(self._streams[stream_id][0].get(":path", ""))
        if server.delay <= 0:
            self._respond(stream_id)
            return
        loop = asyncio.get_running_loop()
        self._held[stream_id] = loop.call_later(server.delay, self._respond_held, stream_id)

    def _respond_held(self, stream_id: int) -> None:
        self._held.pop(stream_id, None)
        if stream_id not in self._streams or self._transport is None:
            return
        if self._transport.is_closing():
            return
        self._respond(stream_id)
        self._transport.write(self._h2.data_to_send())

    def connection_lost(self, exc: Exception | None) -> None:
        # The client died mid-request (a killed worker): its held answers go nowhere.
        for held in self._held.values():
            held.cancel()
        self._held.clear()

    def _respond(self, stream_id: int) -> None:
        headers, body = self._streams.pop(stream_id)
        method = headers.pop(":method", "")
        path = headers.pop(":path", "")
        for pseudo in (":scheme", ":authority"):
            headers.pop(pseudo, None)
        status, error = self._server._handle(
            self._connection_id, method, path, headers, bytes(body), self._cert_uid
        )
        apns_id = headers.get("apns-id") or str(uuid.uuid4())
        response_headers = [(":status", str(status)), ("apns-id", apns_id)]
        if error is None:
            self._h2.send_headers(stream_id, response_headers, end_stream=True)
            return
        payload = json.dumps(error).encode()
        response_headers += [
            ("content-type", "application/json"),
            ("content-length", str(len(payload))),
        ]
        self._h2.send_headers(stream_id, response_headers)
        self._h2.send_data(stream_id, payload, end_stream=True)
