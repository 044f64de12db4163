"""Programs: created and configured by owners and managers."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from loyalty import hooks
from loyalty.models import Program

DESIGN_FIELDS = {
    "name",
    "description",
    "stamp_goal",
    "reward_text",
    "milestones",
    "card_color",
    "text_color",
    "stamp_color",
    "stamp_icon",
    "logo",
}
EDITABLE_FIELDS = DESIGN_FIELDS | {
    "max_stamps_per_visit",
    "cooldown_minutes",
    "daily_cap",
    "is_active",
}


def validate_milestones(milestones: Any, stamp_goal: int) -> list[dict[str, Any]]:
    """[{"stamps": n, "reward": text}], each strictly between 0 and the goal, distinct."""
    if milestones in (None, ""):
        return []
    if not isinstance(milestones, list):
        raise ValidationError({"milestones": _("Milestones must be a list.")})
    cleaned: list[dict[str, Any]] = []
    seen: set[int] = set()
    for item in milestones:
        try:
            stamps = int(item["stamps"])
            reward = str(item["reward"]).strip()
        except (KeyError, TypeError, ValueError):
            raise ValidationError(
                {"milestones": _("Each milestone needs stamps and a reward.")}
            ) from None
        if not 0 < stamps < stamp_goal:
            raise ValidationError(
                {
                    "milestones": _("A milestone must be between 1 and %(max)d stamps.")
                    % {"max": stamp_goal - 1}
                }
            )
        if stamps in seen or not reward:
            raise ValidationError(
                {"milestones": _("Milestones need distinct stamps and a reward.")}
            )
        seen.add(stamps)
        cleaned.append({"stamps": stamps, "reward": reward[:120]})
    return sorted(cleaned, key=lambda m: m["stamps"])


@transaction.atomic
def program_create(*, tenant: Any, data: dict[str, Any]) -> Program:
    unknown = set(data) - EDITABLE_FIELDS
    if unknown:
        raise ValidationError(f"Unknown fields: {sorted(unknown)}")
    data = dict(data)
    data["milestones"] = validate_milestones(
        data.get("milestones"), int(data.get("stamp_goal", 10))
    )
    program = Program(tenant=tenant, **data)
    program.full_clean(exclude=["tenant"])
    program.save()
    return program


@transaction.atomic
def program_update(*, program: Program, data: dict[str, Any]) -> Program:
    """Saves the changes; a change of the card's look or goal updates every wallet card."""
    unknown = set(data) - EDITABLE_FIELDS
    if unknown:
        raise ValidationError(f"Unknown fields: {sorted(unknown)}")
    data = dict(data)
    goal = int(data.get("stamp_goal", program.stamp_goal))
    if "milestones" in data:
        data["milestones"] = validate_milestones(data["milestones"], goal)
    design_changed = any(
        getattr(program, name) != value for name, value in data.items() if name in DESIGN_FIELDS
    )
    for name, value in data.items():
        setattr(program, name, value)
    program.full_clean(exclude=["tenant"])
    if design_changed:
        program.design_version += 1
    program.save()
    if design_changed:
        program_design_changed(program=program)
    return program


def program_design_changed(*, program: Program) -> None:
    # Cards carry their own version, so every wallet notices the new look.
    for listener in hooks.program_changed_listeners:
        listener(program)


@transaction.atomic
def program_set_active(*, program: Program, active: bool) -> Program:
    program.is_active = active
    program.save(update_fields=["is_active", "updated_at"])
    return program


@transaction.atomic
def program_cards_touch(*, program: Program, card_ids: list[int]) -> int:
    """The program's look changed: these cards get a new version (their pass changed) and
    their card-changed side effects (wallet pushes) after commit."""
    from loyalty.models import Card
    from loyalty.services.stamping import card_touch

    count = 0
    for card in Card.objects.filter(program=program, pk__in=card_ids).select_related("tenant"):
        card_touch(card=card)
        count += 1
    return count
