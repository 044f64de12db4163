"""Tenancy fails closed."""

from __future__ import annotations

import pytest
from django_scopes import ScopeError

from tenants.models import Location
from tenants.scoping import tenant_scope

pytestmark = pytest.mark.django_db


def test_query_on_tenant_owned_model_outside_a_scope_raises(world_a):
    # Given rows of a tenant, when code queries them with no tenant scope active,
    # then it raises instead of answering with every tenant's rows.
    with pytest.raises(ScopeError):
        list(Location.objects.all())
    with pytest.raises(ScopeError):
        Location.objects.filter(name="x").exists()


def test_scope_shows_only_that_tenants_rows(world_a, world_b):
    with tenant_scope(world_a.tenant):
        names = list(Location.objects.values_list("name", flat=True))
    assert names == [world_a.location.name]


def test_tenant_scope_refuses_a_missing_tenant():
    # django-scopes treats tenant=None as "no filter"; ours refuses it.
    with pytest.raises(ValueError, match="saved tenant"):
        with tenant_scope(None):  # type: ignore[arg-type]
            pass


def test_unscoped_reads_are_confined_to_resolver_selectors():
    # Cross-tenant reads (by token, by API key hash, by user) exist only in selectors.
    import pathlib
    import subprocess

    root = pathlib.Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [
            "git",
            "grep",
            "--untracked",
            "-l",
            "-e",
            "with_scopes_disabled",
            "-e",
            "scopes_disabled()",
            "--",
            "*.py",
            ":!tests/*",
            ":!conftest.py",
        ],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()
    allowed_suffixes = ("selectors.py", "middleware.py", "admin.py", "services.py")
    allowed_dirs = ("/management/commands/", "/migrations/")
    offenders = [
        f
        for f in out
        if not f.endswith(allowed_suffixes)
        and not any(d in f"/{f}" for d in allowed_dirs)
        and not f.endswith("/demo.py")
    ]
    assert offenders == []
