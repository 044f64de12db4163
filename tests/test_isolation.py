"""Invariant 1: tenant A's users and API keys can never read or change tenant B's rows."""

from __future__ import annotations

import pytest
from django.http import HttpResponse
from django.urls import path
from django_scopes import scopes_disabled

from tests import isolation
from tests.isolation import MARKER, Route, all_routes, exercise, iter_url_names, snapshot_tenant

pytestmark = pytest.mark.django_db


@pytest.fixture
def marked_b(world_b):
    """Tenant B with a distinctive marker in every name a page could show."""
    with scopes_disabled():
        tenant = world_b.tenant
        tenant.name = f"{MARKER} Business"
        tenant.save()
        world_b.location.name = f"{MARKER} Street"
        world_b.location.save()
        for user in (world_b.owner, world_b.manager, world_b.staff):
            user.first_name = MARKER
            user.save()
    return world_b


def test_every_url_pattern_is_known_to_the_harness():
    # Given the project's URL patterns, when compared with the harness's table,
    # then each one is listed (a new URL must be taught to the harness before it lands).
    names = dict(iter_url_names())
    unknown = sorted(set(names) - set(all_routes()))
    assert not unknown, f"URLs the isolation harness cannot exercise yet: {unknown}"
    stale = sorted(set(all_routes()) - set(names))
    assert not stale, f"Harness lists URLs that no longer exist: {stale}"


@pytest.mark.parametrize("role", ["owner", "staff"])
def test_tenant_a_cannot_reach_tenant_b_anywhere(world_a, marked_b, role):
    # Given two businesses, when A's people and A's API key ask for B's objects on every URL,
    # then each answer is 404 or 403, none shows B's data, and B's rows are unchanged.
    objects = isolation.build_objects(marked_b)
    objects["tenant_b_id"] = marked_b.tenant.pk
    before = snapshot_tenant(marked_b.tenant.pk)
    session = world_a.client_for(getattr(world_a, role))
    problems: list[str] = []
    for name, route in all_routes().items():
        problems += exercise(name, route, session=session, api=world_a.api, objects=objects)
    assert problems == []
    assert snapshot_tenant(marked_b.tenant.pk) == before


def _leaky_view(request, membership_id):
    from tenants.models import Membership

    # A deliberately broken view: it reads across tenants.
    with scopes_disabled():
        membership = Membership.objects.get(pk=membership_id)
    return HttpResponse(f"{membership.user.first_name} {membership.user.email}")


urlpatterns = [path("leak/<int:membership_id>/", _leaky_view, name="leak")]


def test_harness_catches_a_leaking_view(world_a, marked_b, settings):
    # Given a view that ignores the tenant scope, when the harness exercises it,
    # then it reports the leak (so the harness can fail).
    settings.ROOT_URLCONF = __name__
    objects = isolation.build_objects(marked_b)
    objects["tenant_b_id"] = marked_b.tenant.pk
    route = Route("session", lambda o: {"membership_id": o["membership"].pk})
    problems = exercise(
        "leak", route, session=world_a.owner_client, api=world_a.api, objects=objects
    )
    assert any("shows tenant B's data" in p for p in problems)
    assert any("answered 200" in p for p in problems)


def test_unknown_api_key_gets_401_not_data(world_b):
    response = world_b.api.__class__(headers={"Authorization": "Bearer sw_nope_nope"}).get(
        "/api/v1/whoami"
    )
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"
