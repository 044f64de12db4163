"""A local stand-in for Google's OAuth token endpoint and the Wallet objects API.

``http.server`` in a background thread on 127.0.0.1. It answers the service-account token
exchange (the JWT-bearer assertion is verified with the test key's public half, and its
``iss``/``aud``/``scope`` checked), then serves loyaltyClass, loyaltyObject (with
``addMessage``), offerClass and offerObject: GET, insert (POST; 409 ``ALREADY_EXISTS`` for a
known id) and PATCH (merge of top-level fields), requiring the issued bearer token. Bodies
are validated minimally (ids under the issuer, the fields Google requires, a known
``classId``). Every call is recorded. Errors use Google's shape
``{"error": {"code", "message", "status"}}``.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

API_PREFIX = "/walletobjects/v1/"
TOKEN_PATH = "/token"
GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"
WALLET_SCOPE = "https://www.googleapis.com/auth/wallet_object.issuer"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
RESOURCES = ("loyaltyClass", "loyaltyObject", "offerClass", "offerObject")
MESSAGE_TYPES = {"TEXT", "TEXT_AND_NOTIFY"}

_REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
    "loyaltyClass": ("issuerName", "programName", "programLogo", "reviewStatus"),
    "offerClass": ("issuerName", "title", "provider", "redemptionChannel", "reviewStatus"),
    "loyaltyObject": ("classId", "state"),
    "offerObject": ("classId", "state"),
}
_CLASS_OF = {"loyaltyObject": "loyaltyClass", "offerObject": "offerClass"}


@dataclass(frozen=True)
class ServiceAccount:
    """A throwaway service account: its JSON file (``token_uri`` pointing at the stand-in)
    and its key pair."""

    json_path: Path
    email: str
    private_key: rsa.RSAPrivateKey
    key_id: str

    @property
    def public_key(self) -> rsa.RSAPublicKey:
        return self.private_key.public_key()


SERVICE_ACCOUNT_EMAIL = "stampwise-wallet@test-project.iam.gserviceaccount.com"


def make_service_account(
    directory: Path, token_uri: str, private_key: rsa.RSAPrivateKey | None = None
) -> ServiceAccount:
    """Write a service-account JSON whose ``token_uri`` is ``token_uri``."""
    directory.mkdir(parents=True, exist_ok=True)
    key = private_key or rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_id = secrets.token_hex(8)
    email = SERVICE_ACCOUNT_EMAIL
    info = {
        "type": "service_account",
        "project_id": "test-project",
        "private_key_id": key_id,
        "private_key": key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode(),
        "client_email": email,
        "client_id": "1234567890",
        "token_uri": token_uri,
    }
    path = directory / "service-account.json"
    path.write_text(json.dumps(info))
    return ServiceAccount(json_path=path, email=email, private_key=key, key_id=key_id)


@dataclass(frozen=True)
class RecordedCall:
    method: str
    path: str
    body: Any
    status: int


@dataclass
class _State:
    resources: dict[str, dict[str, dict[str, Any]]] = field(
        default_factory=lambda: {name: {} for name in RESOURCES}
    )
    calls: list[RecordedCall] = field(default_factory=list)
    token_requests: list[dict[str, Any]] = field(default_factory=list)
    access_tokens: set[str] = field(default_factory=set)
    notifications: dict[str, list[float]] = field(default_factory=dict)


class _ApiError(Exception):
    def __init__(self, code: int, status: str, message: str) -> None:
        super().__init__(message)
        self.code, self.status, self.message = code, status, message


class GoogleWalletStandIn:
    """The server. ``issuer_id`` scopes valid ids; ``service_account_public_key`` and
    ``service_account_email`` verify the token exchange."""

    def __init__(
        self,
        *,
        issuer_id: str,
        service_account_email: str,
        service_account_public_key: rsa.RSAPublicKey,
    ) -> None:
        self.issuer_id = issuer_id
        self._email = service_account_email
        self._public_key = service_account_public_key
        self._lock = threading.Lock()
        self._state = _State()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- access for tests ---------------------------------------------------------------

    @property
    def base_url(self) -> str:
        assert self._httpd is not None
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    @property
    def api_base(self) -> str:
        return self.base_url + API_PREFIX.rstrip("/")

    @property
    def token_uri(self) -> str:
        return self.base_url + TOKEN_PATH

    @property
    def calls(self) -> list[RecordedCall]:
        with self._lock:
            return list(self._state.calls)

    @property
    def token_requests(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._state.token_requests)

    def stored(self, resource: str, resource_id: str) -> dict[str, Any] | None:
        with self._lock:
            item = self._state.resources[resource].get(resource_id)
            return json.loads(json.dumps(item)) if item is not None else None

    # -- lifecycle ----------------------------------------------------------------------

    def start(self) -> GoogleWalletStandIn:
        stand_in = self

        class Handler(_Handler):
            server_state = stand_in

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, name="google-wallet-stand-in", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None

    def __enter__(self) -> GoogleWalletStandIn:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- behaviour ----------------------------------------------------------------------

    def exchange_token(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if form.get("grant_type") != JWT_BEARER:
            return 400, {"error": "unsupported_grant_type"}
        try:
            claims = jwt.decode(
                form.get("assertion", ""),
                self._public_key,
                algorithms=["RS256"],
                audience=GOOGLE_TOKEN_AUDIENCE,
                options={"require": ["iss", "aud", "iat", "exp"]},
            )
        except jwt.PyJWTError as exc:
            return 400, {"error": "invalid_grant", "error_description": str(exc)}
        if claims.get("iss") != self._email:
            return 400, {"error": "invalid_grant", "error_description": "unknown issuer"}
        if WALLET_SCOPE not in str(claims.get("scope", "")).split():
            return 400, {"error": "invalid_scope"}
        access_token = "ya29.test-" + secrets.token_urlsafe(24)
        with self._lock:
            self._state.token_requests.append(claims)
            self._state.access_tokens.add(access_token)
        return 200, {"access_token": access_token, "expires_in": 3600, "token_type": "Bearer"}

    def authorized(self, header: str | None) -> bool:
        if not header or not header.startswith("Bearer "):
            return False
        with self._lock:
            return header[len("Bearer ") :] in self._state.access_tokens

    def record(self, method: str, path: str, body: Any, status: int) -> None:
        with self._lock:
            self._state.calls.append(RecordedCall(method, path, body, status))

    def _check_id(self, resource_id: Any) -> None:
        if not isinstance(resource_id, str) or not re.fullmatch(
            re.escape(self.issuer_id) + r"\.[A-Za-z0-9._-]+", resource_id
        ):
            raise _ApiError(400, "INVALID_ARGUMENT", f"invalid resource id {resource_id!r}")

    def handle_api(self, method: str, parts: list[str], body: Any) -> tuple[int, Any]:
        if not parts or parts[0] not in RESOURCES:
            raise _ApiError(404, "NOT_FOUND", "unknown resource type")
        resource = parts[0]
        with self._lock:
            store = self._state.resources[resource]
            if method == "POST" and len(parts) == 1:
                return 200, self._insert(resource, store, body)
            if len(parts) < 2:
                raise _ApiError(404, "NOT_FOUND", "no such method")
            resource_id = parts[1]
            if method == "GET" and len(parts) == 2:
                if resource_id not in store:
                    raise _ApiError(404, "NOT_FOUND", f"{resource} {resource_id} not found")
                return 200, store[resource_id]
            if method == "PATCH" and len(parts) == 2:
                return 200, self._patch(resource, store, resource_id, body)
            if method == "POST" and parts[2:] == ["addMessage"] and resource == "loyaltyObject":
                return 200, self._add_message(store, resource_id, body)
        raise _ApiError(404, "NOT_FOUND", "no such method")

    def _insert(self, resource: str, store: dict[str, Any], body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise _ApiError(400, "INVALID_ARGUMENT", "body must be an object")
        self._check_id(body.get("id"))
        missing = [name for name in _REQUIRED_FIELDS[resource] if not body.get(name)]
        if missing:
            raise _ApiError(400, "INVALID_ARGUMENT", f"missing required fields: {missing}")
        if resource in _CLASS_OF:
            if body["classId"] not in self._state.resources[_CLASS_OF[resource]]:
                raise _ApiError(400, "INVALID_ARGUMENT", f"unknown classId {body['classId']}")
        if body["id"] in store:
            raise _ApiError(409, "ALREADY_EXISTS", f"{resource} {body['id']} already exists")
        stored = {**body, "version": "1"}
        store[body["id"]] = stored
        return stored

    def _patch(
        self, resource: str, store: dict[str, Any], resource_id: str, body: Any
    ) -> dict[str, Any]:
        if resource_id not in store:
            raise _ApiError(404, "NOT_FOUND", f"{resource} {resource_id} not found")
        if not isinstance(body, dict):
            raise _ApiError(400, "INVALID_ARGUMENT", "body must be an object")
        if "id" in body and body["id"] != resource_id:
            raise _ApiError(400, "INVALID_ARGUMENT", "id in body differs from the URL")
        current = store[resource_id]
        current.update(body)
        current["version"] = str(int(current.get("version", "1")) + 1)
        return current

    def _add_message(self, store: dict[str, Any], object_id: str, body: Any) -> dict[str, Any]:
        if object_id not in store:
            raise _ApiError(404, "NOT_FOUND", f"loyaltyObject {object_id} not found")
        message = body.get("message") if isinstance(body, dict) else None
        if not isinstance(message, dict) or not (message.get("header") or message.get("body")):
            raise _ApiError(400, "INVALID_ARGUMENT", "message with header or body required")
        if message.get("messageType") not in MESSAGE_TYPES:
            raise _ApiError(400, "INVALID_ARGUMENT", "unsupported messageType")
        if message["messageType"] == "TEXT_AND_NOTIFY":
            now = time.time()
            recent = [t for t in self._state.notifications.get(object_id, []) if t > now - 86400]
            if len(recent) >= 3:
                raise _ApiError(429, "RESOURCE_EXHAUSTED", "QuotaExceededException")
            self._state.notifications[object_id] = [*recent, now]
        current = store[object_id]
        current.setdefault("messages", []).append(message)
        return {"resource": current}


class _Handler(BaseHTTPRequestHandler):
    server_state: GoogleWalletStandIn
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        return

    def _send(self, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _dispatch(self, method: str) -> None:
        state = self.server_state
        raw = self._read_body()
        path = urlsplit(self.path).path
        if path == TOKEN_PATH and method == "POST":
            form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
            status, payload = state.exchange_token(form)
            self._send(status, payload)
            return
        if not path.startswith(API_PREFIX):
            self._send(404, {"error": {"code": 404, "message": "not found", "status": "NOT_FOUND"}})
            return
        body: Any = None
        status = 500
        try:
            if raw:
                try:
                    body = json.loads(raw)
                except ValueError as exc:
                    raise _ApiError(400, "INVALID_ARGUMENT", "body is not JSON") from exc
            if not state.authorized(self.headers.get("Authorization")):
                raise _ApiError(401, "UNAUTHENTICATED", "missing or invalid access token")
            parts = [unquote(p) for p in path[len(API_PREFIX) :].split("/") if p]
            status, payload = state.handle_api(method, parts, body)
        except _ApiError as error:
            status = error.code
            payload = {
                "error": {"code": error.code, "message": error.message, "status": error.status}
            }
        state.record(method, path, body, status)
        self._send(status, payload)

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        self._dispatch("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._dispatch("POST")

    def do_PATCH(self) -> None:  # noqa: N802
        self._dispatch("PATCH")
