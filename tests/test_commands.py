from __future__ import annotations

import io
import subprocess
import sys

import pytest
from django.core.management import call_command
from django_scopes import scopes_disabled

from tenants.models import ApiKey, Membership, Tenant

pytestmark = pytest.mark.django_db


def test_seed_demo_is_idempotent():
    call_command("seed_demo", stdout=io.StringIO())
    call_command("seed_demo", stdout=io.StringIO())
    assert set(Tenant.objects.values_list("slug", flat=True)) == {"demo-cafe", "demo-salon"}
    with scopes_disabled():
        roles = sorted(
            Membership.objects.filter(tenant__slug="demo-cafe").values_list("role", flat=True)
        )
    assert roles == ["manager", "owner", "staff"]
    from loyalty.models import Card

    with scopes_disabled():
        cafe_cards = Card.objects.filter(tenant__slug="demo-cafe")
        assert cafe_cards.count() == 5
        stages = sorted((c.cycle, c.stamps) for c in cafe_cards if c.customer.name != "Sam Rivera")
        assert stages == [(1, 0), (1, 3), (1, 7), (2, 2)]
        from vouchers.models import Voucher, VoucherTrigger

        states = set(
            Voucher.objects.filter(tenant__slug="demo-cafe").values_list("state", flat=True)
        )
        assert states == {"issued", "active", "redeemed", "expired", "void"}
        methods = set(
            Voucher.objects.filter(tenant__slug="demo-cafe").values_list(
                "template__method", flat=True
            )
        )
        assert methods == {"self", "staff_scan", "redeem_code"}
        goal = VoucherTrigger.objects.get(program__tenant__slug="demo-cafe", kind="stamp_goal")
        assert goal.template.method == "redeem_code"
        assert (
            Voucher.objects.filter(tenant__slug="demo-cafe", template__pool__isnull=False)
            .exclude(code="")
            .exists()
        )


def test_create_api_key_prints_the_key_alone(world_a):
    out = io.StringIO()
    call_command("create_api_key", "alpha", "--name", "POS", stdout=out)
    raw = out.getvalue().strip()
    assert raw.startswith("sw_")
    assert "\n" not in raw
    from django.test import Client

    assert (
        Client(headers={"Authorization": f"Bearer {raw}"}).get("/api/v1/whoami").json()["name"]
        == "POS"
    )
    with scopes_disabled():
        assert ApiKey.objects.filter(name="POS").count() == 1


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "DEBUG": "0",
        "STAMPWISE_TESTING": "",
        "SECRET_KEY": "x" * 64 + "-production-like-secret-key-value",
        "ALLOWED_HOSTS": "stampwise.example",
        "PUBLIC_BASE_URL": "https://stampwise.example",
        "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_the_development_secret_key(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "DEBUG": "0", "STAMPWISE_TESTING": ""}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_api_docs_are_served_without_a_cdn(client):
    page = client.get("/api/docs/").content.decode()
    assert "drf_spectacular_sidecar" in page
    assert "cdn.jsdelivr" not in page
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/redeem" in schema.content
