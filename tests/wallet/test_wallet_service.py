"""The wallet in the product: the card's .pkpass, the PassKit web service played by a device,
and pushes to a local HTTP/2 APNs server when the card changes."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import zipfile
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.test import Client
from django.utils.http import http_date

from loyalty.models import StampSource
from loyalty.services import card_add_stamps, customer_join, program_create, program_update
from tenants.scoping import tenant_scope
from tests.wallet.apns_server import ApnsStandIn, make_tls_files
from vouchers.services import template_create, trigger_create
from wallet import apns
from wallet.models import AppleRegistration, PassKitLog, WalletPass
from wallet.passkit.certs import clear_signing_material_cache
from wallet.passkit.package import validate_pass_json

pytestmark = pytest.mark.django_db
DEVICE = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
PUSH_TOKEN = "ab" * 32


@pytest.fixture(autouse=True)
def _dev_chain_dir(settings, tmp_path_factory):
    settings.DATA_DIR = tmp_path_factory.getbasetemp() / "wallet-data"
    yield
    apns.configure(None)


@pytest.fixture
def card(world_a):
    with tenant_scope(world_a.tenant):
        world_a.location.latitude, world_a.location.longitude = 52.52, 13.40
        world_a.location.save()
        program = program_create(
            tenant=world_a.tenant,
            data={"name": "Coffee", "stamp_goal": 5, "reward_text": "a free coffee"},
        )
        template = template_create(
            tenant=world_a.tenant, data={"reward_title": "Free coffee", "method": "redeem_code"}
        )
        trigger_create(template=template, program=program, kind="stamp_goal")
        card, _ = customer_join(program=program, name="Maya", email="maya@example.test")
    return card


def download(card) -> zipfile.ZipFile:
    response = Client().get(f"/card/{card.token}/pass.pkpass")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.apple.pkpass"
    return zipfile.ZipFile(io.BytesIO(response.content))


def test_card_pass_is_signed_and_shows_the_card(world_a, card, tmp_path, settings):
    with tenant_scope(world_a.tenant):
        card_add_stamps(card=card, count=7, source=StampSource.STAFF)  # a voucher + 2 of 5
        card.refresh_from_db()
    archive = download(card)
    names = set(archive.namelist())
    assert {
        "pass.json",
        "manifest.json",
        "signature",
        "icon.png",
        "strip.png",
        "strip@2x.png",
    } <= names
    manifest = json.loads(archive.read("manifest.json"))
    for name, digest in manifest.items():
        assert hashlib.sha1(archive.read(name)).hexdigest() == digest  # noqa: S324 - Apple's spec
    data = json.loads(archive.read("pass.json"))
    assert validate_pass_json(data, allow_insecure_web_service=True) == []
    assert data["serialNumber"] == card.serial_number
    assert data["barcodes"][0]["message"] == card.token
    assert data["webServiceURL"] == settings.PUBLIC_BASE_URL + "/passkit"
    assert len(data["authenticationToken"]) >= 32
    assert data["storeCard"]["headerFields"][0]["value"] == "2 / 5"
    back = {f["key"]: f["value"] for f in data["storeCard"]["backFields"]}
    with tenant_scope(world_a.tenant):
        voucher = card.vouchers.get()
    assert back[f"voucher-{voucher.pk}"] == "Free coffee"
    assert back[f"voucher-{voucher.pk}-code"] == voucher.code_display
    assert data["locations"] == [
        {"latitude": 52.52, "longitude": 13.4, "relevantText": "Alpha is nearby"}
    ]
    # The signature verifies with openssl against the chain's WWDR certificate.
    chain = Path(settings.DATA_DIR) / "dev-wallet-chain"
    wwdr = next(p for p in chain.iterdir() if "wwdr" in p.name.lower())
    (tmp_path / "manifest.json").write_bytes(archive.read("manifest.json"))
    (tmp_path / "signature").write_bytes(archive.read("signature"))
    result = subprocess.run(
        [
            "openssl",
            "cms",
            "-verify",
            "-binary",
            "-inform",
            "DER",
            "-in",
            str(tmp_path / "signature"),
            "-content",
            str(tmp_path / "manifest.json"),
            "-CAfile",
            str(wwdr),
            "-purpose",
            "any",
            "-out",
            "/dev/null",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    # The authentication token never changes for the card.
    assert (
        json.loads(download(card).read("pass.json"))["authenticationToken"]
        == data["authenticationToken"]
    )


def test_card_page_offers_apple_wallet_and_says_it_is_a_development_pass(card):
    html = Client().get(f"/card/{card.token}/").content.decode()
    assert f'href="/card/{card.token}/pass.pkpass"' in html
    assert "development certificate" in html
    assert 'data-testid="add-google"' not in html  # no Google credentials configured


class Device:
    """Plays an iPhone against the PassKit web service."""

    def __init__(self, client: Client, pass_json: dict):
        self.client = client
        self.type_id = pass_json["passTypeIdentifier"]
        self.serial = pass_json["serialNumber"]
        self.auth = {"HTTP_AUTHORIZATION": f"ApplePass {pass_json['authenticationToken']}"}

    def register(self, token=PUSH_TOKEN, auth=None, serial=None):
        return self.client.post(
            f"/passkit/v1/devices/{DEVICE}/registrations/{self.type_id}/{serial or self.serial}",
            json.dumps({"pushToken": token}),
            content_type="application/json",
            **(self.auth if auth is None else auth),
        )

    def unregister(self):
        return self.client.delete(
            f"/passkit/v1/devices/{DEVICE}/registrations/{self.type_id}/{self.serial}", **self.auth
        )

    def updated_since(self, tag=None):
        query = f"?passesUpdatedSince={tag}" if tag else ""
        return self.client.get(f"/passkit/v1/devices/{DEVICE}/registrations/{self.type_id}{query}")

    def fetch(self, **headers):
        return self.client.get(
            f"/passkit/v1/passes/{self.type_id}/{self.serial}", **self.auth, **headers
        )


def test_web_service_protocol_played_by_a_device(world_a, card):
    device = Device(Client(), json.loads(download(card).read("pass.json")))
    wrong = {"HTTP_AUTHORIZATION": "ApplePass not-the-token"}
    assert device.register(auth=wrong).status_code == 401
    assert device.register(serial="NOSUCHSERIAL").status_code == 401  # the same answer
    assert device.register(auth={}).status_code == 401
    assert device.register().status_code == 201
    assert device.register().status_code == 200  # devices re-register often
    bad = device.client.post(
        f"/passkit/v1/devices/{DEVICE}/registrations/{device.type_id}/{device.serial}",
        "not json",
        content_type="application/json",
        **device.auth,
    )
    assert bad.status_code == 400

    listing = device.updated_since()
    assert listing.status_code == 200
    body = listing.json()
    assert body["serialNumbers"] == [card.serial_number]
    assert isinstance(body["lastUpdated"], str)
    assert device.updated_since(body["lastUpdated"]).status_code == 204
    assert device.updated_since("yesterday").status_code == 400

    first = device.fetch()
    assert first.status_code == 200
    last_modified = first["Last-Modified"]
    assert device.fetch(HTTP_IF_MODIFIED_SINCE=last_modified).status_code == 304

    with tenant_scope(world_a.tenant):
        card_add_stamps(card=card, count=1, source=StampSource.STAFF)
    changed = device.updated_since(body["lastUpdated"])
    assert changed.status_code == 200
    assert changed.json()["serialNumbers"] == [card.serial_number]
    assert int(changed.json()["lastUpdated"]) > int(body["lastUpdated"])
    newer = device.fetch(HTTP_IF_MODIFIED_SINCE=http_date(0))
    assert newer.status_code == 200
    stamps = json.loads(zipfile.ZipFile(io.BytesIO(newer.content)).read("pass.json"))
    assert stamps["storeCard"]["headerFields"][0]["value"] == "1 / 5"
    assert (
        device.client.get(
            f"/passkit/v1/passes/{device.type_id}/{device.serial}", **wrong
        ).status_code
        == 401
    )

    log = device.client.post(
        "/passkit/v1/log", json.dumps({"logs": ["x" * 5000, "ok"]}), content_type="application/json"
    )
    assert log.status_code == 200
    assert [len(m) for m in PassKitLog.objects.values_list("message", flat=True)] == [1000, 2]
    assert (
        device.client.post("/passkit/v1/log", "{", content_type="application/json").status_code
        == 400
    )

    assert device.unregister().status_code == 200
    with tenant_scope(world_a.tenant):
        assert not AppleRegistration.objects.exists()
    assert device.updated_since().status_code == 204


def wait_for(server, count, timeout=5.0):
    """The stand-in records a request just after answering it: give its thread a moment."""
    import time

    deadline = time.monotonic() + timeout
    while len(server.requests) < count and time.monotonic() < deadline:
        time.sleep(0.01)


@pytest.fixture
def apns_server(tmp_path_factory, settings):
    tls = make_tls_files(tmp_path_factory.mktemp("apns-tls"))
    key = ec.generate_private_key(ec.SECP256R1())
    key_path = tmp_path_factory.mktemp("p8") / "AuthKey_KEY1234567.p8"
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    with ApnsStandIn(
        tls, token_public_key=key.public_key(), key_id="KEY1234567", team_id="DEVTEAM000"
    ) as server:
        settings.APNS_HOST = server.url
        settings.APNS_CA_FILE = str(tls.ca_path)
        settings.APNS_KEY_PATH = str(key_path)
        settings.APNS_KEY_ID = "KEY1234567"
        settings.APPLE_TEAM_ID = "DEVTEAM000"
        yield server
        apns.configure(None)


def test_a_stamp_pushes_to_every_registered_device_and_410_unregisters(
    world_a, card, apns_server, django_capture_on_commit_callbacks
):
    pass_json = json.loads(download(card).read("pass.json"))
    tokens = ["aa" * 32, "bb" * 32, "cc" * 32]
    for i, token in enumerate(tokens):
        Client().post(
            f"/passkit/v1/devices/device{i}/registrations/{pass_json['passTypeIdentifier']}/{card.serial_number}",
            json.dumps({"pushToken": token}),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"ApplePass {pass_json['authenticationToken']}",
        )
    apns_server.unregister("cc" * 32)
    with tenant_scope(world_a.tenant), django_capture_on_commit_callbacks(execute=True):
        card_add_stamps(card=card, count=1, source=StampSource.STAFF)
    wait_for(apns_server, 3)
    pushed = sorted(r.device_token for r in apns_server.requests)
    assert pushed == sorted(tokens)
    assert all(
        r.headers["apns-topic"] == pass_json["passTypeIdentifier"] for r in apns_server.requests
    )
    assert all(r.body == b"{}" for r in apns_server.requests)
    with tenant_scope(world_a.tenant):
        assert sorted(AppleRegistration.objects.values_list("push_token", flat=True)) == tokens[:2]
        wallet_pass = WalletPass.objects.get(card=card)
        card.refresh_from_db()
        assert wallet_pass.apple_pushed_version == card.version
    # The same version again is skipped (idempotent).
    from wallet.tasks import push_card

    push_card.apply(kwargs={"tenant_id": world_a.tenant.pk, "card_id": card.pk})
    assert len(apns_server.requests) == 3


def test_transient_apns_errors_ask_for_a_retry_and_the_retry_delivers(
    world_a, card, apns_server, django_capture_on_commit_callbacks
):
    from wallet.tasks import push_card

    Device(Client(), json.loads(download(card).read("pass.json"))).register()
    apns_server.fail_next(1, status=503, reason="ServiceUnavailable")
    with tenant_scope(world_a.tenant), django_capture_on_commit_callbacks(execute=True):
        card_add_stamps(card=card, count=1, source=StampSource.STAFF)
    wait_for(apns_server, 1)
    with tenant_scope(world_a.tenant):
        card.refresh_from_db()
        assert WalletPass.objects.get(card=card).apple_pushed_version < card.version
    # What the worker runs after the backoff:
    result = push_card.apply(kwargs={"tenant_id": world_a.tenant.pk, "card_id": card.pk})
    assert result.successful()
    wait_for(apns_server, 2)
    assert [r.status for r in apns_server.requests] == [503, 200]
    with tenant_scope(world_a.tenant):
        assert WalletPass.objects.get(card=card).apple_pushed_version == card.version


def test_a_design_change_updates_every_card_of_the_program(
    world_a, card, apns_server, django_capture_on_commit_callbacks
):
    pass_json = json.loads(download(card).read("pass.json"))
    Device(Client(), pass_json).register()
    with tenant_scope(world_a.tenant):
        other, _ = customer_join(program=card.program, name="Other")
    Device(Client(), json.loads(download(other).read("pass.json"))).register(token="dd" * 32)
    with tenant_scope(world_a.tenant), django_capture_on_commit_callbacks(execute=True):
        program_update(program=card.program, data={"card_color": "#123456"})
    wait_for(apns_server, 2)
    assert sorted(r.device_token for r in apns_server.requests) == sorted([PUSH_TOKEN, "dd" * 32])
    colour = json.loads(download(card).read("pass.json"))["backgroundColor"]
    assert colour == "rgb(18, 52, 86)"


def test_missing_apple_credentials_never_crash_a_stamp(
    world_a, card, django_capture_on_commit_callbacks
):
    clear_signing_material_cache()
    Device(Client(), json.loads(download(card).read("pass.json"))).register()
    with tenant_scope(world_a.tenant), django_capture_on_commit_callbacks(execute=True):
        outcome = card_add_stamps(card=card, count=1, source=StampSource.STAFF)
    assert outcome.card.stamps == 1


def test_a_chain_given_by_the_environment_signs_the_card_pass(card, settings, tmp_path):
    from wallet import passes
    from wallet.passkit.certs import generate_dev_chain

    wwdr, cert, key = generate_dev_chain(
        tmp_path / "company-chain", pass_type_id="pass.com.example.loyalty", team_id="EXAMPLE123"
    )
    settings.APPLE_PASS_CERT, settings.APPLE_PASS_KEY, settings.APPLE_WWDR_CERT = (
        str(cert),
        str(key),
        str(wwdr),
    )
    clear_signing_material_cache()
    try:
        archive = download(card)
        data = json.loads(archive.read("pass.json"))
        assert data["passTypeIdentifier"] == "pass.com.example.loyalty"
        assert data["teamIdentifier"] == "EXAMPLE123"
        (tmp_path / "manifest.json").write_bytes(archive.read("manifest.json"))
        (tmp_path / "signature").write_bytes(archive.read("signature"))

        def verify(ca):
            return subprocess.run(
                [
                    "openssl",
                    "cms",
                    "-verify",
                    "-binary",
                    "-inform",
                    "DER",
                    "-in",
                    str(tmp_path / "signature"),
                    "-content",
                    str(tmp_path / "manifest.json"),
                    "-CAfile",
                    str(ca),
                    "-purpose",
                    "any",
                    "-out",
                    "/dev/null",
                ],
                capture_output=True,
                check=False,
            ).returncode

        assert verify(wwdr) == 0
        dev_wwdr, _dev_cert, _dev_key = generate_dev_chain(passes.dev_chain_dir())
        assert verify(dev_wwdr) != 0  # really signed by the configured chain, not the dev one
        assert (
            "development certificate" not in Client().get(f"/card/{card.token}/").content.decode()
        )
    finally:
        clear_signing_material_cache()
