"""APNs client against the local HTTP/2 stand-in (TLS, real h2 framing)."""

from __future__ import annotations

import secrets
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from wallet import apns
from wallet.apns import (
    SANDBOX_HOST,
    ApnsClient,
    ApnsConfig,
    ApnsNotConfiguredError,
    CertificateAuth,
    PushOutcome,
    TokenAuth,
    classify_response,
    config_from_settings,
)
from wallet.passkit.certs import DEV_PASS_TYPE_ID, generate_dev_chain

from .apns_server import ApnsStandIn, TlsFiles, make_tls_files

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
