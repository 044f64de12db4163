"""Outgoing webhooks: stamp.added, voucher.issued, voucher.redeemed.

Each delivery is a row, enqueued after commit, POSTed as JSON and signed with HMAC-SHA256:
`Stampwise-Signature: t=<unix time>,v1=<hex HMAC of "<t>.<body>" with the endpoint secret>`.
Failures are retried by Celery with exponential backoff.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import time
from functools import partial
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext as _

from tenants.models import Tenant, WebhookDelivery, WebhookEndpoint

EVENTS = [choice for choice, _label in WebhookEndpoint.Event.choices]


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(secret: str, header: str, body: bytes, *, tolerance: int = 300) -> bool:
    """What a receiver does (documented for integrators, used by the tests)."""
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(time.time() - timestamp) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), header)


@transaction.atomic
def webhook_endpoint_create(*, tenant: Tenant, url: str, events: list[str]) -> WebhookEndpoint:
    from django.conf import settings

    if not url.startswith("https://") and not (settings.DEBUG or settings.TESTING):
        raise ValidationError({"url": _("Use an https:// address.")})
    unknown = set(events) - set(EVENTS)
    if unknown or not events:
        raise ValidationError({"events": _("Choose at least one event.")})
    return WebhookEndpoint.objects.create(
        tenant=tenant, url=url, events=sorted(set(events)), secret=secrets.token_hex(24)
    )


def webhook_endpoint_set_active(*, endpoint: WebhookEndpoint, active: bool) -> None:
    endpoint.is_active = active
    endpoint.save(update_fields=["is_active"])


def webhook_emit(*, tenant_id: int, event: str, payload: dict[str, Any]) -> int:
    """Record a delivery per subscribed endpoint and send each after commit."""
    endpoints = [
        e
        for e in WebhookEndpoint.objects.filter(tenant_id=tenant_id, is_active=True)
        if event in e.events
    ]
    for endpoint in endpoints:
        delivery = WebhookDelivery.objects.create(
            tenant_id=tenant_id,
            endpoint=endpoint,
            event=event,
            payload={"event": event, "data": payload},
        )
        transaction.on_commit(partial(_enqueue, delivery))
    return len(endpoints)


def _enqueue(delivery: WebhookDelivery) -> None:
    from tenants.tasks import deliver_webhook

    try:
        deliver_webhook.apply_async(
            kwargs={"tenant_id": delivery.tenant_id, "delivery_id": delivery.pk}
        )
    except Exception:  # committed already: the delivery row stays pending and visible
        logging.getLogger(__name__).exception("could not enqueue webhook %s", delivery.pk)


def delivery_body(delivery: WebhookDelivery) -> bytes:
    body = {"id": delivery.pk, "created_at": delivery.created_at.isoformat(), **delivery.payload}
    return json.dumps(body, separators=(",", ":"), sort_keys=True).encode()


def webhook_deliveries_recent(*, tenant: Tenant, limit: int = 20) -> list[WebhookDelivery]:
    return list(WebhookDelivery.objects.filter(tenant=tenant).select_related("endpoint")[:limit])


def access_webhook_endpoint(*, tenant: Tenant, endpoint_id: int) -> WebhookEndpoint:
    """The tenant's endpoint or 404 (the same for another tenant's and a missing one)."""
    endpoint = WebhookEndpoint.objects.filter(tenant=tenant, pk=endpoint_id).first()
    if endpoint is None:
        raise Http404
    return endpoint


def webhook_endpoint_list(*, tenant: Tenant) -> list[WebhookEndpoint]:
    return list(WebhookEndpoint.objects.filter(tenant=tenant))
