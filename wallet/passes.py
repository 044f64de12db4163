"""The Apple pass of a card: a pure function of the card's state, signed and zipped."""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from PIL import Image

from wallet.passkit.certs import apple_certificate_configured, get_signing_material
from wallet.passkit.package import (
    PassField,
    PassLocation,
    PassVoucher,
    build_pkpass,
    build_store_card_pass_json,
)
from wallet.passkit.strip import strip_files

PASS_CACHE_SECONDS = 24 * 3600


def dev_chain_dir() -> Path:
    return Path(settings.DATA_DIR) / "dev-wallet-chain"


_material_cache: dict[tuple[str, ...], Any] = {}


def signing_material() -> Any:
    """The configured Apple certificate, else the development chain (generated once).

    Looked up once per process and configuration: every pass request asks for it (pass type,
    team, signature), and the development chain's lookup touches the disk.
    """
    key = (
        settings.APPLE_PASS_CERT,
        settings.APPLE_PASS_KEY,
        settings.APPLE_PASS_KEY_PASSWORD,
        settings.APPLE_WWDR_CERT,
        str(dev_chain_dir()),
    )
    material = _material_cache.get(key)
    if material is None:
        material = _material_cache[key] = get_signing_material(settings, dev_dir=dev_chain_dir())
    return material


def is_development_certificate() -> bool:
    return not apple_certificate_configured(settings)


def pass_type_identifier() -> str:
    material = signing_material()
    return getattr(material, "pass_type_identifier", None) or settings.APPLE_PASS_TYPE_ID


def team_identifier() -> str:
    material = signing_material()
    return getattr(material, "team_identifier", None) or settings.APPLE_TEAM_ID


def web_service_url() -> str:
    return settings.PUBLIC_BASE_URL + "/passkit"


@lru_cache(maxsize=256)
def _logo_files(path: str, design_version: int) -> dict[str, bytes]:
    """logo.png at 1x/2x/3x (at most 160x50 pt), from the program's uploaded logo."""
    files: dict[str, bytes] = {}
    with Image.open(path) as source:
        source.load()
        image = source.convert("RGBA")
    for scale, name in ((1, "logo.png"), (2, "logo@2x.png"), (3, "logo@3x.png")):
        copy = image.copy()
        copy.thumbnail((160 * scale, 50 * scale))
        buffer = io.BytesIO()
        copy.save(buffer, format="PNG", optimize=False)
        files[name] = buffer.getvalue()
    return files


def pass_files(card: Any) -> dict[str, bytes]:
    program = card.program
    files = strip_files(
        goal=program.stamp_goal,
        filled=card.stamps,
        bg_hex=program.card_color,
        fg_hex=program.text_color,
        stamp_hex=program.stamp_color,
    )
    if program.logo:
        try:
            files.update(_logo_files(program.logo.path, program.design_version))
        except (OSError, ValueError):  # a missing or unreadable logo must not break the pass
            pass
    return files


def pass_json(card: Any, *, wallet_pass: Any, vouchers: list[Any], locations: list[Any]) -> dict:
    """pass.json for the card, in the business's default language."""
    program, tenant = card.program, card.tenant
    with translation.override(tenant.default_language):
        ready = [
            PassVoucher(
                key=str(v.pk),
                reward=v.reward_title,
                redeem_code=v.code_display if v.template.show_text and v.code_display else None,
            )
            for v in vouchers
        ]
        remaining = program.stamp_goal - card.stamps
        back = [
            PassField(key="customer", label=_("Member"), value=card.customer.name),
            PassField(key="program", label=_("Program"), value=program.name),
            PassField(
                key="card-page",
                label=_("Your card online"),
                value=settings.PUBLIC_BASE_URL + reverse("card", args=[card.token]),
            ),
        ]
        if program.description:
            back.append(PassField(key="about", label=_("About"), value=program.description))
        return build_store_card_pass_json(
            pass_type_identifier=pass_type_identifier(),
            serial_number=card.serial_number,
            team_identifier=team_identifier(),
            organization_name=tenant.name,
            description=_("%(business)s stamp card") % {"business": tenant.name},
            authentication_token=wallet_pass.authentication_token,
            web_service_url=web_service_url(),
            background_color=program.card_color,
            foreground_color=program.text_color,
            label_color=program.stamp_color,
            logo_text=tenant.name if not program.logo else None,
            barcode_message=card.token,
            barcode_alt_text=card.serial_number,
            stamps=card.stamps,
            goal=program.stamp_goal,
            stamps_label=_("Stamps"),
            stamps_change_message=_("You have %@ stamps"),
            secondary_fields=[
                PassField(key="reward", label=_("Reward"), value=program.reward_text),
                PassField(
                    key="remaining",
                    label=_("To go"),
                    value=str(remaining),
                ),
            ],
            auxiliary_fields=[PassField(key="name", label=_("Name"), value=card.customer.name)],
            back_fields=back,
            locations=[
                PassLocation(
                    latitude=float(loc.latitude),
                    longitude=float(loc.longitude),
                    relevant_text=_("%(business)s is nearby") % {"business": tenant.name},
                )
                for loc in locations
                if loc.latitude is not None and loc.longitude is not None
            ][:10],
            vouchers=ready,
            voucher_label=_("Reward ready"),
            voucher_change_message=_("Your %@ is ready"),
            redeem_code_label=_("Redeem code"),
            voided=card.customer.erased_at is not None,
            allow_insecure_web_service=settings.DEBUG
            or settings.TESTING
            or not settings.PUBLIC_BASE_URL.startswith("https://"),
        )


def build_card_pass(
    card: Any, *, wallet_pass: Any, vouchers: list[Any], locations: list[Any]
) -> bytes:
    """The signed .pkpass bytes; cached per card version and design (a pure function)."""
    key = (
        f"pkpass:{card.pk}:{card.version}:{card.program.design_version}:"
        f"{wallet_pass.authentication_token[:8]}"
    )
    cached = cache.get(key)
    if cached is not None:
        return cached
    data = build_pkpass(
        pass_json(card, wallet_pass=wallet_pass, vouchers=vouchers, locations=locations),
        pass_files(card),
        signing_material(),
    )
    cache.set(key, data, PASS_CACHE_SECONDS)
    return data
