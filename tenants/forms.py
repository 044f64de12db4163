from __future__ import annotations

import zoneinfo

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from tenants.models import Role, Tenant

COMMON_TIMEZONES = sorted(zoneinfo.available_timezones())


class SignUpForm(forms.Form):
    business_name = forms.CharField(label=_("Business name"), max_length=120)
    first_name = forms.CharField(label=_("Your name"), max_length=150)
    email = forms.EmailField(label=_("Email"))
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput, min_length=8)
    timezone = forms.ChoiceField(
        label=_("Time zone"), choices=[(tz, tz) for tz in COMMON_TIMEZONES], initial="UTC"
    )
    language = forms.ChoiceField(label=_("Language"), choices=Tenant.Language.choices, initial="en")

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        password_validation.validate_password(password)
        return password


class EmailAuthenticationForm(AuthenticationForm):
    username = forms.EmailField(
        label=_("Email"), widget=forms.EmailInput(attrs={"autofocus": True})
    )


class InvitationForm(forms.Form):
    email = forms.EmailField(label=_("Email"))
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.STAFF)


class AcceptInvitationForm(forms.Form):
    first_name = forms.CharField(label=_("Your name"), max_length=150)
    password = forms.CharField(label=_("Choose a password"), widget=forms.PasswordInput)

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        password_validation.validate_password(password)
        return password
