from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from tenants.models import Location, Role


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
