"""The Redemption record: at most one live redemption per voucher, backed by the database."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager


class Channel(models.TextChoices):
    SELF = "self", _("Customer's phone")
    STAFF = "staff", _("Staff counter")
    API = "api", _("POS / API")
    POS_IMPORT = "pos_import", _("POS used-codes upload")


class Redemption(models.Model):
    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="+")
    voucher = models.ForeignKey(
        "vouchers.Voucher", on_delete=models.CASCADE, related_name="redemptions"
    )
    method = models.CharField(max_length=16)  # the template's method at the time
    channel = models.CharField(max_length=16, choices=Channel.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_label = models.CharField(max_length=120, blank=True)
    api_key = models.ForeignKey(
        "tenants.ApiKey", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    location = models.ForeignKey(
        "tenants.Location", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField()
    reversed_at = models.DateTimeField(null=True, blank=True)
    reversed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reverse_reason = models.CharField(max_length=200, blank=True)

    objects = ScopedManager(tenant="tenant")

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # Invariant 4: one live redemption per voucher, whatever the concurrency. A reversed
            # redemption no longer counts, so the voucher can be used again after an undo.
            models.UniqueConstraint(
                fields=["voucher"],
                condition=Q(reversed_at__isnull=True),
                name="one_live_redemption_per_voucher",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.voucher} redeemed {self.created_at:%Y-%m-%d %H:%M}"


class RedemptionReversal(models.Model):
    """An undo of a redemption; one per redemption, backed by the OneToOne constraint."""

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="+")
    redemption = models.OneToOneField(Redemption, on_delete=models.CASCADE, related_name="reversal")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reason = models.CharField(max_length=200)
    created_at = models.DateTimeField()

    objects = ScopedManager(tenant="tenant")

    def __str__(self) -> str:
        return f"undo of {self.redemption_id}: {self.reason}"
