"""APNs client against the local HTTP/2 stand-in (TLS, real h2 framing)."""

from __future__ import annotations

import asyncio
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from h2.connection import ConnectionState
from h2.errors import ErrorCodes

from wallet import apns
from wallet.apns import (
    SANDBOX_HOST,
    ApnsClient,
    ApnsConfig,
    ApnsNotConfiguredError,
    CertificateAuth,
    PushOutcome,
    PushResult,
    TokenAuth,
    classify_response,
    config_from_settings,
)
from wallet.passkit.certs import DEV_PASS_TYPE_ID, generate_dev_chain

from .apns_server import ApnsStandIn, TlsFiles, _H2ServerProtocol, make_tls_files

KEY_ID = "ABC123DEFG"
TEAM_ID = "DEVTEAM000"


def device_token() -> str:
    return secrets.token_hex(32)


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return make_tls_files(tmp_path_factory.mktemp("apns-tls"))


@pytest.fixture(scope="module")
def dev_chain(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    return generate_dev_chain(tmp_path_factory.mktemp("dev-chain"))


@pytest.fixture
def cert_server(tls: TlsFiles, dev_chain: tuple[Path, Path, Path]) -> Iterator[ApnsStandIn]:
    """Stand-in requiring a client certificate issued by the development WWDR CA."""
    wwdr_path, _, _ = dev_chain
    with ApnsStandIn(tls, client_ca_path=wwdr_path) as server:
        yield server


@pytest.fixture
def cert_client(
    cert_server: ApnsStandIn, tls: TlsFiles, dev_chain: tuple[Path, Path, Path]
) -> Iterator[ApnsClient]:
    _, cert_path, key_path = dev_chain
    client = ApnsClient(
        ApnsConfig(
            auth=CertificateAuth(cert_path=str(cert_path), key_path=str(key_path)),
            host=cert_server.url,
            verify=str(tls.ca_path),
        )
    )
    yield client
    client.close()


@pytest.fixture(scope="module")
def p8_key(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ec.EllipticCurvePublicKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    path = tmp_path_factory.mktemp("p8") / f"AuthKey_{KEY_ID}.p8"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return path, key.public_key()


@pytest.fixture
def token_server(
    tls: TlsFiles, p8_key: tuple[Path, ec.EllipticCurvePublicKey]
) -> Iterator[ApnsStandIn]:
    with ApnsStandIn(tls, token_public_key=p8_key[1], key_id=KEY_ID, team_id=TEAM_ID) as server:
        yield server


def token_config(server: ApnsStandIn, tls: TlsFiles, key_path: Path) -> ApnsConfig:
    return ApnsConfig(
        auth=TokenAuth(key_path=str(key_path), key_id=KEY_ID, team_id=TEAM_ID),
        host=server.url,
        verify=str(tls.ca_path),
    )


def test_pass_update_push_is_an_empty_payload_to_the_pass_topic(
    cert_server: ApnsStandIn, cert_client: ApnsClient
) -> None:
    # given a device registered for a pass, when its update push is sent
    token = device_token()
    result = cert_client.send_pass_update(token, DEV_PASS_TYPE_ID)

    # then APNs got exactly what Apple's Wallet guide describes, and accepted it
    assert result.outcome is PushOutcome.OK
    assert result.status == 200
    assert result.apns_id
    [request] = cert_server.requests
    assert request.method == "POST"
    assert request.path == f"/3/device/{token}"
    assert request.body == b"{}"
    assert request.headers["apns-topic"] == DEV_PASS_TYPE_ID
    assert request.headers["apns-priority"] == "10"
    assert int(request.headers["apns-expiration"]) > time.time()
    assert "apns-push-type" not in request.headers
    # certificate auth: the pass certificate itself authenticated the TLS connection
    assert request.client_cert_uid == DEV_PASS_TYPE_ID
    assert "authorization" not in request.headers


def test_410_is_reported_as_unregistered(cert_server: ApnsStandIn, cert_client: ApnsClient) -> None:
    gone = device_token()
    cert_server.unregister(gone)

    result = cert_client.send_pass_update(gone, DEV_PASS_TYPE_ID)

    assert result.outcome is PushOutcome.UNREGISTERED
    assert result.should_remove_registration
    assert result.status == 410
    assert result.reason == "Unregistered"


def test_429_and_5xx_are_retryable_and_the_next_push_succeeds(
    cert_server: ApnsStandIn, cert_client: ApnsClient
) -> None:
    cert_server.fail_next(1, status=429, reason="TooManyRequests")
    cert_server.fail_next(1, status=500, reason="InternalServerError")
    token = device_token()

    first = cert_client.send_pass_update(token, DEV_PASS_TYPE_ID)
    second = cert_client.send_pass_update(token, DEV_PASS_TYPE_ID)
    third = cert_client.send_pass_update(token, DEV_PASS_TYPE_ID)

    assert (first.status, first.reason, first.should_retry) == (429, "TooManyRequests", True)
    assert (second.status, second.reason, second.should_retry) == (
        500,
        "InternalServerError",
        True,
    )
    assert third.ok
    assert [r.status for r in cert_server.requests] == [429, 500, 200]


def test_wrong_topic_is_a_permanent_failure_with_apples_reason(
    cert_server: ApnsStandIn, cert_client: ApnsClient
) -> None:
    result = cert_client.send_pass_update(device_token(), "pass.some.other.type")

    assert result.outcome is PushOutcome.FAILED
    assert (result.status, result.reason) == (400, "TopicDisallowed")


def test_bad_device_token_removes_the_registration_only_in_production(
    cert_server: ApnsStandIn, cert_client: ApnsClient, tls: TlsFiles, dev_chain: tuple
) -> None:
    token = device_token()
    cert_server.set_response(token, 400, "BadDeviceToken")

    production_like = cert_client.send_pass_update(token, DEV_PASS_TYPE_ID)
    sandbox_client = ApnsClient(
        ApnsConfig(
            auth=cert_client.config.auth,
            host=cert_server.url,
            verify=str(tls.ca_path),
            bad_token_is_unregistered=False,
        )
    )
    try:
        sandbox_like = sandbox_client.send_pass_update(token, DEV_PASS_TYPE_ID)
    finally:
        sandbox_client.close()

    assert production_like.outcome is PushOutcome.UNREGISTERED
    assert sandbox_like.outcome is PushOutcome.FAILED
    assert sandbox_like.reason == "BadDeviceToken"


@pytest.mark.parametrize("bad_token", ["../../3/device/zz", "ab" * 32 + "\n", "", "ab cd ef 01"])
def test_malformed_token_is_never_put_on_the_wire(
    cert_server: ApnsStandIn, cert_client: ApnsClient, bad_token: str
) -> None:
    result = cert_client.send_pass_update(bad_token, DEV_PASS_TYPE_ID)

    assert result.outcome is PushOutcome.UNREGISTERED
    assert result.reason == "MalformedDeviceToken"
    assert cert_server.requests == []


def test_many_pushes_share_one_http2_connection(
    cert_server: ApnsStandIn, cert_client: ApnsClient
) -> None:
    singles = [cert_client.send_pass_update(device_token(), DEV_PASS_TYPE_ID) for _ in range(20)]
    batch = cert_client.send_many([device_token() for _ in range(300)], DEV_PASS_TYPE_ID)

    assert all(r.ok for r in singles + batch)
    assert cert_server.connections_opened == 1
    assert {r.connection_id for r in cert_server.requests} == {1}
    assert len(cert_server.requests) == 320


def test_send_many_keeps_order_and_classifies_each_token(
    cert_server: ApnsStandIn, cert_client: ApnsClient
) -> None:
    tokens = [device_token() for _ in range(30)]
    gone = set(tokens[::7])
    cert_server.unregister(*gone)

    results = cert_client.send_many(tokens, DEV_PASS_TYPE_ID)

    assert [r.device_push_token for r in results] == tokens
    assert {r.device_push_token for r in results if r.should_remove_registration} == gone
    assert sum(r.ok for r in results) == len(tokens) - len(gone)


def test_token_auth_sends_an_es256_provider_token_that_verifies(
    token_server: ApnsStandIn,
    tls: TlsFiles,
    p8_key: tuple[Path, ec.EllipticCurvePublicKey],
) -> None:
    client = ApnsClient(token_config(token_server, tls, p8_key[0]))
    try:
        results = [client.send_pass_update(device_token(), DEV_PASS_TYPE_ID) for _ in range(3)]
    finally:
        client.close()

    assert all(r.ok for r in results)
    authorizations = {r.headers["authorization"] for r in token_server.requests}
    # one cached token for all three pushes
    assert len(authorizations) == 1
    scheme, provider_token = authorizations.pop().split(" ", 1)
    assert scheme == "bearer"
    assert jwt.get_unverified_header(provider_token) == {"alg": "ES256", "kid": KEY_ID}
    claims = jwt.decode(provider_token, p8_key[1], algorithms=["ES256"])
    assert claims["iss"] == TEAM_ID
    assert abs(claims["iat"] - time.time()) < 60


def test_expired_provider_token_is_reminted_and_the_push_retried(
    token_server: ApnsStandIn,
    tls: TlsFiles,
    p8_key: tuple[Path, ec.EllipticCurvePublicKey],
) -> None:
    # given a cached provider token minted two hours ago (older than APNs accepts)
    readings = iter([time.time() - 7200])
    client = ApnsClient(
        token_config(token_server, tls, p8_key[0]),
        token_clock=lambda: next(readings, None) or time.time(),
    )
    try:
        result = client.send_pass_update(device_token(), DEV_PASS_TYPE_ID)
    finally:
        client.close()

    # then APNs' ExpiredProviderToken made the client mint a fresh token and retry once
    assert [r.status for r in token_server.requests] == [403, 200]
    assert result.ok
    assert client.signer is not None
    assert client.signer.minted == 2


def test_provider_token_is_reused_for_30_minutes_then_refreshed(
    p8_key: tuple[Path, ec.EllipticCurvePublicKey],
) -> None:
    now = [1_700_000_000.0]
    signer = apns.ProviderTokenSigner.from_auth(
        TokenAuth(key_path=str(p8_key[0]), key_id=KEY_ID, team_id=TEAM_ID), clock=lambda: now[0]
    )

    first = signer.token()
    now[0] += 29 * 60
    assert signer.token() == first
    now[0] += 61
    refreshed = signer.token()

    assert refreshed != first
    assert jwt.decode(refreshed, p8_key[1], algorithms=["ES256"])["iat"] == int(now[0])
    assert signer.minted == 2


def test_missing_provider_token_is_a_permanent_failure(
    token_server: ApnsStandIn, tls: TlsFiles, dev_chain: tuple[Path, Path, Path]
) -> None:
    # a client without token auth against a server that wants one
    _, cert_path, key_path = dev_chain
    client = ApnsClient(
        ApnsConfig(
            auth=CertificateAuth(cert_path=str(cert_path), key_path=str(key_path)),
            host=token_server.url,
            verify=str(tls.ca_path),
        )
    )
    try:
        result = client.send_pass_update(device_token(), DEV_PASS_TYPE_ID)
    finally:
        client.close()

    assert (result.outcome, result.status, result.reason) == (
        PushOutcome.FAILED,
        403,
        "MissingProviderToken",
    )


def test_connection_refused_is_retryable(dev_chain: tuple[Path, Path, Path]) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    _, cert_path, key_path = dev_chain
    client = ApnsClient(
        ApnsConfig(
            auth=CertificateAuth(cert_path=str(cert_path), key_path=str(key_path)),
            host=f"https://127.0.0.1:{closed_port}",
            timeout=2.0,
        )
    )
    try:
        result = client.send_pass_update(device_token(), DEV_PASS_TYPE_ID)
    finally:
        client.close()

    assert result.outcome is PushOutcome.RETRYABLE
    assert result.status is None
    assert "ConnectError" in (result.reason or "")


@pytest.mark.parametrize(
    ("status", "reason", "expected"),
    [
        (200, None, PushOutcome.OK),
        (410, "Unregistered", PushOutcome.UNREGISTERED),
        (400, "BadDeviceToken", PushOutcome.UNREGISTERED),
        (400, "DeviceTokenNotForTopic", PushOutcome.FAILED),
        (403, "InvalidProviderToken", PushOutcome.FAILED),
        (403, "ExpiredProviderToken", PushOutcome.RETRYABLE),
        (413, "PayloadTooLarge", PushOutcome.FAILED),
        (429, "TooManyRequests", PushOutcome.RETRYABLE),
        (500, "InternalServerError", PushOutcome.RETRYABLE),
        (503, "ServiceUnavailable", PushOutcome.RETRYABLE),
    ],
)
def test_classification(status: int, reason: str | None, expected: PushOutcome) -> None:
    assert classify_response(status, reason) is expected


def test_config_from_settings_picks_host_and_auth(tmp_path: Path) -> None:
    assert config_from_settings({}) is None

    sandbox = config_from_settings(
        {"APNS_USE_SANDBOX": "1", "APPLE_PASS_CERT": "c.pem", "APPLE_PASS_KEY": "k.pem"}
    )
    assert sandbox is not None
    assert sandbox.host == SANDBOX_HOST
    assert sandbox.bad_token_is_unregistered is False
    assert isinstance(sandbox.auth, CertificateAuth)

    token = config_from_settings(
        {
            "APNS_HOST": "https://127.0.0.1:9999/",
            "APNS_KEY_PATH": "AuthKey.p8",
            "APNS_KEY_ID": KEY_ID,
            "APPLE_TEAM_ID": TEAM_ID,
            "APPLE_PASS_CERT": "c.pem",
            "APPLE_PASS_KEY": "k.pem",
        }
    )
    assert token is not None
    assert token.host == "https://127.0.0.1:9999"
    assert token.auth == TokenAuth(key_path="AuthKey.p8", key_id=KEY_ID, team_id=TEAM_ID)
    assert token.bad_token_is_unregistered is True


def test_module_level_api_uses_the_configured_process_client(
    cert_server: ApnsStandIn, tls: TlsFiles, dev_chain: tuple[Path, Path, Path]
) -> None:
    apns.configure(None)
    with pytest.raises(ApnsNotConfiguredError):
        apns.send_pass_update(device_token(), DEV_PASS_TYPE_ID)

    _, cert_path, key_path = dev_chain
    apns.configure(
        ApnsConfig(
            auth=CertificateAuth(cert_path=str(cert_path), key_path=str(key_path)),
            host=cert_server.url,
            verify=str(tls.ca_path),
        )
    )
    try:
        first = apns.get_client()
        single = apns.send_pass_update(device_token(), DEV_PASS_TYPE_ID)
        many = apns.send_many([device_token(), device_token()], DEV_PASS_TYPE_ID)
        assert apns.get_client() is first
    finally:
        apns.configure(None)

    assert single.ok
    assert [r.ok for r in many] == [True, True]
    assert cert_server.connections_opened == 1


# -- the HTTP/2 connection under stress: every push comes back with a result ----------------


def certificate_client(
    server: ApnsStandIn, tls: TlsFiles, dev_chain: tuple[Path, Path, Path], **options: Any
) -> ApnsClient:
    _, cert_path, key_path = dev_chain
    return ApnsClient(
        ApnsConfig(
            auth=CertificateAuth(cert_path=str(cert_path), key_path=str(key_path)),
            host=server.url,
            verify=str(tls.ca_path),
            **options,
        )
    )


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.005)


def send_many_in_background(
    client: ApnsClient, tokens: list[str]
) -> tuple[threading.Thread, list[list[PushResult]]]:
    results: list[list[PushResult]] = []
    thread = threading.Thread(
        target=lambda: results.append(client.send_many(tokens, DEV_PASS_TYPE_ID)), daemon=True
    )
    thread.start()
    return thread, results


def answered_once_each(server: ApnsStandIn, tokens: list[str]) -> bool:
    return sorted(r.device_token or "" for r in server.requests) == sorted(tokens)


def test_server_closing_the_connection_mid_batch_loses_no_push(
    cert_server: ApnsStandIn,
    tls: TlsFiles,
    dev_chain: tuple[Path, Path, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given a batch whose first streams APNs holds unanswered
    connections: list[_H2ServerProtocol] = []
    original = _H2ServerProtocol.connection_made

    def connection_made(self: _H2ServerProtocol, transport: Any) -> None:
        connections.append(self)
        original(self, transport)

    monkeypatch.setattr(_H2ServerProtocol, "connection_made", connection_made)
    client = certificate_client(cert_server, tls, dev_chain, max_concurrency=40)
    tokens = [device_token() for _ in range(200)]
    cert_server.delay = 5.0
    try:
        thread, results = send_many_in_background(client, tokens)
        wait_until(lambda: len(cert_server.received) >= 40)

        # when the server drops the connection with 40 streams in flight
        cert_server.delay = 0.0
        assert cert_server._loop is not None
        transport = connections[0]._transport
        assert transport is not None
        cert_server._loop.call_soon_threadsafe(transport.close)
        thread.join(timeout=20)
    finally:
        client.close()

    # then the 40 were retried on a new connection: every push delivered exactly once
    [batch] = results
    assert [r.device_push_token for r in batch] == tokens
    assert all(r.ok for r in batch), {r.reason for r in batch if not r.ok}
    assert cert_server.connections_opened == 2
    assert answered_once_each(cert_server, tokens)


def test_goaway_mid_batch_retries_the_unprocessed_streams_on_a_new_connection(
    cert_server: ApnsStandIn,
    tls: TlsFiles,
    dev_chain: tuple[Path, Path, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given an APNs that answers 20 streams on the first connection, then says GOAWAY
    original = _H2ServerProtocol._request_complete
    goaway_after = 2 * 20 - 1  # client stream ids are odd: 1, 3, ... 39

    def request_complete(self: _H2ServerProtocol, stream_id: int) -> None:
        if self._connection_id == 1 and stream_id > goaway_after:
            if self._h2.state_machine.state is not ConnectionState.CLOSED:
                self._h2.close_connection(
                    error_code=ErrorCodes.NO_ERROR,
                    last_stream_id=goaway_after,
                    additional_data=b"Shutdown",
                )
                transport = self._transport
                assert transport is not None
                asyncio.get_running_loop().call_soon(transport.close)
            return  # streams past last_stream_id: never processed, never answered
        original(self, stream_id)

    monkeypatch.setattr(_H2ServerProtocol, "_request_complete", request_complete)
    client = certificate_client(cert_server, tls, dev_chain)
    tokens = [device_token() for _ in range(300)]
    try:
        results = client.send_many(tokens, DEV_PASS_TYPE_ID)
    finally:
        client.close()

    # then nothing was lost: the rest went over a second connection
    assert [r.device_push_token for r in results] == tokens
    assert all(r.ok for r in results), {r.reason for r in results if not r.ok}
    assert cert_server.connections_opened == 2
    assert sum(r.connection_id == 1 for r in cert_server.requests) == 20
    assert answered_once_each(cert_server, tokens)


def test_a_connection_that_keeps_dying_gives_retryable_results_not_errors(
    cert_server: ApnsStandIn,
    tls: TlsFiles,
    dev_chain: tuple[Path, Path, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given an APNs that drops every connection as soon as a request arrives
    def request_complete(self: _H2ServerProtocol, stream_id: int) -> None:
        if self._transport is not None:
            self._transport.close()

    monkeypatch.setattr(_H2ServerProtocol, "_request_complete", request_complete)
    client = certificate_client(cert_server, tls, dev_chain, timeout=5.0)
    tokens = [device_token() for _ in range(50)]
    try:
        batch = client.send_many(tokens, DEV_PASS_TYPE_ID)
        single = client.send_pass_update(device_token(), DEV_PASS_TYPE_ID)
    finally:
        client.close()

    # then each push got its one retry, and comes back for the caller to retry later
    assert [r.device_push_token for r in batch] == tokens
    for result in [*batch, single]:
        assert result.outcome is PushOutcome.RETRYABLE
        assert result.status is None
        assert (result.reason or "").startswith("RemoteProtocolError")
    assert cert_server.connections_opened >= 2


def test_more_pushes_than_the_servers_stream_limit_wait_for_a_slot(
    tls: TlsFiles, dev_chain: tuple[Path, Path, Path]
) -> None:
    # given an APNs allowing 5 concurrent streams (h2 refuses a 6th: a protocol error that
    # would end the connection), slow enough that streams pile up
    wwdr_path, _, _ = dev_chain
    with ApnsStandIn(tls, client_ca_path=wwdr_path, max_concurrent_streams=5, delay=0.01) as server:
        client = certificate_client(server, tls, dev_chain, max_concurrency=64)
        tokens = [device_token() for _ in range(150)]
        try:
            results = client.send_many(tokens, DEV_PASS_TYPE_ID)
        finally:
            client.close()

        # then all went through, over the one connection, never above the limit
        assert [r.device_push_token for r in results] == tokens
        assert all(r.ok for r in results), {r.reason for r in results if not r.ok}
        assert server.connections_opened == 1
        assert answered_once_each(server, tokens)


def test_a_request_apns_never_answers_times_out_as_retryable(
    cert_server: ApnsStandIn, tls: TlsFiles, dev_chain: tuple[Path, Path, Path]
) -> None:
    # given an APNs that holds every answer far longer than the client's timeout
    cert_server.delay = 60.0
    client = certificate_client(cert_server, tls, dev_chain, timeout=0.5)
    tokens = [device_token() for _ in range(20)]
    try:
        started = time.monotonic()
        batch = client.send_many(tokens, DEV_PASS_TYPE_ID)
        single = client.send_pass_update(device_token(), DEV_PASS_TYPE_ID)
        took = time.monotonic() - started

        # then each push comes back RETRYABLE after its own timeout, none raised
        assert [r.device_push_token for r in batch] == tokens
        for result in [*batch, single]:
            assert result.outcome is PushOutcome.RETRYABLE
            assert result.status is None
            assert (result.reason or "").startswith("ReadTimeout")
        assert took < 5
        assert len(cert_server.received) == 21
        assert cert_server.requests == []  # none answered

        # and the connection (alive: it answers PINGs) serves the next pushes
        cert_server.delay = 0.0
        after = client.send_many([device_token() for _ in range(5)], DEV_PASS_TYPE_ID)
    finally:
        client.close()
    assert all(r.ok for r in after)
    assert cert_server.connections_opened == 1


def test_requests_waiting_for_a_stream_slot_time_out_too(
    tls: TlsFiles, dev_chain: tuple[Path, Path, Path]
) -> None:
    # given an APNs with two stream slots that never answers
    wwdr_path, _, _ = dev_chain
    with ApnsStandIn(tls, client_ca_path=wwdr_path, max_concurrent_streams=2, delay=60) as server:
        client = certificate_client(server, tls, dev_chain, timeout=0.5)
        try:
            started = time.monotonic()
            results = client.send_many([device_token() for _ in range(6)], DEV_PASS_TYPE_ID)
            took = time.monotonic() - started
        finally:
            client.close()

    # then every push comes back retryable within one timeout (the wait for a slot counts
    # towards it, so queued requests do not add up their timeouts), none lost or raised
    assert len(results) == 6
    assert all(r.outcome is PushOutcome.RETRYABLE for r in results)
    assert {(r.reason or "").split(":")[0] for r in results} <= {"PoolTimeout", "ReadTimeout"}
    assert took < 1.5
