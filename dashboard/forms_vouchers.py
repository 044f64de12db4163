"""Forms for Smart Vouchers in the dashboard: rewards, triggers, vouchers, code pools, campaigns.

They parse and present; the rules (which combinations are valid, what a trigger needs) live in
vouchers.services, whose ValidationError the views show on these forms.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from dashboard.forms import DateInput, validate_image
from vouchers.errors import VoucherError
from vouchers.models import (
    CodeImport,
    RedemptionMethod,
    Voucher,
    VoucherTemplate,
    VoucherTrigger,
)
from vouchers.services.codes import decode_upload

# --- Rewards (voucher templates) -------------------------------------------------------------


def validate_reward_image(upload: UploadedFile) -> None:
    """Like the program logo: PNG, JPEG or WebP as Pillow reads it, 1 MB and 2000 px at most."""
    validate_image(upload, noun=str(_("image")), code="image")


class VoucherTemplateForm(forms.Form):
    """A reward: what the customer gets, how it is redeemed, how long it is valid."""

    reward_title = forms.CharField(
        label=_("Reward"),
        max_length=80,
        widget=forms.TextInput(attrs={"placeholder": _("A free coffee")}),
    )
    description = forms.CharField(
        label=_("What it unlocks"),
        max_length=600,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One or two sentences the customer and your team both understand."),
    )
    terms = forms.CharField(
        label=_("Terms"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Shown folded under the voucher, e.g. “Not combinable with other offers.”"),
    )
    image = forms.FileField(
        label=_("Image"),
        required=False,
        validators=[validate_reward_image],
        widget=forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg,image/webp"}),
        help_text=_("Optional. PNG, JPEG or WebP, at most 1 MB and 2000×2000 pixels."),
    )
    method = forms.ChoiceField(
        label=_("How it is redeemed"),
        choices=RedemptionMethod.choices,
        initial=RedemptionMethod.STAFF_SCAN,
        widget=forms.RadioSelect,
    )
    show_text = forms.BooleanField(
        label=_("Show the code as text"), required=False, initial=True, label_suffix=""
    )
    show_qr = forms.BooleanField(
        label=_("Show a QR code"), required=False, initial=True, label_suffix=""
    )
    show_barcode = forms.BooleanField(
        label=_("Show a barcode (Code128)"), required=False, label_suffix=""
    )
    code_source = forms.ChoiceField(
        label=_("Codes come from"),
        choices=VoucherTemplate.CodeSource.choices,
        initial=VoucherTemplate.CodeSource.GENERATED,
        widget=forms.RadioSelect,
    )
    pool = forms.TypedChoiceField(
        label=_("Code pool"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[],
        help_text=_("Codes you created in your POS and uploaded under Code pools."),
    )
    validity = forms.ChoiceField(
        label=_("Valid"),
        choices=VoucherTemplate.Validity.choices,
        initial=VoucherTemplate.Validity.DAYS,
    )
    validity_value = forms.IntegerField(
        label=_("Days or months"), min_value=1, max_value=3650, required=False, initial=30
    )
    valid_until = forms.DateField(label=_("Last day"), required=False, widget=DateInput())
    activation_delay_days = forms.IntegerField(
        label=_("Usable after (days)"),
        min_value=0,
        max_value=365,
        initial=0,
        help_text=_("0 = usable at once; 1 = from the next day."),
    )
    reminder_days = forms.IntegerField(
        label=_("Remind before expiry (days)"),
        min_value=1,
        max_value=90,
        required=False,
        help_text=_("Leave empty for no reminder."),
    )
    is_active = forms.BooleanField(
        label=_("Active, issued by its triggers"), required=False, initial=True, label_suffix=""
    )

    def __init__(self, *args: Any, pools: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["pool"].choices = [("", _("Choose a pool"))] + [  # type: ignore[attr-defined]
            (str(pool.pk), pool.name) for pool in pools
        ]

    @staticmethod
    def initial_from(template: VoucherTemplate) -> dict[str, Any]:
        initial = {
            name: getattr(template, name)
            for name in (
                "reward_title",
                "description",
                "terms",
                "method",
                "show_text",
                "show_qr",
                "show_barcode",
                "code_source",
                "validity",
                "validity_value",
                "valid_until",
                "activation_delay_days",
                "reminder_days",
                "is_active",
            )
        }
        initial["pool"] = template.pool_id
        initial["image"] = template.image
        return initial

    def display_fields(self) -> list[forms.BoundField]:
        return [self["show_text"], self["show_qr"], self["show_barcode"]]

    def service_data(self, *, pool: Any) -> dict[str, Any]:
        """The cleaned data as template_create/template_update take it; `pool` is the chosen
        pool object (the view looks it up in the tenant), or None."""
        data = self.cleaned_data
        result: dict[str, Any] = {
            name: data[name]
            for name in (
                "reward_title",
                "description",
                "terms",
                "method",
                "show_text",
                "show_qr",
                "show_barcode",
                "code_source",
                "validity",
                "activation_delay_days",
                "reminder_days",
                "is_active",
            )
        }
        uses_pool = data["code_source"] == VoucherTemplate.CodeSource.POOL
        result["pool"] = pool if uses_pool else None
        validity = data["validity"]
        # Only the value the chosen validity reads is kept, so a stale one never lingers.
        result["validity_value"] = (
            data.get("validity_value")
            if validity in (VoucherTemplate.Validity.DAYS, VoucherTemplate.Validity.MONTHS)
            else None
        )
        result["valid_until"] = (
            data.get("valid_until") if validity == VoucherTemplate.Validity.UNTIL_DATE else None
        )
        image = data.get("image")
        if image is False:  # "remove" ticked on the file input
            result["image"] = ""
        elif image and isinstance(image, UploadedFile):
            result["image"] = image
        return result


# Kinds an owner adds on a reward's page; broadcasts are sent from Campaigns.
TRIGGER_KINDS = [
    (kind.value, kind.label)
    for kind in VoucherTrigger.Kind
    if kind != VoucherTrigger.Kind.BROADCAST
]
KINDS_WITH_THRESHOLD = {
    VoucherTrigger.Kind.MILESTONE.value: _("At how many stamps on the card?"),
    VoucherTrigger.Kind.VISIT.value: _("On which visit? e.g. 10 for the 10th visit"),
    VoucherTrigger.Kind.WINBACK.value: _("After how many days without a visit?"),
}


class TriggerForm(forms.Form):
    program = forms.TypedChoiceField(label=_("Program"), coerce=int, choices=[])
    kind = forms.ChoiceField(
        label=_("When"), choices=TRIGGER_KINDS, initial=VoucherTrigger.Kind.STAMP_GOAL
    )
    threshold = forms.IntegerField(
        label=_("Stamps, visit number or days"),
        min_value=1,
        max_value=3650,
        required=False,
        help_text=_(
            "A milestone: the stamp it is reached at (below the goal). "
            "Nth visit: the visit number. Win-back: days without a visit."
        ),
    )

    def __init__(self, *args: Any, programs: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["program"].choices = [(p.pk, p.name) for p in programs]  # type: ignore[attr-defined]


# --- Vouchers --------------------------------------------------------------------------------


class VoucherFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=120,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Customer name or code")}),
    )
    state = forms.ChoiceField(
        label=_("State"), required=False, choices=[("", _("All states")), *Voucher.State.choices]
    )
    reward = forms.TypedChoiceField(
        label=_("Reward"), required=False, coerce=int, empty_value=None, choices=[]
    )

    def __init__(self, *args: Any, templates: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reward"].choices = [("", _("All rewards"))] + [  # type: ignore[attr-defined]
            (str(t.pk), t.reward_title) for t in templates
        ]

    def filters(self) -> dict[str, Any]:
        """The valid filters as voucher_list takes them; invalid ones are left out."""
        if not self.is_bound:
            return {}
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {
            "query": (data.get("q") or "").strip(),
            "state": data.get("state") or "",
            "template_id": data.get("reward"),
        }

    def is_filtered(self) -> bool:
        return any(value not in (None, "") for value in self.filters().values())


class VoidForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": _("Issued by mistake")}),
        help_text=_("Kept in the customer's history with your name."),
    )


# --- Code pools ------------------------------------------------------------------------------

UPLOAD_MAX_BYTES = 5 * 1024 * 1024


class CodePoolForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=80,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. Till coupons, spring")}),
    )
    low_threshold = forms.IntegerField(
        label=_("Warn when fewer than"),
        min_value=0,
        max_value=1_000_000,
        initial=20,
        help_text=_("free codes are left."),
    )


class CodeUploadForm(forms.Form):
    """A CSV file or pasted codes; `content()` gives the text for code_import_check."""

    kind = forms.ChoiceField(
        label=_("What is in the file"),
        choices=CodeImport.Kind.choices,
        initial=CodeImport.Kind.CODES,
        widget=forms.RadioSelect,
    )
    file = forms.FileField(
        label=_("CSV or text file"),
        required=False,
        allow_empty_file=True,  # clean() says "The file is empty." in our words
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,text/csv,text/plain"}),
        help_text=_("One code per line, or the first column of a CSV. At most 5 MB."),
    )
    text = forms.CharField(
        label=_("Or paste the codes"),
        required=False,
        max_length=UPLOAD_MAX_BYTES,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 5, "spellcheck": "false", "autocomplete": "off"}),
    )

    def clean_file(self) -> UploadedFile | None:
        upload = self.cleaned_data.get("file")
        if upload and upload.size is not None and upload.size > UPLOAD_MAX_BYTES:
            raise ValidationError(
                _("The file is %(size)s; at most 5 MB is allowed.")
                % {"size": filesizeformat(upload.size)},
                code="file_too_big",
            )
        return upload

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if "file" in self.errors:
            return data
        upload, text = data.get("file"), data.get("text") or ""
        if upload and text.strip():
            raise ValidationError(_("Upload a file or paste codes, not both."), code="both")
        if upload:
            raw = upload.read()
            if not raw.strip():
                self.add_error("file", _("The file is empty."))
                return data
            try:
                data["content"] = decode_upload(raw)
            except VoucherError as error:
                self.add_error("file", error.message)
                return data
            data["filename"] = upload.name or ""
        elif text.strip():
            data["content"], data["filename"] = text, ""
        else:
            raise ValidationError(_("Choose a file or paste the codes."), code="empty")
        return data


# --- Campaigns -------------------------------------------------------------------------------

SEGMENT_FIELDS = (
    "min_stamps",
    "min_visits",
    "joined_after",
    "last_visit_before",
    "last_visit_after",
    "marketing_consent",
)


class CampaignForm(forms.Form):
    name = forms.CharField(
        label=_("Campaign name"),
        max_length=80,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. Rainy Monday treat")}),
        help_text=_("For you; customers see the reward. Empty: the reward's name."),
    )
    template = forms.TypedChoiceField(label=_("Reward"), coerce=int, choices=[])
    program = forms.TypedChoiceField(label=_("Program"), coerce=int, choices=[])
    min_stamps = forms.IntegerField(
        label=_("At least this many stamps (all time)"), min_value=0, required=False
    )
    min_visits = forms.IntegerField(
        label=_("At least this many visits"), min_value=0, required=False
    )
    joined_after = forms.DateField(
        label=_("Joined on or after"), required=False, widget=DateInput()
    )
    last_visit_after = forms.DateField(
        label=_("Last visit on or after"), required=False, widget=DateInput()
    )
    last_visit_before = forms.DateField(
        label=_("Last visit before"), required=False, widget=DateInput()
    )
    marketing_consent = forms.BooleanField(
        label=_("Only customers who agreed to offers (marketing consent)"),
        required=False,
        initial=True,
        label_suffix="",
    )

    def __init__(self, *args: Any, templates: Any, programs: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["template"].choices = [(t.pk, t.reward_title) for t in templates]  # type: ignore[attr-defined]
        self.fields["program"].choices = [(p.pk, p.name) for p in programs]  # type: ignore[attr-defined]

    def segment_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in SEGMENT_FIELDS]

    def segment(self) -> dict[str, Any]:
        """The segment as cards_for_segment reads it (JSON-safe: dates as ISO strings)."""
        data = self.cleaned_data
        segment: dict[str, Any] = {}
        for name in SEGMENT_FIELDS:
            value = data.get(name)
            if value in (None, "", False):
                continue
            segment[name] = value.isoformat() if hasattr(value, "isoformat") else value
        return segment


class SegmentCountForm(CampaignForm):
    """The live count reads the segment and program only."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("name", "template"):
            del self.fields[name]
