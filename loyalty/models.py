"""Programs, customers, cards, and the append-only stamp ledger."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from tenants.models import HEX_COLOR


def new_token() -> str:
    """An unguessable public token: 160 random bits, URL-safe."""
    return secrets.token_urlsafe(20)


def new_serial() -> str:
    return secrets.token_hex(8).upper()


class Program(models.Model):
    class StampIcon(models.TextChoices):
        COFFEE = "coffee", _("Coffee cup")
        STAR = "star", _("Star")
        HEART = "heart", _("Heart")
        SCISSORS = "scissors", _("Scissors")
        CAR = "car", _("Car")
        LEAF = "leaf", _("Leaf")
        CHECK = "check", _("Tick")

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="programs")
    name = models.CharField(_("name"), max_length=80)
    description = models.TextField(_("what the customer gets"), blank=True, max_length=600)
    stamp_goal = models.PositiveSmallIntegerField(
        _("stamps for the reward"),
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(30)],
    )
    reward_text = models.CharField(_("reward at the goal"), max_length=120)
    # [{"stamps": 5, "reward": "Free cookie"}], each below the goal, ascending.
    milestones = models.JSONField(_("milestones"), default=list, blank=True)
    card_color = models.CharField(
        _("card colour"), max_length=7, default="#1f6f5c", validators=[HEX_COLOR]
    )
    text_color = models.CharField(
        _("text colour"), max_length=7, default="#ffffff", validators=[HEX_COLOR]
    )
    stamp_color = models.CharField(
        _("stamp colour"), max_length=7, default="#f2b134", validators=[HEX_COLOR]
    )
    stamp_icon = models.CharField(
        _("stamp icon"), max_length=16, choices=StampIcon.choices, default=StampIcon.STAR
    )
    logo = models.ImageField(_("logo"), upload_to="logos/", blank=True)
    max_stamps_per_visit = models.PositiveSmallIntegerField(
        _("most stamps per visit"), null=True, blank=True, validators=[MinValueValidator(1)]
    )
    cooldown_minutes = models.PositiveIntegerField(
        _("minutes between stamps on one card"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
    )
    daily_cap = models.PositiveSmallIntegerField(
        _("most stamps per card per day"), null=True, blank=True, validators=[MinValueValidator(1)]
    )
    is_active = models.BooleanField(
        _("active"), default=True, help_text=_("Paused programs take no new joins or stamps.")
    )
    join_token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    design_version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager(tenant="tenant")

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    def milestone_list(self) -> list[dict]:
        return sorted(
            (m for m in self.milestones if 0 < int(m.get("stamps", 0)) < self.stamp_goal),
            key=lambda m: int(m["stamps"]),
        )


class Customer(models.Model):
    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="customers")
    name = models.CharField(_("name"), max_length=120)
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    marketing_consent = models.BooleanField(_("marketing consent"), default=False)
    consent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    erased_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(tenant="tenant")

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["tenant", "email"]),
            models.Index(fields=["tenant", "phone"]),
        ]

    def __str__(self) -> str:
        return self.name


class Card(models.Model):
    """A customer's card in one program. `stamps` etc. are a projection of the ledger."""

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="cards")
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="cards")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="cards")
    token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    serial_number = models.CharField(max_length=32, unique=True, default=new_serial, editable=False)
    stamps = models.PositiveIntegerField(default=0, help_text="stamps in the current cycle")
    cycle = models.PositiveIntegerField(default=1)
    total_stamps = models.IntegerField(default=0)
    visits = models.PositiveIntegerField(default=0)
    last_visit_date = models.DateField(null=True, blank=True)
    last_stamp_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1, help_text="bumped on every change; wallets")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager(tenant="tenant")

    class Meta:
        ordering = ["-updated_at"]
        constraints = [
            models.UniqueConstraint(fields=["program", "customer"], name="card_one_per_program"),
        ]

    def __str__(self) -> str:
        return f"{self.program} · {self.customer}"


class StampSource(models.TextChoices):
    STAFF = "staff", _("Staff")
    KIOSK = "kiosk", _("Kiosk")
    RECEIPT = "receipt", _("Receipt code")
    API = "api", _("API")
    CORRECTION = "correction", _("Correction")


class StampEvent(models.Model):
    """Append-only ledger: never updated, never deleted; corrections are new rows."""

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="+")
    card = models.ForeignKey(Card, on_delete=models.CASCADE, related_name="stamp_events")
    count = models.IntegerField()
    source = models.CharField(max_length=16, choices=StampSource.choices)
    reason = models.CharField(max_length=200, blank=True)
    staff_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    location = models.ForeignKey(
        "tenants.Location", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    api_key = models.ForeignKey(
        "tenants.ApiKey", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    cycle_before = models.PositiveIntegerField()
    stamps_before = models.PositiveIntegerField()
    cycle_after = models.PositiveIntegerField()
    stamps_after = models.PositiveIntegerField()
    created_at = models.DateTimeField(db_index=True)

    objects = ScopedManager(tenant="tenant")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["card", "created_at"])]

    def __str__(self) -> str:
        return f"{self.count:+d} {self.source} on card {self.card_id}"


class CardEvent(models.Model):
    """The card's journal: every event with who and where, in words a person reads."""

    class Kind(models.TextChoices):
        JOINED = "joined", _("Joined")
        STAMPED = "stamped", _("Stamped")
        CORRECTED = "corrected", _("Corrected")
        CYCLE_COMPLETED = "cycle_completed", _("Card completed")
        MILESTONE = "milestone", _("Milestone reached")
        VOUCHER_ISSUED = "voucher_issued", _("Voucher issued")
        VOUCHER_ACTIVATED = "voucher_activated", _("Voucher active")
        VOUCHER_REDEEMED = "voucher_redeemed", _("Voucher redeemed")
        REDEMPTION_REVERSED = "redemption_reversed", _("Redemption reversed")
        VOUCHER_EXPIRED = "voucher_expired", _("Voucher expired")
        VOUCHER_VOIDED = "voucher_voided", _("Voucher voided")
        ERASED = "erased", _("Personal data erased")

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="+")
    card = models.ForeignKey(Card, on_delete=models.CASCADE, related_name="journal")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    message = models.CharField(max_length=300)
    data = models.JSONField(default=dict, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_label = models.CharField(max_length=120, blank=True)
    location = models.ForeignKey(
        "tenants.Location", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(db_index=True)

    objects = ScopedManager(tenant="tenant")

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.message

    @property
    def text(self) -> str:
        """The journal line in the reader's language (the stored message is English)."""
        from loyalty import journal

        return journal.render(self.kind, self.data.get(journal.PARAMS_KEY, {})) or self.message


class ReceiptBatch(models.Model):
    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="+")
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="receipt_batches")
    stamps_each = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(10)]
    )
    size = models.PositiveIntegerField()
    note = models.CharField(max_length=120, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager(tenant="tenant")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.size} × {self.stamps_each} ({self.program})"


class ReceiptCode(models.Model):
    """A one-time stamp code printed on a receipt: gives its stamps once, to the first card."""

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="+")
    batch = models.ForeignKey(ReceiptBatch, on_delete=models.CASCADE, related_name="codes")
    code = models.CharField(max_length=16)
    claimed_by = models.ForeignKey(
        Card, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    claimed_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(tenant="tenant")

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "code"], name="receipt_code_unique_per_tenant"
            )
        ]

    def __str__(self) -> str:
        return self.code


class KioskClaim(models.Model):
    """One stamp per card per kiosk QR: the unique constraint stops replaying a token."""

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="+")
    card = models.ForeignKey(Card, on_delete=models.CASCADE, related_name="+")
    nonce = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager(tenant="tenant")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["card", "nonce"], name="kiosk_claim_once_per_token")
        ]

    def __str__(self) -> str:
        return f"kiosk {self.nonce} → card {self.card_id}"
