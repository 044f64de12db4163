"""The card journal's texts, one per event kind, shown in each reader's language.

Events store their parameters; the words are produced when the journal is shown, so a Hebrew
staff member reads Hebrew and an English owner English, whoever caused the event. Parameters
named in LABELS are themselves translatable labels (a stamp's source, a redemption channel).
"""

from __future__ import annotations

from typing import Any

from django.utils import translation
from django.utils.translation import gettext, ngettext_lazy
from django.utils.translation import gettext_lazy as _

MESSAGES: dict[str, Any] = {
    "joined": _("Joined %(program)s"),
    "stamped": ngettext_lazy(
        "%(count)d stamp (%(source)s)", "%(count)d stamps (%(source)s)", "count"
    ),
    "corrected": _("Corrected by %(count)+d: %(reason)s"),
    "milestone": _("Reached %(n)s stamps: %(reward)s"),
    "cycle_completed": _("Card %(cycle)d completed: %(reward)s"),
    "voucher_issued": _("Voucher issued: %(reward)s"),
    "voucher_activated": _("Voucher ready to use: %(r)s"),
    "voucher_redeemed": _("Voucher redeemed: %(reward)s (%(channel)s)"),
    "redemption_reversed": _("Redemption undone: %(reward)s — %(why)s"),
    "voucher_expired": _("Voucher expired: %(r)s"),
    "voucher_voided": _("Voucher voided: %(r)s — %(why)s"),
    "erased": _("Personal data erased on request"),
}
LABELS = {"source", "channel"}
PARAMS_KEY = "_text"


def render(kind: str, params: dict[str, Any]) -> str:
    """The journal line for `kind` in the active language."""
    template = MESSAGES.get(kind)
    if template is None:
        return ""
    values = {
        k: (gettext(v) if k in LABELS and isinstance(v, str) else v) for k, v in params.items()
    }
    try:
        return str(template % values) if values or "%" in str(template) else str(template)
    except (KeyError, TypeError, ValueError):
        return ""


def render_stored(kind: str, params: dict[str, Any]) -> str:
    """The English line stored with the event (exports, admin, and a fallback)."""
    with translation.override("en"):
        return render(kind, params)
