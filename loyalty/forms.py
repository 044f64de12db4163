from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class JoinForm(forms.Form):
    name = forms.CharField(label=_("Your name"), max_length=120)
    email = forms.EmailField(label=_("Email (optional)"), required=False)
    phone = forms.CharField(
        label=_("Phone (optional)"),
        max_length=32,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )
    birthday = forms.DateField(
        label=_("Birthday (optional)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("For a birthday treat, if the business offers one."),
    )
    marketing_consent = forms.BooleanField(
        label=_("Send me news and offers from this business"), required=False
    )
    receipt = forms.CharField(required=False, widget=forms.HiddenInput)


class ClaimForm(forms.Form):
    code = forms.CharField(label=_("Receipt code"), max_length=40, required=False)
    kiosk = forms.CharField(required=False, widget=forms.HiddenInput, max_length=400)
