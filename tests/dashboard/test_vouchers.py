"""Smart Vouchers in the dashboard: rewards with the live preview, triggers, the voucher list
and voiding."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django_scopes import scopes_disabled

from loyalty.models import CardEvent
from tenants.scoping import tenant_scope
from tests.dashboard.conftest import image_bytes, join, make_program, stamp
from vouchers.models import Voucher, VoucherTemplate, VoucherTrigger
from vouchers.services import template_create, trigger_create

pytestmark = pytest.mark.django_db

VALID = {
    "reward_title": "Free flat white",
    "description": "Any size, any milk.",
    "terms": "One per visit.",
    "method": "redeem_code",
    "show_text": "on",
    "show_qr": "on",
    "code_source": "generated",
    "pool": "",
    "validity": "days",
    "validity_value": "30",
    "valid_until": "",
    "activation_delay_days": "1",
    "reminder_days": "3",
    "is_active": "on",
}


def templates_of(world):  # type: ignore[no-untyped-def]
    with scopes_disabled():
        return list(VoucherTemplate.objects.filter(tenant=world.tenant))


def make_reward(world, **data):  # type: ignore[no-untyped-def]
    values = {"reward_title": "Free coffee", "method": "staff_scan", "validity": "unlimited"}
    values.update(data)
    with tenant_scope(world.tenant):
        return template_create(tenant=world.tenant, data=values)


def issue(world, program, reward, name):  # type: ignore[no-untyped-def]
    """A customer who completed the card and got the reward's voucher."""
    with tenant_scope(world.tenant):
        if not reward.triggers.filter(program=program).exists():
            trigger_create(template=reward, program=program, kind="stamp_goal")
    card = join(program, name)
    stamp(world, card, program.stamp_goal)
    with scopes_disabled():
        return Voucher.objects.get(card=card, template=reward)


# --- Rewards ---------------------------------------------------------------------------------


def test_manager_creates_a_redeem_code_reward(world_a, manager_client):
    # Given a manager, when they submit the reward form
    response = manager_client.post(reverse("dashboard:reward_create"), VALID)
    # Then the reward is saved as entered and they land on its page, at the triggers
    [reward] = templates_of(world_a)
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard:reward_edit", args=[reward.pk]) + "#triggers"
    assert reward.reward_title == "Free flat white"
    assert reward.method == "redeem_code"
    assert (reward.show_text, reward.show_qr, reward.show_barcode) == (True, True, False)
    assert (reward.validity, reward.validity_value, reward.valid_until) == ("days", 30, None)
    assert (reward.activation_delay_days, reward.reminder_days) == (1, 3)
    assert reward.code_source == "generated"
    assert reward.pool is None
    assert reward.is_active


def test_the_reward_form_carries_the_live_voucher_preview(world_a, manager_client):
    # Given the new-reward page, when a manager opens it,
    # then the voucher preview shows the sample code as text, QR and barcode, and each method
    response = manager_client.get(reverse("dashboard:reward_create"))
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="vp"' in body
    assert "K7M2Q-9XRTA" in body
    assert 'id="vp-code-qr"' in body
    assert 'id="vp-code-barcode"' in body
    assert body.count("<svg") >= 3  # QR for codes, QR for staff scan, barcode
    for method in ("redeem_code", "staff_scan", "self"):
        assert f'data-preview-method="{method}"' in body
    assert "Show this code at the checkout" in body


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"show_text": "", "show_qr": "", "show_barcode": ""},
            "Show the code at least one way",
        ),
        ({"code_source": "pool", "pool": ""}, "Choose the code pool the codes come from"),
        ({"validity": "until_date", "valid_until": ""}, "Choose the last day the voucher"),
        ({"validity": "days", "validity_value": ""}, "How many days or months"),
    ],
)
def test_invalid_reward_combinations_are_refused_and_nothing_is_saved(
    world_a, manager_client, change, message
):
    # Given a reward form with a combination the service refuses
    data = {**VALID, **{k: v for k, v in change.items() if v}}
    for key, value in change.items():
        if not value:
            data.pop(key, None)
    # When it is submitted
    response = manager_client.post(reverse("dashboard:reward_create"), data)
    # Then the owner sees why, and no reward exists
    assert response.status_code == 400
    assert message in response.content.decode()
    assert templates_of(world_a) == []


def test_the_reward_image_is_checked_like_the_logo(world_a, manager_client):
    # Given a "PNG" that is really text, when uploaded as the reward image
    fake = SimpleUploadedFile("reward.png", b"not an image", content_type="image/png")
    response = manager_client.post(reverse("dashboard:reward_create"), {**VALID, "image": fake})
    # Then it is refused with a clear message and nothing is saved
    assert response.status_code == 400
    assert "not an image we can read" in response.content.decode()
    assert templates_of(world_a) == []


def test_a_real_image_is_saved_with_the_reward(world_a, manager_client):
    upload = SimpleUploadedFile("reward.webp", image_bytes("WEBP"), content_type="image/webp")
    response = manager_client.post(reverse("dashboard:reward_create"), {**VALID, "image": upload})
    [reward] = templates_of(world_a)
    assert response.status_code == 302
    assert reward.image.name.startswith("vouchers/")


def test_a_too_big_image_is_refused(world_a, manager_client):
    big = image_bytes("PNG", size=(1900, 1900))
    big += b"\0" * (1024 * 1024 + 1 - len(big)) if len(big) <= 1024 * 1024 else b""
    upload = SimpleUploadedFile("reward.png", big, content_type="image/png")
    response = manager_client.post(reverse("dashboard:reward_create"), {**VALID, "image": upload})
    assert response.status_code == 400
    assert "at most 1 MB" in response.content.decode()
    assert templates_of(world_a) == []


def test_editing_a_reward_saves_it_and_a_bad_edit_changes_nothing(world_a, manager_client):
    # Given a saved reward
    reward = make_reward(world_a, reward_title="Cookie")
    url = reverse("dashboard:reward_edit", args=[reward.pk])
    # When the page is opened, then the form shows it
    assert 'value="Cookie"' in manager_client.get(url).content.decode()
    # When an invalid change is submitted, then 400 and the saved reward is unchanged
    bad = {**VALID, "reward_title": "Changed", "validity": "until_date", "valid_until": ""}
    response = manager_client.post(url, bad)
    assert response.status_code == 400
    with scopes_disabled():
        reward.refresh_from_db()
    assert reward.reward_title == "Cookie"
    assert reward.validity == "unlimited"
    # When a valid change is submitted, then it is saved
    response = manager_client.post(
        url, {**VALID, "reward_title": "Big cookie", "validity": "months", "validity_value": "2"}
    )
    assert response.status_code == 302
    with scopes_disabled():
        reward.refresh_from_db()
    assert (reward.reward_title, reward.validity, reward.validity_value) == (
        "Big cookie",
        "months",
        2,
    )


def test_the_rewards_list_shows_issued_and_redeemed_counts(world_a, manager_client, program_a):
    # Given a reward issued twice
    reward = make_reward(world_a, reward_title="Free muffin")
    issue(world_a, program_a, reward, "Ada")
    issue(world_a, program_a, reward, "Ben")
    # When the manager opens the rewards list
    body = manager_client.get(reverse("dashboard:rewards")).content.decode()
    # Then the reward, its method, validity, trigger and counts show
    assert "Free muffin" in body
    assert "Staff scan at the counter" in body
    assert "No expiry" in body
    assert "Coffee card: The card is complete" in body
    assert f'?reward={reward.pk}">2</a>' in body


# --- Triggers --------------------------------------------------------------------------------


def triggers_of(reward):  # type: ignore[no-untyped-def]
    with scopes_disabled():
        return list(VoucherTrigger.objects.filter(template=reward).order_by("pk"))


def test_manager_adds_triggers_to_a_reward(world_a, manager_client, program_a):
    # Given a reward and a program
    reward = make_reward(world_a)
    url = reverse("dashboard:trigger_add", args=[reward.pk])
    # When the manager adds "card complete" and "10th visit"
    first = manager_client.post(url, {"program": program_a.pk, "kind": "stamp_goal"})
    second = manager_client.post(url, {"program": program_a.pk, "kind": "visit", "threshold": "10"})
    # Then both are saved, and the reward page lists them
    assert first.status_code == second.status_code == 302
    stamp_goal, visit = triggers_of(reward)
    assert (stamp_goal.kind, stamp_goal.threshold) == ("stamp_goal", None)
    assert (visit.kind, visit.threshold, visit.program_id) == ("visit", 10, program_a.pk)
    body = manager_client.get(reverse("dashboard:reward_edit", args=[reward.pk])).content.decode()
    assert "The Nth visit (10)" in body


def test_a_milestone_past_the_goal_is_refused(world_a, manager_client, program_a):
    # Given a 10-stamp program, when a milestone at 10 stamps is added
    reward = make_reward(world_a)
    response = manager_client.post(
        reverse("dashboard:trigger_add", args=[reward.pk]),
        {"program": program_a.pk, "kind": "milestone", "threshold": "10"},
    )
    # Then the owner sees the allowed range and no trigger is saved
    assert response.status_code == 400
    assert "A milestone is between 1 and 9 stamps." in response.content.decode()
    assert triggers_of(reward) == []


def test_a_milestone_without_a_threshold_is_refused(world_a, manager_client, program_a):
    reward = make_reward(world_a)
    response = manager_client.post(
        reverse("dashboard:trigger_add", args=[reward.pk]),
        {"program": program_a.pk, "kind": "milestone"},
    )
    assert response.status_code == 400
    assert triggers_of(reward) == []


def test_a_trigger_is_turned_off_and_on(world_a, manager_client, program_a):
    # Given a reward with a trigger
    reward = make_reward(world_a)
    with tenant_scope(world_a.tenant):
        trigger = trigger_create(template=reward, program=program_a, kind="welcome")
    url = reverse("dashboard:trigger_set_active", args=[reward.pk, trigger.pk])
    # When it is turned off, then it is inactive; when turned on again, active
    assert manager_client.post(url, {"active": "0"}).status_code == 302
    assert triggers_of(reward)[0].is_active is False
    assert manager_client.post(url, {"active": "1"}).status_code == 302
    assert triggers_of(reward)[0].is_active is True


def test_a_trigger_of_another_reward_is_not_reachable_through_this_one(
    world_a, manager_client, program_a
):
    reward, other = make_reward(world_a), make_reward(world_a, reward_title="Other")
    with tenant_scope(world_a.tenant):
        trigger = trigger_create(template=other, program=program_a, kind="welcome")
    url = reverse("dashboard:trigger_set_active", args=[reward.pk, trigger.pk])
    assert manager_client.post(url, {"active": "0"}).status_code == 404
    assert triggers_of(other)[0].is_active is True


# --- Vouchers --------------------------------------------------------------------------------


def test_the_voucher_list_filters_by_search_state_and_reward(world_a, manager_client, program_a):
    # Given vouchers of two rewards for three customers, one voided
    coffee = make_reward(world_a, reward_title="Free coffee")
    cake = make_reward(world_a, reward_title="Free cake")
    ada = issue(world_a, program_a, coffee, "Ada Lovelace")
    issue(world_a, program_a, coffee, "Ben Franklin")
    cat = issue(world_a, make_program(world_a, name="Cake card"), cake, "Cat Stevens")
    with scopes_disabled():
        Voucher.objects.filter(pk=cat.pk).update(state=Voucher.State.VOID)
    url = reverse("dashboard:vouchers")
    # When the manager lists them all, then every voucher shows with its links
    body = manager_client.get(url).content.decode()
    assert "3 vouchers" in body
    assert reverse("dashboard:customer_detail", args=[ada.card.customer_id]) in body
    assert reverse("voucher", args=[ada.token]) in body
    assert reverse("dashboard:voucher_void", args=[ada.pk]) in body
    assert reverse("dashboard:voucher_void", args=[cat.pk]) not in body  # already void
    # When searching by name, then only that customer's voucher shows
    body = manager_client.get(url, {"q": "lovelace"}).content.decode()
    assert "Ada Lovelace" in body
    assert "Ben Franklin" not in body
    # When filtering by state and by reward
    body = manager_client.get(url, {"state": "void"}).content.decode()
    assert "Cat Stevens" in body
    assert "Ada Lovelace" not in body
    body = manager_client.get(url, {"reward": coffee.pk}).content.decode()
    assert "Ada Lovelace" in body
    assert "Ben Franklin" in body
    assert "Cat Stevens" not in body


def test_the_voucher_list_finds_a_voucher_by_its_code(world_a, manager_client, program_a):
    reward = make_reward(world_a, method="redeem_code", show_text=True)
    voucher = issue(world_a, program_a, reward, "Dora")
    issue(world_a, program_a, reward, "Eli")
    body = manager_client.get(
        reverse("dashboard:vouchers"), {"q": voucher.code_display.lower()}
    ).content.decode()
    assert voucher.code_display in body
    assert "Dora" in body
    assert "Eli" not in body


def test_manager_voids_a_voucher_with_a_reason(world_a, manager_client, program_a):
    # Given an active voucher
    voucher = issue(world_a, program_a, make_reward(world_a), "Fay")
    url = reverse("dashboard:voucher_void", args=[voucher.pk])
    # When the manager opens the confirmation, then it names the voucher and asks for a reason
    page = manager_client.get(url).content.decode()
    assert "Void this voucher?" in page
    assert "Fay" in page
    assert 'name="reason"' in page
    # When they confirm with a reason
    response = manager_client.post(url, {"reason": "Given by mistake"}, follow=True)
    # Then the voucher is void with the reason, the card's journal says so, and they see it
    assert response.redirect_chain[-1][0] == reverse("dashboard:vouchers")
    assert "Voided: Free coffee for Fay" in response.content.decode()
    with scopes_disabled():
        voucher.refresh_from_db()
        event = CardEvent.objects.get(card=voucher.card, kind=CardEvent.Kind.VOUCHER_VOIDED)
    assert voucher.state == Voucher.State.VOID
    assert voucher.void_reason == "Given by mistake"
    assert "Given by mistake" in event.message
    assert event.actor_id == world_a.manager.pk


def test_voiding_needs_a_reason(world_a, manager_client, program_a):
    voucher = issue(world_a, program_a, make_reward(world_a), "Gus")
    response = manager_client.post(
        reverse("dashboard:voucher_void", args=[voucher.pk]), {"reason": ""}
    )
    assert response.status_code == 400
    with scopes_disabled():
        voucher.refresh_from_db()
    assert voucher.state == Voucher.State.ACTIVE


def test_a_used_voucher_cannot_be_voided(world_a, manager_client, program_a):
    # Given a voucher that was already voided, when voided again
    voucher = issue(world_a, program_a, make_reward(world_a), "Hal")
    url = reverse("dashboard:voucher_void", args=[voucher.pk])
    manager_client.post(url, {"reason": "first"})
    response = manager_client.post(url, {"reason": "second"}, follow=True)
    # Then the owner sees why, and the first reason stays
    assert "Only an unused voucher can be voided" in response.content.decode()
    with scopes_disabled():
        voucher.refresh_from_db()
    assert voucher.void_reason == "first"


# --- Access ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["dashboard:rewards", "dashboard:reward_create", "dashboard:vouchers"]
)
def test_staff_cannot_open_reward_pages(world_a, name):
    assert world_a.staff_client.get(reverse(name)).status_code == 403


def test_staff_cannot_void(world_a, program_a):
    voucher = issue(world_a, program_a, make_reward(world_a), "Ivy")
    response = world_a.staff_client.post(
        reverse("dashboard:voucher_void", args=[voucher.pk]), {"reason": "staff"}
    )
    assert response.status_code == 403
    with scopes_disabled():
        voucher.refresh_from_db()
    assert voucher.state == Voucher.State.ACTIVE


def test_another_businesss_reward_and_voucher_answer_404(world_a, world_b, manager_client):
    # Given business B's reward, trigger and voucher
    program_b = make_program(world_b)
    reward_b = make_reward(world_b, reward_title="Bravo reward")
    voucher_b = issue(world_b, program_b, reward_b, "Bravo customer")
    trigger_b = triggers_of(reward_b)[0]
    # When A's manager asks for them, then 404 each time and B's rows are untouched
    assert (
        manager_client.get(reverse("dashboard:reward_edit", args=[reward_b.pk])).status_code == 404
    )
    assert (
        manager_client.post(reverse("dashboard:reward_edit", args=[reward_b.pk]), VALID).status_code
        == 404
    )
    assert (
        manager_client.post(
            reverse("dashboard:trigger_set_active", args=[reward_b.pk, trigger_b.pk]),
            {"active": "0"},
        ).status_code
        == 404
    )
    assert (
        manager_client.post(
            reverse("dashboard:voucher_void", args=[voucher_b.pk]), {"reason": "x"}
        ).status_code
        == 404
    )
    with scopes_disabled():
        voucher_b.refresh_from_db()
        reward_b.refresh_from_db()
    assert voucher_b.state == Voucher.State.ACTIVE
    assert reward_b.reward_title == "Bravo reward"
    assert triggers_of(reward_b)[0].is_active
