"""Wallet: the pass download and Google save link (card token), and Apple's PassKit web
service (serial + ApplePass token; tests/wallet/test_wallet_service.py plays a device with a
wrong token and a wrong serial: both 401)."""

from __future__ import annotations

from tests.isolation import Route

ROUTES: dict[str, Route] = {
    "card_pass": Route("public"),
    "card_google_save": Route("public"),
    "passkit_registration": Route("public"),
    "passkit_serials": Route("public"),
    "passkit_pass": Route("public"),
    "passkit_log": Route("public"),
}
