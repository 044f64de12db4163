"""Pass building and signing, checked with the real ``openssl`` and by reading the bytes."""

from __future__ import annotations

import copy
import hashlib
import io
import json
import shutil
import subprocess
import threading
import zipfile
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID
from PIL import Image

from wallet.passkit.certs import (
    DEV_PASS_TYPE_ID,
    DEV_TEAM_ID,
    SigningMaterial,
    SigningMaterialError,
    generate_dev_chain,
    get_signing_material,
    load_dev_signing_material,
    load_signing_material,
)
from wallet.passkit.package import (
    PassField,
    PassLocation,
    PassValidationError,
    PassVoucher,
    build_pkpass,
    build_store_card_pass_json,
    validate_pass_json,
)
from wallet.passkit.signing import sign_manifest
from wallet.passkit.strip import (
    STRIP_HEIGHT_PT,
    STRIP_WIDTH_PT,
    default_icon_files,
    parse_hex_color,
    render_strip,
    stamp_geometry,
    strip_files,
)

OPENSSL = shutil.which("openssl")
needs_openssl = pytest.mark.skipif(OPENSSL is None, reason="the openssl binary is not installed")

STAMP = "#f59e0b"
BACKGROUND = "#1f2937"
FOREGROUND = "#ffffff"


def openssl(*args: str) -> subprocess.CompletedProcess[bytes]:
    assert OPENSSL is not None
    # Fixed argv, no shell: the real openssl is the independent verifier these tests need.
    return subprocess.run([OPENSSL, *args], capture_output=True, check=False)


def verify_with_openssl(directory: Path, wwdr_path: Path) -> subprocess.CompletedProcess[bytes]:
    return openssl(
        "cms",
        "-verify",
        "-binary",
        "-inform",
        "DER",
        "-in",
        str(directory / "signature"),
        "-content",
        str(directory / "manifest.json"),
        "-CAfile",
        str(wwdr_path),
        "-purpose",
        "any",
        "-out",
        str(directory / "verified-content"),
    )


@pytest.fixture(scope="module")
def dev_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("dev-chain")


@pytest.fixture(scope="module")
def material(dev_dir: Path) -> SigningMaterial:
    return load_dev_signing_material(dev_dir)


def store_card(material: SigningMaterial, **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "pass_type_identifier": material.pass_type_identifier,
        "serial_number": "card-7f3e2a9c",
        "team_identifier": material.team_identifier,
        "organization_name": "Demo Café",
        "description": "Demo Café stamp card",
        "authentication_token": "a" * 32,
        "web_service_url": "https://stampwise.example/passkit",
        "background_color": BACKGROUND,
        "foreground_color": FOREGROUND,
        "label_color": (200, 200, 200),
        "logo_text": "Demo Café",
        "barcode_message": "https://stampwise.example/card/7f3e2a9c/",
        "barcode_alt_text": "7f3e2a9c",
        "stamps": 3,
        "goal": 10,
        "primary_fields": [PassField("reward", "Reward", "Free coffee")],
        "secondary_fields": [PassField("member", "Member", "Ada")],
        "back_fields": [PassField("terms", "Terms", "One stamp per visit.")],
    }
    values.update(overrides)
    return build_store_card_pass_json(**values)


def unzip(pkpass: bytes, directory: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(pkpass)) as archive:
        archive.extractall(directory)
        return {name: archive.read(name) for name in archive.namelist()}


# -- development chain ----------------------------------------------------------------------


def test_dev_chain_is_generated_once_and_marked_as_development(tmp_path: Path) -> None:
    first = generate_dev_chain(tmp_path / "chain")
    contents = [p.read_bytes() for p in first]
    second = generate_dev_chain(tmp_path / "chain")

    assert second == first
    assert [p.read_bytes() for p in second] == contents
    wwdr = x509.load_pem_x509_certificate(first[0].read_bytes())
    cert = x509.load_pem_x509_certificate(first[1].read_bytes())
    common_name = wwdr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    assert common_name == "Stampwise DEVELOPMENT WWDR CA"
    assert cert.issuer == wwdr.subject
    assert "CN=Pass Type ID: pass.dev.stampwise" in cert.subject.rfc4514_string()
    assert "OU=DEVTEAM000" in cert.subject.rfc4514_string()
    assert "DEVELOPMENT" in cert.subject.rfc4514_string()
    # the pass certificate really is signed by the development CA
    wwdr.public_key().verify(  # type: ignore[union-attr]
        cert.signature,
        cert.tbs_certificate_bytes,
        padding.PKCS1v15(),
        cert.signature_hash_algorithm,  # type: ignore[arg-type]
    )
    assert oct(first[2].stat().st_mode & 0o777) == "0o600"


def test_concurrent_generation_yields_one_consistent_chain(tmp_path: Path) -> None:
    target = tmp_path / "race"
    results: list[tuple[Path, Path, Path]] = []
    lock = threading.Lock()

    def generate() -> None:
        paths = generate_dev_chain(target)
        with lock:
            results.append(paths)

    threads = [threading.Thread(target=generate) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(set(results)) == 1
    # whoever won, the key on disk matches the certificate on disk
    material = load_signing_material(results[0][1], results[0][2], None, results[0][0])
    assert material.cert.issuer == material.wwdr.subject
    # no half-written temporary file was left behind
    assert sorted(p.name for p in target.iterdir()) == [
        ".dev-chain.lock",
        "dev-pass-cert.pem",
        "dev-pass-key.pem",
        "dev-wwdr.pem",
    ]


def test_dev_material_exposes_pass_type_and_team(material: SigningMaterial) -> None:
    assert material.is_development is True
    assert material.pass_type_identifier == DEV_PASS_TYPE_ID
    assert material.team_identifier == DEV_TEAM_ID


def test_signing_material_is_loaded_once_per_paths(dev_dir: Path) -> None:
    wwdr, cert, key = generate_dev_chain(dev_dir)

    assert load_signing_material(cert, key, None, wwdr) is load_signing_material(
        str(cert), str(key), "", str(wwdr)
    )


def test_get_signing_material_without_apple_settings_uses_the_dev_chain(tmp_path: Path) -> None:
    chosen = get_signing_material({}, dev_dir=tmp_path / "dev")

    assert chosen.is_development
    assert chosen.cert_path == (tmp_path / "dev" / "dev-pass-cert.pem").resolve()


def test_partial_apple_configuration_is_an_error_not_a_silent_fallback(tmp_path: Path) -> None:
    with pytest.raises(SigningMaterialError, match="APPLE_PASS_KEY"):
        get_signing_material(
            {"APPLE_PASS_CERT": "/x/cert.pem", "APPLE_WWDR_CERT": "/x/wwdr.pem"},
            dev_dir=tmp_path,
        )


def test_key_that_does_not_match_the_certificate_is_rejected(tmp_path: Path) -> None:
    wwdr, cert, _ = generate_dev_chain(tmp_path / "a")
    _, _, other_key = generate_dev_chain(tmp_path / "b")

    with pytest.raises(SigningMaterialError, match="does not match"):
        load_signing_material(cert, other_key, None, wwdr)


def test_missing_certificate_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(SigningMaterialError, match="cannot load"):
        load_signing_material(tmp_path / "no.pem", tmp_path / "no.key", None, tmp_path / "w.pem")


def test_password_protected_key_loads_with_its_password(tmp_path: Path) -> None:
    wwdr, cert, key = generate_dev_chain(tmp_path / "chain")
    private_key = serialization.load_pem_private_key(key.read_bytes(), None)
    encrypted = tmp_path / "encrypted-key.pem"
    encrypted.write_bytes(
        private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"s3cret-pass"),
        )
    )

    loaded = load_signing_material(cert, encrypted, "s3cret-pass", wwdr)
    with pytest.raises(SigningMaterialError):
        load_signing_material(cert, encrypted, "wrong", wwdr)

    assert loaded.key.public_key().public_numbers() == loaded.cert.public_key().public_numbers()


# -- pkpass ---------------------------------------------------------------------------------


@needs_openssl
def test_pkpass_signature_verifies_with_openssl_and_manifest_matches(
    material: SigningMaterial, tmp_path: Path
) -> None:
    # given a store card with its stamp strip
    pass_json = store_card(material)
    images = strip_files(goal=10, filled=3, bg_hex=BACKGROUND, fg_hex=FOREGROUND, stamp_hex=STAMP)
    images["logo.png"] = default_icon_files()["icon@2x.png"]

    # when it is packaged
    pkpass = build_pkpass(pass_json, images, material)
    entries = unzip(pkpass, tmp_path)

    # then the bundle holds every file, the manifest hashes each one, and openssl verifies
    # the detached signature against the WWDR certificate
    with zipfile.ZipFile(io.BytesIO(pkpass)) as archive:
        names = archive.namelist()
    assert names == [
        "icon.png",
        "icon@2x.png",
        "icon@3x.png",
        "logo.png",
        "pass.json",
        "strip.png",
        "strip@2x.png",
        "strip@3x.png",
        "manifest.json",
        "signature",
    ]
    manifest = json.loads(entries["manifest.json"])
    assert set(manifest) == set(names) - {"manifest.json", "signature"}
    for name, digest in manifest.items():
        assert hashlib.sha1(entries[name], usedforsecurity=False).hexdigest() == digest
    assert json.loads(entries["pass.json"]) == pass_json
    assert validate_pass_json(json.loads(entries["pass.json"])) == []

    verified = verify_with_openssl(tmp_path, material.wwdr_path)
    assert verified.returncode == 0, verified.stderr.decode()
    assert (tmp_path / "verified-content").read_bytes() == entries["manifest.json"]


@needs_openssl
def test_signature_carries_signing_time_and_the_wwdr_certificate(
    material: SigningMaterial, tmp_path: Path
) -> None:
    (tmp_path / "signature").write_bytes(sign_manifest(b'{"pass.json":"00"}', material))

    printed = openssl(
        "cms", "-cmsout", "-print", "-inform", "DER", "-in", str(tmp_path / "signature")
    )
    embedded = pkcs7.load_der_pkcs7_certificates((tmp_path / "signature").read_bytes())

    assert printed.returncode == 0, printed.stderr.decode()
    text = printed.stdout.decode()
    assert "signingTime" in text
    assert "sha256" in text
    assert "eContent: <ABSENT>" in text  # detached
    # both the signer and Apple's (here: the development) WWDR intermediate travel with it
    assert {cert.subject for cert in embedded} == {material.cert.subject, material.wwdr.subject}


@needs_openssl
def test_tampered_manifest_fails_openssl_verification(
    material: SigningMaterial, tmp_path: Path
) -> None:
    unzip(build_pkpass(store_card(material), {}, material), tmp_path)
    manifest = tmp_path / "manifest.json"
    manifest.write_bytes(manifest.read_bytes().replace(b"pass.json", b"pass.jsoN"))

    assert verify_with_openssl(tmp_path, material.wwdr_path).returncode != 0


@needs_openssl
def test_chain_given_by_paths_signs_and_verifies_only_against_its_own_wwdr(
    material: SigningMaterial, tmp_path: Path
) -> None:
    # given a second, independent chain configured the way a real Apple certificate is
    wwdr, cert, key = generate_dev_chain(
        tmp_path / "configured", pass_type_id="pass.example.loyalty", team_id="ABCDE12345"
    )
    configured = get_signing_material(
        {
            "APPLE_PASS_CERT": str(cert),
            "APPLE_PASS_KEY": str(key),
            "APPLE_PASS_KEY_PASSWORD": "",
            "APPLE_WWDR_CERT": str(wwdr),
        },
        dev_dir=tmp_path / "unused-dev-dir",
    )
    assert configured.is_development is False
    assert configured.pass_type_identifier == "pass.example.loyalty"
    assert not (tmp_path / "unused-dev-dir").exists()

    pass_json = store_card(
        configured,
        pass_type_identifier=configured.pass_type_identifier,
        team_identifier=configured.team_identifier,
    )
    unzip(build_pkpass(pass_json, {}, configured), tmp_path / "pass")

    assert verify_with_openssl(tmp_path / "pass", wwdr).returncode == 0
    assert verify_with_openssl(tmp_path / "pass", material.wwdr_path).returncode != 0


def test_missing_icon_gets_the_default_and_a_given_icon_is_kept(
    material: SigningMaterial,
) -> None:
    custom_icon = render_strip(
        goal=1, filled=1, bg_hex="#000000", fg_hex="#ffffff", stamp_hex="#ff0000", scale=1
    )

    defaulted = zipfile.ZipFile(io.BytesIO(build_pkpass(store_card(material), {}, material)))
    custom = zipfile.ZipFile(
        io.BytesIO(build_pkpass(store_card(material), {"icon.png": custom_icon}, material))
    )

    assert defaulted.read("icon.png") == default_icon_files()["icon.png"]
    assert custom.read("icon.png") == custom_icon
    assert "icon@2x.png" not in custom.namelist()


@pytest.mark.parametrize("name", ["pass.json", "manifest.json", "signature", "../x.png", "/a.png"])
def test_reserved_or_escaping_file_names_are_refused(material: SigningMaterial, name: str) -> None:
    with pytest.raises(ValueError, match="pass"):
        build_pkpass(store_card(material), {name: b"x"}, material)


def test_pkpass_entries_are_deterministic_apart_from_the_signature(
    material: SigningMaterial,
) -> None:
    first = zipfile.ZipFile(io.BytesIO(build_pkpass(store_card(material), {}, material)))
    second = zipfile.ZipFile(io.BytesIO(build_pkpass(store_card(material), {}, material)))

    for name in first.namelist():
        if name != "signature":
            assert first.read(name) == second.read(name)
        assert first.getinfo(name).date_time == (1980, 1, 1, 0, 0, 0)


# -- pass.json ------------------------------------------------------------------------------


def test_store_card_pass_json_has_the_documented_shape(material: SigningMaterial) -> None:
    data = store_card(
        material,
        vouchers=[
            PassVoucher("v1", "Free coffee", "ABCDE-12345"),
            PassVoucher("v2", "Free cake"),
        ],
        locations=[PassLocation(48.0 + i / 100, 11.5, f"Shop {i}") for i in range(12)],
    )

    assert data["formatVersion"] == 1
    assert data["passTypeIdentifier"] == DEV_PASS_TYPE_ID
    assert data["teamIdentifier"] == DEV_TEAM_ID
    assert data["backgroundColor"] == "rgb(31, 41, 55)"
    assert data["labelColor"] == "rgb(200, 200, 200)"
    assert data["barcodes"] == [
        {
            "format": "PKBarcodeFormatQR",
            "message": "https://stampwise.example/card/7f3e2a9c/",
            "messageEncoding": "iso-8859-1",
            "altText": "7f3e2a9c",
        }
    ]
    card = data["storeCard"]
    assert card["headerFields"] == [
        {
            "key": "stamps",
            "label": "Stamps",
            "value": "3 / 10",
            "changeMessage": "You have %@ stamps",
        }
    ]
    assert card["backFields"][:3] == [
        {
            "key": "voucher-v1",
            "label": "Reward ready",
            "value": "Free coffee",
            "changeMessage": "Your %@ is ready",
        },
        {"key": "voucher-v1-code", "label": "Redeem code", "value": "ABCDE-12345"},
        {
            "key": "voucher-v2",
            "label": "Reward ready",
            "value": "Free cake",
            "changeMessage": "Your %@ is ready",
        },
    ]
    assert len(data["locations"]) == 10
    assert data["locations"][0] == {"latitude": 48.0, "longitude": 11.5, "relevantText": "Shop 0"}
    assert validate_pass_json(data) == []


def test_builder_refuses_what_wallet_would_refuse(material: SigningMaterial) -> None:
    with pytest.raises(PassValidationError) as excinfo:
        store_card(
            material,
            authentication_token="short",
            web_service_url="http://stampwise.example/passkit",
            secondary_fields=[PassField("stamps", "Dup", "1")],
        )

    problems = " | ".join(excinfo.value.errors)
    assert "at least 16 characters" in problems
    assert "https" in problems
    assert "'stamps'" in problems


@pytest.fixture
def valid_pass(material: SigningMaterial) -> dict[str, Any]:
    return store_card(material)


def broken(valid: dict[str, Any], mutate: Any) -> list[str]:
    data = copy.deepcopy(valid)
    mutate(data)
    return validate_pass_json(data)


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d.pop("teamIdentifier"), "missing required key 'teamIdentifier'"),
        (lambda d: d.update(formatVersion=2), "'formatVersion' must be 1"),
        (lambda d: d.update(formatVersion=True), "'formatVersion' must be a int"),
        (lambda d: d.update(serialNumber=42), "'serialNumber' must be a str"),
        (lambda d: d.update(passTypeIdentifier="com.example"), "must start with 'pass.'"),
        (lambda d: d.update(backgroundColor="#112233"), "'backgroundColor' must be 'rgb(r, g, b)'"),
        (lambda d: d.update(foregroundColor="rgb(300, 0, 0)"), "'foregroundColor' must be"),
        (lambda d: d["barcodes"][0].update(format="PKBarcodeFormatEAN13"), "barcodes[0].format"),
        (lambda d: d["barcodes"][0].pop("messageEncoding"), "barcodes[0].messageEncoding"),
        (
            lambda d: d.update(barcode={**d["barcodes"][0], "format": "PKBarcodeFormatCode128"}),
            "barcode.format",
        ),
        (
            lambda d: d["storeCard"]["auxiliaryFields"].append({"key": "member", "value": "x"}),
            "field key 'member' in auxiliaryFields duplicates one in secondaryFields",
        ),
        (lambda d: d["storeCard"]["primaryFields"][0].pop("value"), "needs a 'value'"),
        (lambda d: d["storeCard"]["primaryFields"][0].update(value=None), "must be a string or"),
        (
            lambda d: d.update(locations=[{"latitude": 1.0, "longitude": 2.0}] * 11),
            "at most 10 locations",
        ),
        (lambda d: d.update(locations=[{"latitude": 91, "longitude": 0}]), "latitude"),
        (lambda d: d.update(authenticationToken="x" * 15), "at least 16 characters"),
        (lambda d: d.pop("authenticationToken"), "must be given together"),
        (lambda d: d.update(webServiceURL="http://shop.example/passkit"), "must use https"),
        (lambda d: d.update(webServiceURL="ftp://shop.example/"), "must be an https URL"),
        (lambda d: d.update(generic={}), "exactly one pass style"),
        (lambda d: d.update(voided="no"), "'voided' must be a bool"),
    ],
)
def test_validator_reports_each_documented_rule(
    valid_pass: dict[str, Any], mutate: Any, expected: str
) -> None:
    problems = broken(valid_pass, mutate)

    assert any(expected in problem for problem in problems), problems


def test_http_web_service_is_allowed_for_localhost_and_for_dev_when_asked(
    valid_pass: dict[str, Any],
) -> None:
    local = {**valid_pass, "webServiceURL": "http://127.0.0.1:8000/passkit"}
    lan = {**valid_pass, "webServiceURL": "http://192.168.1.20:8000/passkit"}

    assert validate_pass_json(local) == []
    assert validate_pass_json(lan) != []
    assert validate_pass_json(lan, allow_insecure_web_service=True) == []


# -- images ---------------------------------------------------------------------------------


def png_size(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "PNG"
        return image.size


@pytest.mark.parametrize("scale", [1, 2, 3])
def test_strip_has_apples_strip_size_at_each_scale(scale: int) -> None:
    data = render_strip(
        goal=8, filled=2, bg_hex=BACKGROUND, fg_hex=FOREGROUND, stamp_hex=STAMP, scale=scale
    )

    assert png_size(data) == (STRIP_WIDTH_PT * scale, STRIP_HEIGHT_PT * scale)


def pixel(data: bytes, x: float, y: float) -> tuple[int, int, int]:
    with Image.open(io.BytesIO(data)) as image:
        return image.convert("RGB").getpixel((round(x), round(y)))  # type: ignore[return-value]


def near(actual: tuple[int, int, int], color: str) -> bool:
    return all(abs(a - b) < 40 for a, b in zip(actual, parse_hex_color(color), strict=True))


def stamped_runs(data: bytes, y: float, color: str) -> int:
    """How many separate stretches of ``color`` a horizontal line at ``y`` crosses."""
    with Image.open(io.BytesIO(data)) as image:
        rgb = image.convert("RGB")
        runs, inside = 0, False
        for x in range(rgb.width):
            close = near(rgb.getpixel((x, round(y))), color)  # type: ignore[arg-type]
            if close and not inside:
                runs += 1
            inside = close
        return runs


def test_strip_draws_one_filled_circle_per_stamp_in_one_row() -> None:
    data = render_strip(
        goal=8, filled=5, bg_hex=BACKGROUND, fg_hex=FOREGROUND, stamp_hex=STAMP, scale=2
    )
    centres, diameter = stamp_geometry(8, scale=2)
    # a line through the stamps' rims, outside their inner ring: one stretch per stamp
    rim_y = centres[0][1] - diameter * 0.4

    assert stamped_runs(data, rim_y, STAMP) == 5
    assert [near(pixel(data, x, y), STAMP) for x, y in centres] == [True] * 5 + [False] * 3
    # empty circles are hollow: their centre shows the background
    assert all(near(pixel(data, x, y), BACKGROUND) for x, y in centres[5:])


def test_strip_wraps_into_two_rows_above_ten() -> None:
    data = render_strip(
        goal=14, filled=9, bg_hex=BACKGROUND, fg_hex=FOREGROUND, stamp_hex=STAMP, scale=2
    )
    centres, diameter = stamp_geometry(14, scale=2)
    top_y, bottom_y = centres[0][1], centres[-1][1]

    # 7 per row: the first row fully stamped, 2 stamps in the second
    assert len({y for _, y in centres}) == 2
    assert stamped_runs(data, top_y - diameter * 0.4, STAMP) == 7
    assert stamped_runs(data, bottom_y - diameter * 0.4, STAMP) == 2
    assert stamped_runs(data, (top_y + bottom_y) / 2, STAMP) == 0  # the gap between rows


def test_strip_is_cached_per_design_count_and_scale() -> None:
    args = {"goal": 10, "filled": 4, "bg_hex": BACKGROUND, "fg_hex": FOREGROUND, "stamp_hex": STAMP}

    assert render_strip(**args, scale=2) is render_strip(**args, scale=2)
    assert render_strip(**args, scale=2) != render_strip(**{**args, "filled": 5}, scale=2)


@pytest.mark.parametrize(("goal", "scale"), [(0, 1), (41, 1), (10, 4)])
def test_strip_rejects_impossible_requests(goal: int, scale: int) -> None:
    with pytest.raises(ValueError, match="must be"):
        render_strip(
            goal=goal, filled=0, bg_hex=BACKGROUND, fg_hex=FOREGROUND, stamp_hex=STAMP, scale=scale
        )


def test_default_icons_have_apples_icon_sizes() -> None:
    icons = default_icon_files()

    assert {name: png_size(data) for name, data in icons.items()} == {
        "icon.png": (29, 29),
        "icon@2x.png": (58, 58),
        "icon@3x.png": (87, 87),
    }
