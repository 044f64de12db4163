"""Invariant 4 under fire: every voucher redeemed exactly once, over HTTP, on PostgreSQL."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest
import requests
from django.db import connection

from redemption.models import Redemption
from tenants.scoping import tenant_scope
from vouchers.models import Voucher

ATTACKERS = 32


def attack(base_url, api_key, vouchers, attackers=ATTACKERS):
    """Each voucher is hit by `attackers` simultaneous redeem requests; returns status codes."""
    session_headers = {"Authorization": f"Bearer {api_key}"}
    statuses: list[int] = []
    with ThreadPoolExecutor(max_workers=attackers) as pool:
        for voucher in vouchers:
            barrier = Barrier(attackers)

            def hit(_i, code=voucher.code, barrier=barrier):
                barrier.wait()
                return requests.post(
                    f"{base_url}/api/v1/redeem",
                    json={"code": code},
                    headers=session_headers,
                    timeout=60,
                ).status_code

            statuses += list(pool.map(hit, range(attackers)))
    return statuses


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_200_vouchers_each_attacked_by_32_requests_redeem_exactly_once(live_server, world_a, issue):
    vouchers = [issue("redeem_code") for _ in range(200)]
    statuses = attack(live_server.url, world_a.api_key, vouchers)
    assert statuses.count(200) == 200
    assert statuses.count(409) == 200 * (ATTACKERS - 1)
    assert not [s for s in statuses if s >= 500]
    with tenant_scope(world_a.tenant):
        assert Redemption.objects.count() == 200
        assert Voucher.objects.filter(state="redeemed").count() == 200


def read_check_save_redeem(*, voucher, channel, actor, now=None):
    """The classic bug, for the test to prove it can catch it: read, check, then save,
    with no row lock and no constraint-backed record."""
    from redemption.services import RedemptionRefused

    fresh = Voucher.objects.get(pk=voucher.pk)
    if fresh.state != Voucher.State.ACTIVE:
        raise RedemptionRefused("Already redeemed.", "already_redeemed", 409)
    time.sleep(0.01)  # the work a real implementation does between its read and its write
    Voucher.objects.filter(pk=voucher.pk).update(state=Voucher.State.REDEEMED)

    class Fake:
        pk = 0
        created_at = fresh.issued_at
        actor_label = ""
        location = None
        channel = "api"

    return Fake()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_attack_catches_a_read_check_save_implementation(
    live_server, world_a, issue, monkeypatch
):
    import redemption.api

    monkeypatch.setattr(redemption.api, "voucher_redeem", read_check_save_redeem)
    vouchers = [issue("redeem_code") for _ in range(20)]
    statuses = attack(live_server.url, world_a.api_key, vouchers)
    # The buggy version lets several requests win the same voucher: the check above fails.
    assert statuses.count(200) > 20


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_rate_limit_holds_across_two_server_processes_sharing_redis(world_a, issue, settings):
    voucher = issue("redeem_code")
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": (
            f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        ),
        "STAMPWISE_TESTING": "1",
        "DEBUG": "0",
        "CACHE_KEY_PREFIX": settings.CACHES["default"].get("KEY_PREFIX", "stampwise"),
    }
    ports = [_free_port(), _free_port()]
    servers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "config.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
                "--log-level",
                "warning",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for port in ports
    ]
    try:
        urls = [f"http://127.0.0.1:{port}" for port in ports]
        deadline = time.time() + 30
        for url in urls:
            while True:
                try:
                    requests.get(f"{url}/accounts/login/", timeout=2)
                    break
                except requests.ConnectionError:
                    assert time.time() < deadline, "server did not start"
                    time.sleep(0.2)
        headers = {"Authorization": f"Bearer {world_a.api_key}"}
        answers = [
            requests.post(
                f"{urls[i % 2]}/api/v1/redeem",
                json={"code": f"NOPE{i:06d}"},
                headers=headers,
                timeout=10,
            ).status_code
            for i in range(10)
        ]
        assert answers == [404] * 10  # five failures on each process
        blocked = [
            requests.post(
                f"{url}/api/v1/redeem", json={"code": voucher.code}, headers=headers, timeout=10
            )
            for url in urls
        ]
        assert [r.status_code for r in blocked] == [429, 429]
        assert all(int(r.headers["Retry-After"]) > 0 for r in blocked)
    finally:
        for server in servers:
            server.terminate()
            server.wait(10)
