"""Build ``.pkpass`` bundles: ``pass.json``, images, ``manifest.json`` and ``signature``.

Follows Apple's "Building a Pass": the manifest maps every file's path to its SHA-1 hex
digest, the signature is a detached PKCS #7 of the manifest, and the whole is a zip. Pure
functions of plain data; no Django import.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import re
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeGuard
from urllib.parse import urlsplit

from wallet.passkit.certs import SigningMaterial
from wallet.passkit.signing import sign_manifest
from wallet.passkit.strip import default_icon_files, parse_hex_color

RESERVED_NAMES = frozenset({"pass.json", "manifest.json", "signature"})
PASS_STYLES = ("boardingPass", "coupon", "eventTicket", "generic", "storeCard")
FIELD_GROUPS = (
    "headerFields",
    "primaryFields",
    "secondaryFields",
    "auxiliaryFields",
    "backFields",
    "additionalInfoFields",
)
BARCODE_FORMATS = frozenset(
    {
        "PKBarcodeFormatQR",
        "PKBarcodeFormatPDF417",
        "PKBarcodeFormatAztec",
        "PKBarcodeFormatCode128",
    }
)
# The deprecated single ``barcode`` dictionary never supported Code 128.
LEGACY_BARCODE_FORMATS = BARCODE_FORMATS - {"PKBarcodeFormatCode128"}
TEXT_ALIGNMENTS = frozenset(
    {
        "PKTextAlignmentLeft",
        "PKTextAlignmentCenter",
        "PKTextAlignmentRight",
        "PKTextAlignmentNatural",
    }
)
MAX_LOCATIONS = 10
MIN_AUTH_TOKEN_LENGTH = 16
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})

_RGB_RE = re.compile(r"^rgb\(\s*(\d{1,3})\s*,\s*(\d{1,3})\s*,\s*(\d{1,3})\s*\)$")
# Fixed timestamp for zip entries: the same inputs give the same entries (the signature still
# differs because it carries its signing time).
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)

_REQUIRED_KEYS: dict[str, type] = {
    "formatVersion": int,
    "passTypeIdentifier": str,
    "serialNumber": str,
    "teamIdentifier": str,
    "organizationName": str,
    "description": str,
}
_OPTIONAL_KEYS: dict[str, type | tuple[type, ...]] = {
    "logoText": str,
    "authenticationToken": str,
    "webServiceURL": str,
    "relevantDate": str,
    "expirationDate": str,
    "groupingIdentifier": str,
    "appLaunchURL": str,
    "voided": bool,
    "sharingProhibited": bool,
    "suppressStripShine": bool,
    "associatedStoreIdentifiers": list,
    "userInfo": dict,
    "locations": list,
    "beacons": list,
    "barcodes": list,
    "barcode": dict,
    "maxDistance": (int, float),
}


class PassValidationError(ValueError):
    """A pass.json that Wallet would reject; ``errors`` lists every problem found."""

    def __init__(self, errors: Sequence[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = list(errors)


@dataclass(frozen=True)
class PassField:
    """One field on the front or back of a pass."""

    key: str
    label: str | None
    value: str | int | float
    change_message: str | None = None
    text_alignment: str | None = None

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"key": self.key, "value": self.value}
        if self.label is not None:
            data["label"] = self.label
        if self.change_message is not None:
            data["changeMessage"] = self.change_message
        if self.text_alignment is not None:
            data["textAlignment"] = self.text_alignment
        return data


@dataclass(frozen=True)
class PassLocation:
    latitude: float
    longitude: float
    relevant_text: str | None = None

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"latitude": self.latitude, "longitude": self.longitude}
        if self.relevant_text:
            data["relevantText"] = self.relevant_text
        return data


@dataclass(frozen=True)
class PassVoucher:
    """A ready voucher shown on the pass. ``key`` must be stable for the voucher's lifetime:
    Wallet compares old and new fields by key to decide what changed and what to announce."""

    key: str
    reward: str
    redeem_code: str | None = None


def rgb_string(color: str | tuple[int, int, int]) -> str:
    """``"#1a2b3c"``, ``(26, 43, 60)`` or an ``rgb(...)`` string to Apple's ``rgb(r, g, b)``.

    Raises:
        ValueError: not a colour.
    """
    if isinstance(color, tuple):
        r, g, b = color
    elif color.strip().startswith("rgb("):
        match = _RGB_RE.match(color.strip())
        if not match:
            raise ValueError(f"not an rgb() colour: {color!r}")
        r, g, b = (int(part) for part in match.groups())
    else:
        r, g, b = parse_hex_color(color)
    if not all(0 <= c <= 255 for c in (r, g, b)):
        raise ValueError(f"colour component out of range: {color!r}")
    return f"rgb({r}, {g}, {b})"


def build_store_card_pass_json(
    *,
    pass_type_identifier: str,
    serial_number: str,
    team_identifier: str,
    organization_name: str,
    description: str,
    authentication_token: str,
    web_service_url: str,
    background_color: str | tuple[int, int, int],
    foreground_color: str | tuple[int, int, int],
    label_color: str | tuple[int, int, int],
    logo_text: str | None,
    barcode_message: str,
    barcode_alt_text: str | None = None,
    stamps: int,
    goal: int,
    stamps_label: str = "Stamps",
    stamps_change_message: str = "You have %@ stamps",
    primary_fields: Sequence[PassField] = (),
    secondary_fields: Sequence[PassField] = (),
    auxiliary_fields: Sequence[PassField] = (),
    back_fields: Sequence[PassField] = (),
    locations: Sequence[PassLocation] = (),
    vouchers: Sequence[PassVoucher] = (),
    voucher_label: str = "Reward ready",
    voucher_change_message: str = "Your %@ is ready",
    redeem_code_label: str = "Redeem code",
    expiration_date: str | None = None,
    voided: bool = False,
    validate: bool = True,
    allow_insecure_web_service: bool = False,
) -> dict[str, Any]:
    """A ``storeCard`` pass.json from plain values.

    The header shows ``"<stamps> / <goal>"`` with a change message, so Wallet announces a new
    stamp on the lock screen. Each ready voucher becomes a back field whose change message
    announces it ("Your %@ is ready", %@ being the reward), followed by a field with its
    redeem code where it has one. Only the first ten locations are kept (Wallet's limit).
    Labels and messages are parameters so the caller can pass translated strings.

    Raises:
        PassValidationError: ``validate`` is true and the result breaks Apple's rules.
    """
    header = [
        PassField(
            key="stamps",
            label=stamps_label,
            value=f"{stamps} / {goal}",
            change_message=stamps_change_message,
        )
    ]
    voucher_fields: list[PassField] = []
    for voucher in vouchers:
        voucher_fields.append(
            PassField(
                key=f"voucher-{voucher.key}",
                label=voucher_label,
                value=voucher.reward,
                change_message=voucher_change_message,
            )
        )
        if voucher.redeem_code:
            voucher_fields.append(
                PassField(
                    key=f"voucher-{voucher.key}-code",
                    label=redeem_code_label,
                    value=voucher.redeem_code,
                )
            )

    barcode: dict[str, Any] = {
        "format": "PKBarcodeFormatQR",
        "message": barcode_message,
        "messageEncoding": "iso-8859-1",
    }
    if barcode_alt_text:
        barcode["altText"] = barcode_alt_text

    data: dict[str, Any] = {
        "formatVersion": 1,
        "passTypeIdentifier": pass_type_identifier,
        "serialNumber": serial_number,
        "teamIdentifier": team_identifier,
        "organizationName": organization_name,
        "description": description,
        "authenticationToken": authentication_token,
        "webServiceURL": web_service_url,
        "backgroundColor": rgb_string(background_color),
        "foregroundColor": rgb_string(foreground_color),
        "labelColor": rgb_string(label_color),
        "barcodes": [barcode],
        "storeCard": {
            "headerFields": [f.as_dict() for f in header],
            "primaryFields": [f.as_dict() for f in primary_fields],
            "secondaryFields": [f.as_dict() for f in secondary_fields],
            "auxiliaryFields": [f.as_dict() for f in auxiliary_fields],
            "backFields": [f.as_dict() for f in (*voucher_fields, *back_fields)],
        },
    }
    if logo_text:
        data["logoText"] = logo_text
    if locations:
        data["locations"] = [loc.as_dict() for loc in locations[:MAX_LOCATIONS]]
    if expiration_date:
        data["expirationDate"] = expiration_date
    if voided:
        data["voided"] = True

    if validate:
        errors = validate_pass_json(data, allow_insecure_web_service=allow_insecure_web_service)
        if errors:
            raise PassValidationError(errors)
    return data


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _type_name(expected: type | tuple[type, ...]) -> str:
    if isinstance(expected, tuple):
        return " or ".join(t.__name__ for t in expected)
    return expected.__name__


def _has_type(value: Any, expected: type | tuple[type, ...]) -> bool:
    # bool is an int subclass; a boolean where a number is expected is still wrong.
    if isinstance(value, bool) and expected is not bool:
        return False
    return isinstance(value, expected)


def validate_pass_json(
    d: Mapping[str, Any], *, allow_insecure_web_service: bool = False
) -> list[str]:
    """Check ``d`` against the rules Apple documents for pass.json; ``[]`` means valid.

    Checked: required top-level keys and their types, ``formatVersion`` 1, exactly one pass
    style, ``rgb(r, g, b)`` colours, barcode formats and required barcode keys, field shape and
    keys unique across all field groups, at most ten locations with numeric coordinates in
    range, ``authenticationToken`` of 16+ characters together with ``webServiceURL``, and an
    https ``webServiceURL`` (http only for localhost, or when ``allow_insecure_web_service`` is
    set for development).
    """
    errors: list[str] = []
    if not isinstance(d, Mapping):
        return ["pass.json must be a JSON object"]

    for key, expected in _REQUIRED_KEYS.items():
        if key not in d:
            errors.append(f"missing required key {key!r}")
        elif not _has_type(d[key], expected):
            errors.append(f"{key!r} must be a {expected.__name__}")
    if "formatVersion" in d and d["formatVersion"] != 1:
        errors.append("'formatVersion' must be 1")
    for key in ("passTypeIdentifier", "serialNumber", "teamIdentifier"):
        if isinstance(d.get(key), str) and not d[key].strip():
            errors.append(f"{key!r} must not be empty")
    pass_type = d.get("passTypeIdentifier")
    if isinstance(pass_type, str) and pass_type and not pass_type.startswith("pass."):
        errors.append("'passTypeIdentifier' must start with 'pass.'")

    for key, expected_type in _OPTIONAL_KEYS.items():
        if key in d and not _has_type(d[key], expected_type):
            errors.append(f"{key!r} must be a {_type_name(expected_type)}")

    for key in ("backgroundColor", "foregroundColor", "labelColor"):
        if key in d:
            errors.extend(_colour_errors(key, d[key]))

    errors.extend(_style_errors(d))
    errors.extend(_barcode_errors(d))
    errors.extend(_location_errors(d))
    errors.extend(_web_service_errors(d, allow_insecure_web_service))
    return errors


def _colour_errors(key: str, value: Any) -> list[str]:
    match = _RGB_RE.match(value) if isinstance(value, str) else None
    if not match or not all(0 <= int(part) <= 255 for part in match.groups()):
        return [f"{key!r} must be 'rgb(r, g, b)' with components 0-255, got {value!r}"]
    return []


def _style_errors(d: Mapping[str, Any]) -> list[str]:
    errors: list[str] = []
    styles = [style for style in PASS_STYLES if style in d]
    if len(styles) != 1:
        errors.append(f"exactly one pass style key is required ({', '.join(PASS_STYLES)})")
    seen_keys: dict[str, str] = {}
    for style in styles:
        body = d[style]
        if not isinstance(body, Mapping):
            errors.append(f"{style!r} must be an object")
            continue
        for group in FIELD_GROUPS:
            if group not in body:
                continue
            fields = body[group]
            if not isinstance(fields, list):
                errors.append(f"{style}.{group} must be an array")
                continue
            for position, field in enumerate(fields):
                where = f"{style}.{group}[{position}]"
                if not isinstance(field, Mapping):
                    errors.append(f"{where} must be an object")
                    continue
                key = field.get("key")
                if not isinstance(key, str) or not key:
                    errors.append(f"{where} needs a non-empty string 'key'")
                elif key in seen_keys:
                    errors.append(
                        f"field key {key!r} in {group} duplicates one in {seen_keys[key]}; "
                        "keys must be unique across all field groups"
                    )
                else:
                    seen_keys[key] = group
                if "value" not in field:
                    errors.append(f"{where} needs a 'value'")
                elif not (isinstance(field["value"], str) or _is_number(field["value"])):
                    errors.append(f"{where}.value must be a string or a number")
                for text_key in ("label", "changeMessage", "attributedValue"):
                    if text_key in field and not isinstance(field[text_key], str):
                        errors.append(f"{where}.{text_key} must be a string")
                alignment = field.get("textAlignment")
                if alignment is not None and alignment not in TEXT_ALIGNMENTS:
                    errors.append(f"{where}.textAlignment {alignment!r} is not a PKTextAlignment")
    return errors


def _barcode_errors(d: Mapping[str, Any]) -> list[str]:
    errors: list[str] = []
    candidates: list[tuple[str, Any, frozenset[str]]] = []
    if isinstance(d.get("barcodes"), list):
        candidates += [
            (f"barcodes[{i}]", item, BARCODE_FORMATS) for i, item in enumerate(d["barcodes"])
        ]
    if isinstance(d.get("barcode"), Mapping):
        candidates.append(("barcode", d["barcode"], LEGACY_BARCODE_FORMATS))
    for where, item, formats in candidates:
        if not isinstance(item, Mapping):
            errors.append(f"{where} must be an object")
            continue
        if item.get("format") not in formats:
            errors.append(f"{where}.format must be one of {sorted(formats)}")
        if not isinstance(item.get("message"), str):
            errors.append(f"{where}.message must be a string")
        if not isinstance(item.get("messageEncoding"), str) or not item.get("messageEncoding"):
            errors.append(f"{where}.messageEncoding must be a non-empty string (e.g. iso-8859-1)")
        if "altText" in item and not isinstance(item["altText"], str):
            errors.append(f"{where}.altText must be a string")
    return errors


def _location_errors(d: Mapping[str, Any]) -> list[str]:
    locations = d.get("locations")
    if not isinstance(locations, list):
        return []
    errors: list[str] = []
    if len(locations) > MAX_LOCATIONS:
        errors.append(f"at most {MAX_LOCATIONS} locations are allowed, got {len(locations)}")
    for i, location in enumerate(locations):
        if not isinstance(location, Mapping):
            errors.append(f"locations[{i}] must be an object")
            continue
        latitude, longitude = location.get("latitude"), location.get("longitude")
        if not (_is_number(latitude) and -90 <= latitude <= 90):
            errors.append(f"locations[{i}].latitude must be a number in -90..90")
        if not (_is_number(longitude) and -180 <= longitude <= 180):
            errors.append(f"locations[{i}].longitude must be a number in -180..180")
        if "relevantText" in location and not isinstance(location["relevantText"], str):
            errors.append(f"locations[{i}].relevantText must be a string")
    return errors


def _web_service_errors(d: Mapping[str, Any], allow_insecure: bool) -> list[str]:
    errors: list[str] = []
    token, url = d.get("authenticationToken"), d.get("webServiceURL")
    if (token is None) != (url is None):
        errors.append("'authenticationToken' and 'webServiceURL' must be given together")
    if isinstance(token, str) and len(token) < MIN_AUTH_TOKEN_LENGTH:
        errors.append(f"'authenticationToken' must be at least {MIN_AUTH_TOKEN_LENGTH} characters")
    if isinstance(url, str):
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        if not host:
            errors.append(f"'webServiceURL' is not an absolute URL: {url!r}")
        elif parts.scheme == "http":
            local = host in LOCAL_HOSTS or host.endswith(".localhost")
            if not (local or allow_insecure):
                errors.append("'webServiceURL' must use https (http only for localhost/dev)")
        elif parts.scheme != "https":
            errors.append(f"'webServiceURL' must be an https URL, got {url!r}")
    return errors


def _check_file_name(name: str) -> None:
    if not name or name.startswith("/") or "\\" in name or ".." in name.split("/"):
        raise ValueError(f"invalid file name in pass: {name!r}")
    if name in RESERVED_NAMES:
        raise ValueError(f"{name!r} is generated by build_pkpass and cannot be supplied")


def pass_json_bytes(pass_json: Mapping[str, Any]) -> bytes:
    """Compact, key-sorted UTF-8 JSON: stable bytes, so the manifest hash is stable too."""
    return json.dumps(pass_json, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode()


def build_manifest(contents: Mapping[str, bytes]) -> bytes:
    """``manifest.json``: the SHA-1 hex digest of every file, keyed by its path."""
    # SHA-1 is what the pass format specifies; it is not a security choice of ours (the
    # signature over the manifest uses SHA-256).
    manifest = {
        name: hashlib.sha1(data, usedforsecurity=False).hexdigest()
        for name, data in contents.items()
    }
    return json.dumps(manifest, separators=(",", ":"), sort_keys=True).encode()


def build_pkpass(
    pass_json: Mapping[str, Any], files: Mapping[str, bytes], material: SigningMaterial
) -> bytes:
    """Zip bytes of a signed pass: ``files`` (images, ``*.lproj/pass.strings``) plus
    ``pass.json``, ``manifest.json`` and ``signature``.

    When ``files`` has no ``icon.png`` the default icon set is added, since Wallet rejects a
    pass without one. Entries are written in a fixed order (sorted content files, then
    manifest, then signature) with a fixed timestamp.

    Raises:
        ValueError: a file name is reserved, absolute, or climbs out of the bundle.
    """
    for name in files:
        _check_file_name(name)
    contents: dict[str, bytes] = dict(files)
    if "icon.png" not in contents:
        for name, data in default_icon_files().items():
            contents.setdefault(name, data)
    contents["pass.json"] = pass_json_bytes(pass_json)

    manifest = build_manifest(contents)
    signature = sign_manifest(manifest, material)

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        entries = [*sorted(contents.items()), ("manifest.json", manifest), ("signature", signature)]
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
            info.external_attr = 0o644 << 16
            # PNGs are already compressed; deflating them again only costs time.
            info.compress_type = (
                zipfile.ZIP_STORED if name.endswith(".png") else zipfile.ZIP_DEFLATED
            )
            archive.writestr(info, data)
    return buffer.getvalue()
