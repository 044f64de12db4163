"""Wallet state per card: the Apple pass's registrations and the Google object."""

from __future__ import annotations

import secrets

from django.db import models
from django_scopes import ScopedManager


def new_auth_token() -> str:
    """The pass's authenticationToken: 192 random bits, never changed for the card."""
    return secrets.token_hex(24)


class WalletPass(models.Model):
    """Created the first time a card's pass is downloaded or saved to a wallet."""

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="+")
    card = models.OneToOneField(
        "loyalty.Card", on_delete=models.CASCADE, related_name="wallet_pass"
    )
    authentication_token = models.CharField(max_length=64, default=new_auth_token, editable=False)
    # When the card's pass last changed: Last-Modified and the passesUpdatedSince tag.
    changed_at = models.DateTimeField(db_index=True)
    apple_pushed_version = models.PositiveIntegerField(default=0)
    apple_pushed_at = models.DateTimeField(null=True, blank=True)
    apple_fetched_at = models.DateTimeField(null=True, blank=True)
    google_object_id = models.CharField(max_length=200, blank=True)
    google_saved_at = models.DateTimeField(null=True, blank=True)
    google_pushed_version = models.PositiveIntegerField(default=0)
    google_pushed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager(tenant="tenant")

    def __str__(self) -> str:
        return f"wallet pass of card {self.card_id}"


class AppleRegistration(models.Model):
    """A device that added the pass (PassKit web service), with its APNs push token."""

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="+")
    wallet_pass = models.ForeignKey(
        WalletPass, on_delete=models.CASCADE, related_name="registrations"
    )
    device_library_identifier = models.CharField(max_length=128, db_index=True)
    push_token = models.CharField(max_length=512)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager(tenant="tenant")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["device_library_identifier", "wallet_pass"], name="apple_registration_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.device_library_identifier} → {self.wallet_pass_id}"


class PassKitLog(models.Model):
    """Messages devices send to POST /passkit/v1/log (size-limited, pruned)."""

    message = models.CharField(max_length=1000)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return self.message[:80]
