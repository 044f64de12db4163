from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _
from PIL import Image

from tenants.models import Location, Role

HEX = r"^#[0-9a-fA-F]{6}$"


class LocationForm(forms.ModelForm):
    class Meta:
        model = Location
        fields = ["name", "address", "latitude", "longitude"]


class MembershipForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
    locations = forms.ModelMultipleChoiceField(
        label=_("Limited to locations"),
        queryset=Location.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Leave empty to allow every location."),
    )

    def __init__(self, *args, locations, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["locations"].queryset = locations  # type: ignore[attr-defined]


class ApiKeyForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=80, initial=_("POS integration"))


# --- Programs -------------------------------------------------------------------------------

LOGO_MAX_BYTES = 1024 * 1024
LOGO_MAX_SIDE = 2000
LOGO_FORMATS = {"PNG", "JPEG", "WEBP"}
MILESTONE_ROWS = 3


def validate_image(upload: UploadedFile, *, noun: str, code: str) -> None:
    """PNG, JPEG or WebP as Pillow reads it (not as the name says), 1 MB and 2000 px at most.

    `noun` names the upload in messages ("logo", "image"); `code` prefixes the error codes.
    """
    if upload.size is not None and upload.size > LOGO_MAX_BYTES:
        raise ValidationError(
            _("The %(noun)s is %(size)s; at most 1 MB is allowed.")
            % {"noun": noun, "size": filesizeformat(upload.size)},
            code=f"{code}_too_big",
        )
    try:
        upload.seek(0)
        with Image.open(upload) as image:
            image_format = image.format
            width, height = image.size
            image.verify()
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise ValidationError(
            _("This file is not an image we can read. Upload a PNG, JPEG or WebP file."),
            code=f"{code}_unreadable",
        ) from None
    finally:
        upload.seek(0)
    if image_format not in LOGO_FORMATS:
        raise ValidationError(
            _("The %(noun)s must be a PNG, JPEG or WebP image (this one is %(format)s).")
            % {"noun": noun, "format": image_format or _("unknown")},
            code=f"{code}_format",
        )
    if width > LOGO_MAX_SIDE or height > LOGO_MAX_SIDE:
        raise ValidationError(
            _("The %(noun)s is %(w)d×%(h)d pixels; at most %(max)d×%(max)d is allowed.")
            % {"noun": noun, "w": width, "h": height, "max": LOGO_MAX_SIDE},
            code=f"{code}_dimensions",
        )


def validate_logo(upload: UploadedFile) -> None:
    validate_image(upload, noun=str(_("logo")), code="logo")


class ColorInput(forms.TextInput):
    input_type = "color"


class ProgramForm(forms.Form):
    """The program's design and rules. Milestones come as up to three rows of stamps + reward."""

    name = forms.CharField(label=_("Program name"), max_length=80)
    description = forms.CharField(
        label=_("What the customer gets"),
        max_length=600,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    stamp_goal = forms.IntegerField(
        label=_("Stamps for the reward"), min_value=1, max_value=30, initial=10
    )
    reward_text = forms.CharField(
        label=_("Reward at the goal"),
        max_length=120,
        widget=forms.TextInput(attrs={"placeholder": _("A free coffee")}),
    )
    card_color = forms.RegexField(
        label=_("Card colour"), regex=HEX, initial="#1f6f5c", widget=ColorInput
    )
    text_color = forms.RegexField(
        label=_("Text colour"), regex=HEX, initial="#ffffff", widget=ColorInput
    )
    stamp_color = forms.RegexField(
        label=_("Stamp colour"), regex=HEX, initial="#f2b134", widget=ColorInput
    )
    stamp_icon = forms.ChoiceField(label=_("Stamp icon"), choices=[], initial="star")
    logo = forms.FileField(
        label=_("Logo"),
        required=False,
        validators=[validate_logo],
        widget=forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg,image/webp"}),
        help_text=_("PNG, JPEG or WebP, at most 1 MB and 2000×2000 pixels."),
    )
    max_stamps_per_visit = forms.IntegerField(
        label=_("Most stamps per visit"), min_value=1, max_value=50, required=False
    )
    cooldown_minutes = forms.IntegerField(
        label=_("Minutes between stamps on one card"),
        min_value=1,
        max_value=7 * 24 * 60,
        required=False,
    )
    daily_cap = forms.IntegerField(
        label=_("Most stamps per card per day"), min_value=1, max_value=50, required=False
    )

    def __init__(self, *args: Any, icon_choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["stamp_icon"].choices = icon_choices  # type: ignore[attr-defined]
        for row in range(1, MILESTONE_ROWS + 1):
            self.fields[f"milestone_{row}_stamps"] = forms.IntegerField(
                label=_("Milestone %(n)d: stamps") % {"n": row},
                min_value=1,
                max_value=29,
                required=False,
            )
            self.fields[f"milestone_{row}_reward"] = forms.CharField(
                label=_("Milestone %(n)d: reward") % {"n": row},
                max_length=120,
                required=False,
            )

    @staticmethod
    def initial_from(program: Any) -> dict[str, Any]:
        initial = {
            name: getattr(program, name)
            for name in (
                "name",
                "description",
                "stamp_goal",
                "reward_text",
                "card_color",
                "text_color",
                "stamp_color",
                "stamp_icon",
                "max_stamps_per_visit",
                "cooldown_minutes",
                "daily_cap",
            )
        }
        initial["logo"] = program.logo
        for row, milestone in enumerate(program.milestone_list()[:MILESTONE_ROWS], start=1):
            initial[f"milestone_{row}_stamps"] = milestone["stamps"]
            initial[f"milestone_{row}_reward"] = milestone["reward"]
        return initial

    def milestone_rows(self) -> list[tuple[forms.BoundField, forms.BoundField]]:
        return [
            (self[f"milestone_{row}_stamps"], self[f"milestone_{row}_reward"])
            for row in range(1, MILESTONE_ROWS + 1)
        ]

    def design_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in ("card_color", "text_color", "stamp_color", "stamp_icon")]

    def rule_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in ("max_stamps_per_visit", "cooldown_minutes", "daily_cap")]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        goal = data.get("stamp_goal")
        milestones: list[dict[str, Any]] = []
        seen: set[int] = set()
        for row in range(1, MILESTONE_ROWS + 1):
            stamps_field, reward_field = f"milestone_{row}_stamps", f"milestone_{row}_reward"
            if stamps_field in self.errors or reward_field in self.errors:
                continue
            stamps = data.get(stamps_field)
            reward = (data.get(reward_field) or "").strip()
            if stamps is None and not reward:
                continue
            if stamps is None:
                self.add_error(stamps_field, _("How many stamps reach this milestone?"))
            elif not reward:
                self.add_error(reward_field, _("What does the customer get at this milestone?"))
            elif goal is not None and stamps >= goal:
                self.add_error(
                    stamps_field,
                    _("A milestone comes before the goal: at most %(max)d stamps.")
                    % {"max": goal - 1},
                )
            elif stamps in seen:
                self.add_error(stamps_field, _("Two milestones cannot share a stamp."))
            else:
                seen.add(stamps)
                milestones.append({"stamps": stamps, "reward": reward})
        data["milestones"] = sorted(milestones, key=lambda m: m["stamps"])
        return data

    def service_data(self) -> dict[str, Any]:
        """The cleaned data as program_create/program_update take it."""
        data = self.cleaned_data
        result = {
            name: data[name]
            for name in (
                "name",
                "description",
                "stamp_goal",
                "reward_text",
                "milestones",
                "card_color",
                "text_color",
                "stamp_color",
                "stamp_icon",
                "max_stamps_per_visit",
                "cooldown_minutes",
                "daily_cap",
            )
        }
        logo = data.get("logo")
        if logo is False:  # "clear" ticked on the file input
            result["logo"] = ""
        elif logo and isinstance(logo, UploadedFile):
            result["logo"] = logo
        return result


# --- Customers ------------------------------------------------------------------------------


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


class CustomerFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=120,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Name, email or phone")}),
    )
    program = forms.TypedChoiceField(
        label=_("Program"), required=False, coerce=int, empty_value=None, choices=[]
    )
    joined_from = forms.DateField(label=_("Joined from"), required=False, widget=DateInput())
    joined_to = forms.DateField(label=_("Joined until"), required=False, widget=DateInput())
    last_visit_from = forms.DateField(
        label=_("Last visit from"), required=False, widget=DateInput()
    )
    last_visit_to = forms.DateField(label=_("Last visit until"), required=False, widget=DateInput())
    min_stamps = forms.IntegerField(label=_("At least stamps"), required=False, min_value=0)

    def __init__(self, *args: Any, programs: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["program"].choices = [("", _("All programs"))] + [  # type: ignore[attr-defined]
            (str(p.pk), p.name) for p in programs
        ]

    def filters(self) -> dict[str, Any]:
        """The valid filters as customer_list takes them; invalid ones are left out."""
        if not self.is_bound:
            return {}
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {
            "query": (data.get("q") or "").strip(),
            "program_id": data.get("program"),
            "joined_from": data.get("joined_from"),
            "joined_to": data.get("joined_to"),
            "last_visit_from": data.get("last_visit_from"),
            "last_visit_to": data.get("last_visit_to"),
            "min_stamps": data.get("min_stamps"),
        }

    def is_filtered(self) -> bool:
        return any(value not in (None, "") for value in self.filters().values())


class StampCorrectionForm(forms.Form):
    delta = forms.IntegerField(
        label=_("Stamps to add or remove"),
        min_value=-50,
        max_value=50,
        help_text=_("A negative number removes stamps, e.g. -1."),
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": _("Stamp forgotten at the counter")}),
    )

    def clean_delta(self) -> int:
        delta = self.cleaned_data["delta"]
        if delta == 0:
            raise ValidationError(_("Enter a number other than 0."))
        return delta


# --- Receipt codes --------------------------------------------------------------------------

MAX_RECEIPT_BATCH = 5000


class ReceiptBatchForm(forms.Form):
    program = forms.TypedChoiceField(label=_("Program"), coerce=int, choices=[])
    size = forms.IntegerField(
        label=_("Number of codes"), min_value=1, max_value=MAX_RECEIPT_BATCH, initial=100
    )
    stamps_each = forms.IntegerField(
        label=_("Stamps per code"), min_value=1, max_value=10, initial=1
    )
    note = forms.CharField(
        label=_("Note"),
        max_length=120,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. Receipts for March")}),
    )

    def __init__(self, *args: Any, programs: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["program"].choices = [(p.pk, p.name) for p in programs]  # type: ignore[attr-defined]
