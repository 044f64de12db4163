"""Voucher templates and the triggers that bind them to programs."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from vouchers.models import RedemptionMethod, VoucherTemplate, VoucherTrigger

TEMPLATE_FIELDS = {
    "reward_title",
    "description",
    "terms",
    "image",
    "method",
    "show_text",
    "show_qr",
    "show_barcode",
    "code_source",
    "pool",
    "validity",
    "validity_value",
    "valid_until",
    "activation_delay_days",
    "reminder_days",
    "is_active",
}


def _validate_template(template: VoucherTemplate) -> None:
    errors: dict[str, str] = {}
    if template.method == RedemptionMethod.REDEEM_CODE:
        if not (template.show_text or template.show_qr or template.show_barcode):
            errors["show_text"] = _("Show the code at least one way: text, QR or barcode.")
        if template.code_source == VoucherTemplate.CodeSource.POOL and not template.pool_id:
            errors["pool"] = _("Choose the code pool the codes come from.")
        if template.pool_id and template.pool.tenant_id != template.tenant_id:  # type: ignore[union-attr]
            errors["pool"] = _("Choose the code pool the codes come from.")
    if template.validity == VoucherTemplate.Validity.UNTIL_DATE and not template.valid_until:
        errors["valid_until"] = _("Choose the last day the voucher can be used.")
    if template.validity in (VoucherTemplate.Validity.DAYS, VoucherTemplate.Validity.MONTHS):
        if not template.validity_value:
            errors["validity_value"] = _("How many days or months is it valid?")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def template_create(*, tenant: Any, data: dict[str, Any]) -> VoucherTemplate:
    unknown = set(data) - TEMPLATE_FIELDS
    if unknown:
        raise ValidationError(f"Unknown fields: {sorted(unknown)}")
    template = VoucherTemplate(tenant=tenant, **data)
    template.full_clean(exclude=["tenant"])
    _validate_template(template)
    template.save()
    return template


@transaction.atomic
def template_update(*, template: VoucherTemplate, data: dict[str, Any]) -> VoucherTemplate:
    """Changes apply to vouchers issued from now on; issued ones keep their reward text."""
    unknown = set(data) - TEMPLATE_FIELDS
    if unknown:
        raise ValidationError(f"Unknown fields: {sorted(unknown)}")
    for name, value in data.items():
        setattr(template, name, value)
    template.full_clean(exclude=["tenant"])
    _validate_template(template)
    template.save()
    return template


@transaction.atomic
def trigger_create(
    *, template: VoucherTemplate, program: Any, kind: str, threshold: int | None = None
) -> VoucherTrigger:
    if kind == VoucherTrigger.Kind.BROADCAST:
        raise ValidationError({"kind": _("Broadcasts are sent from Campaigns.")})
    if program.tenant_id != template.tenant_id:
        raise ValidationError({"program": _("Choose one of your programs.")})
    if kind == VoucherTrigger.Kind.MILESTONE:
        if not threshold or not 0 < threshold < program.stamp_goal:
            raise ValidationError(
                {
                    "threshold": _("A milestone is between 1 and %(max)d stamps.")
                    % {"max": program.stamp_goal - 1}
                }
            )
    elif kind in (VoucherTrigger.Kind.VISIT, VoucherTrigger.Kind.WINBACK):
        if not threshold or threshold < 1:
            raise ValidationError({"threshold": _("Enter the number of visits or days.")})
    else:
        threshold = None
    duplicate = VoucherTrigger.objects.filter(
        program=program, template=template, kind=kind, threshold=threshold, is_active=True
    ).exists()
    if duplicate:
        raise ValidationError(_("This reward already has this trigger."))
    return VoucherTrigger.objects.create(
        tenant_id=template.tenant_id,
        template=template,
        program=program,
        kind=kind,
        threshold=threshold,
    )


@transaction.atomic
def trigger_set_active(*, trigger: VoucherTrigger, active: bool) -> VoucherTrigger:
    if active and not trigger.is_active:
        twin = VoucherTrigger.objects.filter(
            program_id=trigger.program_id,
            template_id=trigger.template_id,
            kind=trigger.kind,
            threshold=trigger.threshold,
            is_active=True,
        ).exclude(pk=trigger.pk)
        if twin.exists():
            raise ValidationError(_("This reward already has this trigger."))
    trigger.is_active = active
    trigger.save(update_fields=["is_active"])
    return trigger
