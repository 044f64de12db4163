"""Campaigns in the dashboard: the live segment count, sending, and the progress."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django_scopes import scopes_disabled

from tenants.scoping import tenant_scope
from tests.dashboard.conftest import join, make_program, stamp
from vouchers.models import Campaign, Voucher
from vouchers.services import campaign_create, template_create

pytestmark = pytest.mark.django_db


def make_reward(world, **data):  # type: ignore[no-untyped-def]
    values = {"reward_title": "Rainy day cookie", "method": "self", "validity": "unlimited"}
    values.update(data)
    with tenant_scope(world.tenant):
        return template_create(tenant=world.tenant, data=values)


@pytest.fixture
def customers(world_a, program_a):  # type: ignore[no-untyped-def]
    """Three customers: Ada (3 stamps, consent), Ben (3 stamps), Cat (1 stamp, consent)."""
    ada = join(program_a, "Ada", marketing_consent=True)
    ben = join(program_a, "Ben")
    cat = join(program_a, "Cat", marketing_consent=True)
    stamp(world_a, ada, 3)
    stamp(world_a, ben, 3)
    stamp(world_a, cat, 1)
    return {"ada": ada, "ben": ben, "cat": cat}


def campaigns_of(world):  # type: ignore[no-untyped-def]
    with scopes_disabled():
        return list(Campaign.objects.filter(tenant=world.tenant))


def test_the_segment_count_follows_the_filters(world_a, manager_client, program_a, customers):
    url = reverse("dashboard:campaign_segment_count")
    # Given three customers, when the manager narrows the segment step by step
    everyone = manager_client.get(url, {"program": program_a.pk}).json()
    regulars = manager_client.get(url, {"program": program_a.pk, "min_stamps": "2"}).json()
    consenting_regulars = manager_client.get(
        url, {"program": program_a.pk, "min_stamps": "2", "marketing_consent": "on"}
    ).json()
    # Then the count matches each time
    assert everyone == {"count": 3}
    assert regulars == {"count": 2}
    assert consenting_regulars == {"count": 1}


def test_the_segment_count_needs_a_program_of_this_business(world_a, world_b, manager_client):
    url = reverse("dashboard:campaign_segment_count")
    program_b = make_program(world_b)
    assert manager_client.get(url).status_code == 400
    assert manager_client.get(url, {"program": program_b.pk}).status_code == 404
    response = manager_client.get(url, {"program": program_b.pk + 1000})
    assert response.status_code == 404


def test_a_bad_filter_gets_a_400_with_the_field(world_a, manager_client, program_a):
    response = manager_client.get(
        reverse("dashboard:campaign_segment_count"),
        {"program": program_a.pk, "joined_after": "not a date"},
    )
    assert response.status_code == 400
    assert "joined_after" in response.json()["errors"]


def test_the_form_shows_the_live_count_and_asks_for_a_reward_first(world_a, manager_client):
    # Given no reward yet, when the manager opens the form, then they are sent to create one
    page = manager_client.get(reverse("dashboard:campaign_create")).content.decode()
    assert "Create an active reward first" in page
    # Given a reward and a program, then the form carries the live count
    make_reward(world_a)
    make_program(world_a)
    page = manager_client.get(reverse("dashboard:campaign_create")).content.decode()
    assert reverse("dashboard:campaign_segment_count") in page
    assert 'id="segment-count"' in page


def test_manager_sends_a_campaign_to_a_segment(
    world_a, manager_client, program_a, customers, django_capture_on_commit_callbacks
):
    # Given a reward and three customers, two of them regulars
    reward = make_reward(world_a)
    # When the manager sends it to customers with at least 2 stamps (the task runs after commit)
    with django_capture_on_commit_callbacks(execute=True):
        response = manager_client.post(
            reverse("dashboard:campaign_create"),
            {
                "name": "Rainy Monday",
                "template": reward.pk,
                "program": program_a.pk,
                "min_stamps": "2",
                "joined_after": "2020-01-01",
            },
        )
    # Then the campaign exists with its segment, the two regulars got the voucher,
    # and the campaign page and its progress answer say it is done
    [campaign] = campaigns_of(world_a)
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard:campaign_detail", args=[campaign.pk])
    assert campaign.segment == {"min_stamps": 2, "joined_after": "2020-01-01"}
    assert campaign.created_by_id == world_a.manager.pk
    with scopes_disabled():
        owners = sorted(
            Voucher.objects.filter(template=reward).values_list("card__customer__name", flat=True)
        )
    assert owners == ["Ada", "Ben"]
    progress = manager_client.get(reverse("dashboard:campaign_progress", args=[campaign.pk]))
    assert progress.json() == {
        "status": "done",
        "status_label": "Done",
        "processed": 2,
        "total": 2,
        "issued": 2,
        "percent": 100,
        "done": True,
    }
    page = manager_client.get(response["Location"]).content.decode()
    assert "Rainy Monday" in page
    assert "At least 2 stamps" in page
    assert "Joined on or after Jan. 1, 2020" in page
    assert "data-progress-url" not in page
    listing = manager_client.get(reverse("dashboard:campaigns")).content.decode()
    assert "Rainy Monday" in listing
    assert "Rainy day cookie" in listing


def test_a_queued_campaign_page_polls_its_progress(world_a, manager_client, program_a, customers):
    # Given a campaign whose task has not run yet
    reward = make_reward(world_a)
    manager_client.post(
        reverse("dashboard:campaign_create"),
        {"template": reward.pk, "program": program_a.pk, "marketing_consent": "on"},
    )
    [campaign] = campaigns_of(world_a)
    # When the manager opens its page and the progress answer
    progress_url = reverse("dashboard:campaign_progress", args=[campaign.pk])
    page = manager_client.get(reverse("dashboard:campaign_detail", args=[campaign.pk]))
    progress = manager_client.get(progress_url).json()
    # Then the name defaults to the reward, the page polls, and 0 of 2 are processed
    assert campaign.name == "Rainy day cookie"
    assert f'data-progress-url="{progress_url}"' in page.content.decode()
    assert "js/dashboard-progress.js" in page.content.decode()
    assert (progress["status"], progress["processed"], progress["total"]) == ("queued", 0, 2)
    assert progress["done"] is False


def test_another_businesss_program_or_reward_cannot_be_used(world_a, world_b, manager_client):
    # Given B's program and reward, when A's manager posts them in the campaign form
    program_b, reward_b = make_program(world_b), make_reward(world_b)
    make_program(world_a)
    make_reward(world_a)
    response = manager_client.post(
        reverse("dashboard:campaign_create"),
        {"template": reward_b.pk, "program": program_b.pk},
    )
    # Then the form refuses them and no campaign exists anywhere
    assert response.status_code == 400
    assert campaigns_of(world_a) == []
    assert campaigns_of(world_b) == []


def test_another_businesss_campaign_answers_404(world_a, world_b, manager_client):
    program_b, reward_b = make_program(world_b), make_reward(world_b)
    with tenant_scope(world_b.tenant):
        campaign_b = campaign_create(
            tenant=world_b.tenant,
            name="Bravo",
            template=reward_b,
            program=program_b,
            segment={},
            actor=None,
        )
    for name in ("dashboard:campaign_detail", "dashboard:campaign_progress"):
        assert manager_client.get(reverse(name, args=[campaign_b.pk])).status_code == 404


@pytest.mark.parametrize(
    "name", ["dashboard:campaigns", "dashboard:campaign_create", "dashboard:campaign_segment_count"]
)
def test_staff_cannot_reach_campaigns(world_a, name):
    assert world_a.staff_client.get(reverse(name)).status_code == 403
