from __future__ import annotations

import os
from dataclasses import dataclass

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.servers.basehttp import ThreadedWSGIServer
from django.db import connection
from django.test import Client
from django.test.testcases import LiveServerThread
from django_scopes import scopes_disabled

from tenants.models import Location, Role, Tenant, User
from tenants.services import api_key_create
from tests.factories import LocationFactory, MembershipFactory, TenantFactory, UserFactory


class _WideBacklogServer(ThreadedWSGIServer):
    # Concurrency tests open dozens of connections at once; Django's default backlog of 10
    # makes the kernel reset the surplus before the server ever sees them.
    request_queue_size = 1024


LiveServerThread.server_class = _WideBacklogServer


def pytest_collection_modifyitems(config, items):  # type: ignore[no-untyped-def]
    engine = settings.DATABASES["default"]["ENGINE"]
    skip_pg = pytest.mark.skip(
        reason="needs PostgreSQL (set DATABASE_URL=postgres://...); SQLite has no row locks"
    )
    skip_redis = pytest.mark.skip(reason="needs Redis (set REDIS_URL=redis://...)")
    for item in items:
        if "postgres" in item.keywords and not engine.endswith("postgresql"):
            item.add_marker(skip_pg)
        if "redis" in item.keywords and not os.environ.get("REDIS_URL"):
            item.add_marker(skip_redis)


@pytest.fixture(autouse=True)
def _clean_cache():
    cache.clear()


@pytest.fixture(autouse=True)
def _media_root(tmp_path, settings):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def unscoped():
    """Test setup and assertions read across tenants; the code under test never does."""
    with scopes_disabled():
        yield


@dataclass
class TenantWorld:
    tenant: Tenant
    location: Location
    owner: User
    manager: User
    staff: User
    api_key: str

    def client_for(self, user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client

    @property
    def owner_client(self) -> Client:
        return self.client_for(self.owner)

    @property
    def staff_client(self) -> Client:
        return self.client_for(self.staff)

    @property
    def api(self) -> Client:
        return Client(headers={"Authorization": f"Bearer {self.api_key}"})


def make_world(name: str) -> TenantWorld:
    with scopes_disabled():
        tenant = TenantFactory(name=name.title(), slug=name)
        location = LocationFactory(tenant=tenant, name=f"{name} main")
        people = {}
        for role in (Role.OWNER, Role.MANAGER, Role.STAFF):
            user = UserFactory(email=f"{role}@{name}.test", first_name=f"{role.title()}{name}")
            MembershipFactory(tenant=tenant, user=user, role=role)
            people[str(role)] = user
        _, raw = api_key_create(tenant=tenant, name="test key")
    return TenantWorld(tenant, location, people["owner"], people["manager"], people["staff"], raw)


@pytest.fixture
def world_a(db) -> TenantWorld:  # type: ignore[no-untyped-def]
    return make_world("alpha")


@pytest.fixture
def world_b(db) -> TenantWorld:  # type: ignore[no-untyped-def]
    return make_world("bravo")


@pytest.fixture
def is_postgres() -> bool:
    return connection.vendor == "postgresql"
