from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client
from django_scopes import scopes_disabled

from tenants.models import Invitation, Membership, Role, Tenant, User

pytestmark = pytest.mark.django_db


def test_sign_up_creates_business_with_owner_and_lands_on_dashboard(client: Client):
    response = client.post(
        "/signup/",
        {
            "business_name": "Kaffee Klatsch",
            "first_name": "Ada",
            "email": "Ada@Example.test",
            "password": "a-long-pass-phrase",
            "timezone": "Europe/Berlin",
            "language": "en",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/dashboard/"
    tenant = Tenant.objects.get(name="Kaffee Klatsch")
    assert tenant.slug == "kaffee-klatsch"
    with scopes_disabled():
        membership = Membership.objects.get(tenant=tenant)
    assert membership.user.email == "ada@example.test"
    assert membership.role == Role.OWNER
    page = client.get("/dashboard/")
    assert "Kaffee Klatsch" in page.content.decode()


def test_sign_up_with_taken_email_or_weak_password_changes_nothing(client: Client, world_a):
    before = Tenant.objects.count()
    response = client.post(
        "/signup/",
        {
            "business_name": "X",
            "first_name": "X",
            "email": world_a.owner.email,
            "password": "a-long-pass-phrase",
            "timezone": "UTC",
            "language": "en",
        },
    )
    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    response = client.post(
        "/signup/",
        {
            "business_name": "Y",
            "first_name": "Y",
            "email": "y@example.test",
            "password": "12345678",
            "timezone": "UTC",
            "language": "en",
        },
    )
    assert response.status_code == 200
    assert "too common" in response.content.decode()
    assert Tenant.objects.count() == before


def test_login_and_logout(client: Client, world_a):
    response = client.post(
        "/accounts/login/", {"username": world_a.owner.email, "password": "pw-for-tests-1"}
    )
    assert response.status_code == 302
    assert client.get("/dashboard/").status_code == 200
    client.post("/accounts/logout/")
    assert client.get("/dashboard/").status_code == 302


def test_failed_logins_are_rate_limited(client: Client, world_a, settings):
    settings.LOGIN_RATE_LIMIT = (3, 900)
    from tenants import views

    views.LOGIN_USER_LIMIT = views.ratelimit.Limit("login-user", 3, 900)
    for _ in range(3):
        response = client.post(
            "/accounts/login/", {"username": world_a.owner.email, "password": "wrong"}
        )
        assert response.status_code == 200
    # Even the right password is refused while the limit holds.
    response = client.post(
        "/accounts/login/", {"username": world_a.owner.email, "password": "pw-for-tests-1"}
    )
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "Too many failed attempts" in response.content.decode()
    views.LOGIN_USER_LIMIT = views.ratelimit.Limit("login-user", *settings.LOGIN_RATE_LIMIT)


def test_staff_cannot_reach_owner_pages(world_a):
    client = world_a.staff_client
    assert client.get("/staff/").status_code == 200
    for url in ("/dashboard/", "/dashboard/team/", "/dashboard/api-keys/"):
        assert client.get(url).status_code == 403, url
    manager = world_a.client_for(world_a.manager)
    assert manager.get("/dashboard/").status_code == 200
    assert manager.get("/dashboard/team/").status_code == 403


def test_owner_invites_staff_who_accepts_and_gets_the_role(
    world_a, django_capture_on_commit_callbacks
):
    owner = world_a.owner_client
    with django_capture_on_commit_callbacks(execute=True):
        response = owner.post("/dashboard/team/", {"email": "new@example.test", "role": "staff"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = re.search(r"http://\S+/invite/(\S+)/", mail.outbox[0].body)
    assert link
    guest = Client()
    page = guest.get(f"/invite/{link.group(1)}/")
    assert "Join Alpha" in page.content.decode()
    response = guest.post(
        f"/invite/{link.group(1)}/", {"first_name": "Nia", "password": "a-long-pass-phrase"}
    )
    assert response.status_code == 302
    user = User.objects.get(email="new@example.test")
    with scopes_disabled():
        assert Membership.objects.get(user=user).role == Role.STAFF
        assert Invitation.objects.get(email="new@example.test").accepted_at is not None
    assert guest.get("/staff/").status_code == 200
    assert guest.get("/dashboard/").status_code == 403
    # Used once only.
    again = Client().post(
        f"/invite/{link.group(1)}/", {"first_name": "Eve", "password": "a-long-pass-phrase"}
    )
    assert again.status_code in (302, 400)
    with scopes_disabled():
        assert Membership.objects.filter(user__email="new@example.test").count() == 1


def test_user_of_two_businesses_switches_between_them(world_a, world_b):
    with scopes_disabled():
        Membership.objects.create(tenant=world_b.tenant, user=world_a.owner, role=Role.MANAGER)
    client = world_a.owner_client
    assert "Alpha" in client.get("/dashboard/").content.decode()
    client.post("/accounts/switch/", {"tenant_id": world_b.tenant.pk})
    page = client.get("/dashboard/").content.decode()
    assert "<h1>Bravo</h1>" in page
    # Not a member: switching is refused.
    outsider = world_a.client_for(world_a.staff)
    outsider.post("/accounts/switch/", {"tenant_id": world_b.tenant.pk})
    assert "Bravo" not in outsider.get("/staff/").content.decode()


def test_password_reset_sends_mail(client: Client, world_a):
    response = client.post("/accounts/password-reset/", {"email": world_a.owner.email})
    assert response.status_code == 302
    assert "/accounts/reset/" in mail.outbox[0].body


def test_hebrew_renders_right_to_left(client: Client):
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="he").content.decode()
    assert '<html lang="he" dir="rtl">' in page


def test_api_key_is_shown_once_and_stored_hashed(world_a):
    from tenants.models import ApiKey

    response = world_a.owner_client.post("/dashboard/api-keys/", {"name": "Till"})
    raw = re.search(r'id="new-key">(sw_[^<]+)<', response.content.decode()).group(1)
    with scopes_disabled():
        key = ApiKey.objects.get(name="Till")
    assert raw not in key.hashed_key
    assert (
        Client(headers={"Authorization": f"Bearer {raw}"}).get("/api/v1/whoami").json()["tenant"]
        == "alpha"
    )
    assert raw not in world_a.owner_client.get("/dashboard/api-keys/").content.decode()
    world_a.owner_client.post(f"/dashboard/api-keys/{key.pk}/revoke/")
    assert (
        Client(headers={"Authorization": f"Bearer {raw}"}).get("/api/v1/whoami").status_code == 401
    )
