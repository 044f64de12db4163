"""Wallet pushes through a real Celery worker on Redis, and what happens when it dies mid-push.

Each test starts its own worker subprocess on a queue no one else consumes, against the
pytest database and a local HTTP/2 APNs stand-in, and kills it (and its children) at the end.
The stamp is made in the test process with eager Celery switched off, so the push really
travels test process -> Redis -> worker -> APNs stand-in.

Redelivery after a dead worker (acks_late): the message stays in kombu's ``unacked`` hash;
a worker restores it once ``visibility_timeout`` has passed. kombu 5.7 sweeps when a worker
starts and then only every ``unacked_restore_interval * unacked_restore_throttle`` seconds
(10 * 10 by default), so the replacement worker is started after the timeout has passed
and its start-up sweep brings the push back.
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client
from django_scopes import scopes_disabled

from loyalty.models import Card, StampSource
from loyalty.services import card_add_stamps, customer_join, program_create
from tenants.scoping import tenant_scope
from tests.wallet.apns_server import ApnsStandIn, make_tls_files
from wallet import apns
from wallet.models import AppleRegistration, WalletPass

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
]

BASE_DIR = Path(django_settings.BASE_DIR)
KEY_ID = "KILLTEST01"
TEAM_ID = "DEVTEAM000"
VISIBILITY_TIMEOUT = 5
TOKENS = ["a1" * 32, "b2" * 32, "c3" * 32]
GONE = TOKENS[2]  # answers 410 Unregistered
WORKER_START_TIMEOUT = 60.0
PUSH_TIMEOUT = 30.0


def wait_for(
    condition: Callable[[], Any], timeout: float, what: str, on_fail: Callable[[], str] = str
) -> float:
    """Poll until `condition()` is truthy; returns the seconds it took. Bounded: fails the
    test with `what` (and `on_fail()`, e.g. the worker's log) after `timeout` seconds."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > timeout:
            pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}\n{on_fail()}")
        time.sleep(0.05)
    return time.monotonic() - start


class Worker:
    """`python -m celery -A config worker` on its own queue, in its own process group."""

    def __init__(self, *, queue: str, env: dict[str, str], log_path: Path, pool: str) -> None:
        self.queue, self.env, self.log_path, self.pool = queue, env, log_path, pool
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Worker:
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "-P",
            self.pool,
            "-c",
            "1",
            "-Q",
            self.queue,
            "-n",
            f"{self.queue}-{uuid.uuid4().hex[:6]}@%h",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-l",
            "info",
        ]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command,
                cwd=BASE_DIR,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: one killpg ends its children
            )
        wait_for(
            lambda: " ready." in self.log(tail=None) or self.process.poll() is not None,  # type: ignore[union-attr]
            WORKER_START_TIMEOUT,
            "the Celery worker to start",
            self.log,
        )
        if self.process.poll() is not None:
            pytest.fail(f"the Celery worker exited at start\n{self.log()}")
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def children(self) -> list[int]:
        path = Path(f"/proc/{self.pid}/task/{self.pid}/children")
        return [int(pid) for pid in path.read_text().split()] if path.exists() else []

    def log(self, tail: int | None = 6000) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""
        return text[-tail:] if tail else text

    def kill(self) -> None:
        """SIGKILL to the worker and everything it started; waits for it to be gone."""
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=10)


@dataclass
class Rig:
    """One test's worker environment: the queue, the APNs stand-in and the worker env."""

    queue: str
    apns: ApnsStandIn
    env: dict[str, str]
    log_dir: Path
    redis: Any
    workers: list[Worker]

    def worker(self, pool: str = "solo") -> Worker:
        worker = Worker(
            queue=self.queue,
            env=self.env,
            log_path=self.log_dir / f"worker-{len(self.workers) + 1}.log",
            pool=pool,
        )
        self.workers.append(worker)  # before start: a worker that hangs at start is killed too
        return worker.start()

    def logs(self) -> str:
        return "\n".join(f"--- {w.log_path.name}\n{w.log()}" for w in self.workers)

    def unacked_push(self) -> tuple[str, float] | None:
        """kombu's record of a push_card message delivered from our queue but not
        acknowledged: (delivery tag, delivered at), or None."""
        for tag, raw in self.redis.hgetall("unacked").items():
            try:
                message, _exchange, routing_key = json.loads(raw)
                task = message["headers"]["task"]
            except (ValueError, TypeError, KeyError):
                continue  # another producer's message, in a shape we do not read
            if routing_key == self.queue and task == "wallet.tasks.push_card":
                score = self.redis.zscore("unacked_index", tag)
                return tag.decode(), float(score or 0)
        return None


def database_url() -> str:
    """The pytest database (test_...), as the worker subprocess must see it."""
    db = connection.settings_dict
    user = quote(db.get("USER") or "", safe="")
    password = quote(db.get("PASSWORD") or "", safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    return f"postgres://{credentials}{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def purge(redis: Any, queue: str) -> None:
    """Leave nothing of this test's queue in Redis: the list(s), the bindings and any
    unacknowledged delivery of it."""
    for key in redis.scan_iter(match=f"{queue}*"):
        redis.delete(key)
    redis.delete(f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")
    for tag, raw in redis.hgetall("unacked").items():
        try:
            routing_key = json.loads(raw)[2]
        except (ValueError, IndexError, TypeError):
            continue
        if routing_key == queue:
            redis.hdel("unacked", tag)
            redis.zrem("unacked_index", tag)


@pytest.fixture
def rig(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, settings: Any) -> Iterator[Rig]:
    import redis as redis_lib

    from config.celery import app

    # The same development certificate chain as the worker's, so the pass type ids match.
    data_dir = tmp_path_factory.getbasetemp() / "wallet-data"
    settings.DATA_DIR = data_dir
    tls = make_tls_files(tmp_path / "tls")
    key = ec.generate_private_key(ec.SECP256R1())
    key_path = tmp_path / f"AuthKey_{KEY_ID}.p8"
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    queue = f"sw-test-walletkill-{uuid.uuid4().hex[:12]}"
    redis = redis_lib.Redis.from_url(os.environ["REDIS_URL"])
    purge(redis, queue)
    eager, default_queue = app.conf.task_always_eager, app.conf.task_default_queue
    with ApnsStandIn(
        tls, token_public_key=key.public_key(), key_id=KEY_ID, team_id=TEAM_ID
    ) as stand_in:
        stand_in.unregister(GONE)
        env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "REDIS_URL": os.environ["REDIS_URL"],
            "STAMPWISE_TESTING": "1",
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
            "STAMPWISE_DATA_DIR": str(data_dir),
            "APNS_HOST": stand_in.url,
            "APNS_CA_FILE": str(tls.ca_path),
            "APNS_KEY_PATH": str(key_path),
            "APNS_KEY_ID": KEY_ID,
            "APPLE_TEAM_ID": TEAM_ID,
            "LOG_FORMAT": "plain",
            "PYTHONUNBUFFERED": "1",
        }
        rig = Rig(queue, stand_in, env, tmp_path, redis, [])
        # This process enqueues for real, and only onto the queue our worker consumes.
        app.conf.task_always_eager = False
        app.conf.task_default_queue = queue
        try:
            yield rig
        finally:
            app.conf.task_always_eager = eager
            app.conf.task_default_queue = default_queue
            for worker in rig.workers:
                worker.kill()
            purge(redis, queue)
            redis.close()
            apns.configure(None)


@pytest.fixture
def registered_card(world_a: Any, settings: Any) -> Card:
    """A card whose pass three devices downloaded and registered (PassKit web service)."""
    with tenant_scope(world_a.tenant):
        program = program_create(
            tenant=world_a.tenant,
            data={"name": "Coffee", "stamp_goal": 5, "reward_text": "a free coffee"},
        )
        card, _ = customer_join(program=program, name="Maya", email="maya@example.test")
    download = Client().get(f"/card/{card.token}/pass.pkpass")
    assert download.status_code == 200
    pass_json = json.loads(zipfile.ZipFile(io.BytesIO(download.content)).read("pass.json"))
    for number, token in enumerate(TOKENS):
        response = Client().post(
            f"/passkit/v1/devices/device{number}/registrations/"
            f"{pass_json['passTypeIdentifier']}/{pass_json['serialNumber']}",
            json.dumps({"pushToken": token}),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"ApplePass {pass_json['authenticationToken']}",
        )
        assert response.status_code == 201
    return card


def stamp(world: Any, card: Card) -> int:
    """One stamp at the counter, committed; returns the card's new version."""
    with tenant_scope(world.tenant):
        return card_add_stamps(card=card, count=1, source=StampSource.STAFF).card.version


def pushed_tokens(stand_in: ApnsStandIn) -> list[str]:
    return sorted(r.device_token or "" for r in stand_in.requests)


def wallet_state(card: Card) -> tuple[int, list[str]]:
    with scopes_disabled():
        wallet_pass = WalletPass.objects.get(card=card)
        tokens = sorted(
            AppleRegistration.objects.filter(wallet_pass=wallet_pass).values_list(
                "push_token", flat=True
            )
        )
    return wallet_pass.apple_pushed_version, tokens


def test_a_stamp_reaches_every_device_through_the_worker(
    world_a: Any, registered_card: Card, rig: Rig
) -> None:
    # given a worker on Redis, and a card in three devices' wallets (one of them gone)
    rig.worker()

    # when staff stamps the card
    version = stamp(world_a, registered_card)

    # then the worker pushes to every registered device and forgets the 410 one
    took = wait_for(
        lambda: len(rig.apns.requests) >= len(TOKENS), PUSH_TIMEOUT, "3 pushes", rig.logs
    )
    wait_for(
        lambda: wallet_state(registered_card) == (version, sorted(TOKENS[:2])),
        PUSH_TIMEOUT,
        "the pushed version and the 410 registration removed",
        rig.logs,
    )
    assert pushed_tokens(rig.apns) == sorted(TOKENS)
    assert {r.status for r in rig.apns.requests if r.device_token == GONE} == {410}
    assert all(r.headers["apns-topic"] == "pass.dev.stampwise" for r in rig.apns.requests)
    assert all(r.body == b"{}" for r in rig.apns.requests)
    assert rig.unacked_push() is None  # acknowledged once done
    print(f"stamp -> 3 APNs pushes via Redis and the worker: {took:.2f}s")  # noqa: T201


def test_a_worker_killed_mid_push_loses_no_push(
    world_a: Any, registered_card: Card, rig: Rig
) -> None:
    # given a worker and an APNs that takes its time to answer
    first = rig.worker()
    rig.apns.delay = 60.0

    # when the card is stamped and the worker is killed -9 while APNs holds the pushes
    version = stamp(world_a, registered_card)
    wait_for(
        lambda: len(rig.apns.received) >= len(TOKENS),
        PUSH_TIMEOUT,
        "APNs to receive the pushes",
        rig.logs,
    )
    assert rig.apns.requests == []  # received, none answered
    os.kill(first.pid, signal.SIGKILL)
    first.process.wait(timeout=10)  # type: ignore[union-attr]
    killed_at = time.time()

    # then nothing was delivered, and the broker still holds the unacknowledged push
    assert rig.apns.requests == []
    assert wallet_state(registered_card)[0] < version
    unacked = rig.unacked_push()
    assert unacked is not None, "the push left the broker although never acknowledged"
    _tag, delivered_at = unacked

    # when a new worker starts once the visibility timeout has passed
    rig.apns.delay = 0.0
    time.sleep(max(0.0, delivered_at + VISIBILITY_TIMEOUT + 1 - time.time()))
    rig.worker()

    # then the push is redelivered and reaches every device, exactly once each
    took = wait_for(
        lambda: len(rig.apns.requests) >= len(TOKENS), PUSH_TIMEOUT, "the redelivery", rig.logs
    )
    wait_for(
        lambda: wallet_state(registered_card) == (version, sorted(TOKENS[:2])),
        PUSH_TIMEOUT,
        "the pushed version recorded",
        rig.logs,
    )
    wait_for(lambda: rig.unacked_push() is None, PUSH_TIMEOUT, "the ack", rig.logs)
    assert pushed_tokens(rig.apns) == sorted(TOKENS)
    assert len(rig.apns.received) == 2 * len(TOKENS)  # the lost attempt, then the redelivery
    print(  # noqa: T201
        f"killed -> delivered: {time.time() - killed_at:.1f}s "
        f"(visibility timeout {VISIBILITY_TIMEOUT}s; {took:.2f}s after the new worker started)"
    )


def test_a_pool_process_killed_mid_push_is_requeued_at_once(
    world_a: Any, registered_card: Card, rig: Rig
) -> None:
    """reject_on_worker_lost: when a prefork child dies, its parent requeues the task at
    once instead of waiting for the visibility timeout."""
    # given a prefork worker and a slow APNs
    worker = rig.worker(pool="prefork")
    rig.apns.delay = 60.0

    # when the card is stamped and the pool process running the push is killed -9
    version = stamp(world_a, registered_card)
    wait_for(
        lambda: len(rig.apns.received) >= len(TOKENS),
        PUSH_TIMEOUT,
        "APNs to receive the pushes",
        rig.logs,
    )
    [child] = worker.children()
    os.kill(child, signal.SIGKILL)
    rig.apns.delay = 0.0

    # then the same worker runs it again in a new pool process, and every device gets it
    wait_for(
        lambda: len(rig.apns.requests) >= len(TOKENS),
        PUSH_TIMEOUT,
        "the requeued push",
        rig.logs,
    )
    wait_for(
        lambda: wallet_state(registered_card) == (version, sorted(TOKENS[:2])),
        PUSH_TIMEOUT,
        "the pushed version recorded",
        rig.logs,
    )
    # (this worker sweeps unacked messages only at its start and every 100 s, so within
    # PUSH_TIMEOUT the rerun can only come from the parent's reject-and-requeue)
    assert pushed_tokens(rig.apns) == sorted(TOKENS)
    assert worker.process.poll() is None  # type: ignore[union-attr]
    log = worker.log(tail=None)
    assert "WorkerLostError" in log
    assert "wallet.tasks.push_card" in log
    assert "succeeded" in log
