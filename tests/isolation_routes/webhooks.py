"""The owner's webhook settings."""

from __future__ import annotations

from typing import Any

from tests.isolation import Route

ROUTES: dict[str, Route] = {
    "dashboard:webhooks": Route("session"),
    "dashboard:analytics": Route("session"),
    "dashboard:webhook_toggle": Route(
        "session", lambda o: {"endpoint_id": o["webhook"].pk}, ("post",)
    ),
}


def build_objects(world_b: Any, objects: dict[str, Any]) -> dict[str, Any]:
    from tenants.scoping import tenant_scope
    from tenants.webhooks import webhook_endpoint_create
    from tests.isolation import MARKER

    with tenant_scope(world_b.tenant):
        endpoint = webhook_endpoint_create(
            tenant=world_b.tenant,
            url=f"https://{MARKER.lower()}.example/hook",
            events=["stamp.added"],
        )
    return {"webhook": endpoint}
