"""The analytics page: what the owner sees for the last 30 days."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from loyalty.services import card_add_stamps, customer_join, program_create
from tenants.scoping import tenant_scope

pytestmark = pytest.mark.django_db


def test_analytics_counts_stamps_joins_and_busy_hours(world_a):
    with tenant_scope(world_a.tenant):
        program = program_create(tenant=world_a.tenant, data={"name": "P", "reward_text": "x"})
        cards = [customer_join(program=program, name=f"C{i}")[0] for i in range(3)]
        now = timezone.now()
        card_add_stamps(card=cards[0], count=2, source="staff", now=now - timedelta(days=1))
        card_add_stamps(card=cards[1], count=3, source="staff", now=now)
        card_add_stamps(card=cards[2], count=4, source="staff", now=now - timedelta(days=40))
    page = world_a.client_for(world_a.manager).get("/dashboard/analytics/")
    assert page.status_code == 200
    html = page.content.decode()
    stamps = html.split('data-testid="chart-stamps"')[1]
    assert re.search(r'class="chart-total">5<', stamps)  # the 40-day-old stamps are outside
    joins = html.split('data-testid="chart-joins"')[1]
    assert re.search(r'class="chart-total">3<', joins)
    assert html.count('class="hm-cell"') == 7 * 24
    assert world_a.staff_client.get("/dashboard/analytics/").status_code == 403
