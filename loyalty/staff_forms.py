"""Forms of the staff counter."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

MAX_STAMPS_AT_COUNTER = 10


class ScanForm(forms.Form):
    """Whatever was scanned or typed: a card QR (URL or token), later a voucher, or a search."""

    code = forms.CharField(
        label=_("Code, name, email or phone"),
        max_length=500,
        strip=True,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "autocapitalize": "off",
                "spellcheck": "false",
                "enterkeyhint": "search",
            }
        ),
    )


class StampForm(forms.Form):
    count = forms.IntegerField(
        label=_("Stamps"), min_value=1, max_value=MAX_STAMPS_AT_COUNTER, initial=1
    )
    # One-time form id: a second submit of the same form (double tap, retry) stamps nothing.
    nonce = forms.UUIDField(widget=forms.HiddenInput)


class LocationForm(forms.Form):
    location = forms.IntegerField(min_value=1)
