"""Stripe-style idempotency keys for API POSTs.

The same key with the same request replays the first answer; with a different request it
answers 422. The record is inserted first, in the same transaction as the work: a concurrent
request with the same key waits on the unique index until the first commits, then replays it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction

from tenants.models import IdempotencyRecord, Tenant

MAX_KEY_LENGTH = 255


class IdempotencyMismatch(Exception):
    """The key was used before with a different request."""


def request_fingerprint(method: str, path: str, body: Any) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{method} {path}\n{canonical}".encode()).hexdigest()


def run_idempotent(
    *,
    tenant: Tenant,
    key: str,
    fingerprint: str,
    action: Callable[[], tuple[int, dict[str, Any]]],
) -> tuple[int, dict[str, Any], bool]:
    """(status, body, replayed). `action` returns the answer to store; 5xx are not stored.

    Raises IdempotencyMismatch when the key was used for a different request.
    """
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    tenant=tenant, key=key, fingerprint=fingerprint
                )
        except IntegrityError:
            record = None
        if record is not None:
            status, body = action()
            if status < 500:
                record.status_code = status
                record.response = body
                record.save(update_fields=["status_code", "response"])
                return status, body, False
            transaction.set_rollback(True)
            return status, body, False
    existing = IdempotencyRecord.objects.get(tenant=tenant, key=key)
    if existing.fingerprint != fingerprint:
        raise IdempotencyMismatch
    return existing.status_code or 200, existing.response or {}, True
