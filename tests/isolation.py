"""The tenant-isolation harness: every URL pattern of the project, asked by tenant A for B's data.

Each named URL must be listed in ROUTES with how to exercise it. A URL that is not listed makes
`tests/test_isolation.py` fail until it is taught here. Later features extend the harness by
adding their URLs and, where they need them, tenant B's objects in `build_objects`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django_scopes import scopes_disabled

Kwargs = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class Route:
    """How to exercise one URL.

    kind:
      "session": a logged-in page of the active tenant; with B's object ids in `kwargs`.
      "api": an API endpoint called with A's key; with B's object ids in `kwargs`.
      "public": a token page; `kwargs` gives B's token, which must show B's data only.
      "open": no tenant data at all (home, login, schema, ...).
    Session and API routes without kwargs are list pages: they must not show B's markers.
    """

    kind: str
    kwargs: Kwargs | None = None
    methods: tuple[str, ...] = ("get",)
    post_data: dict[str, Any] = field(default_factory=dict)


MARKER = "BRAVOSECRET"


def build_objects(world_b: Any) -> dict[str, Any]:
    """Tenant B's objects, named, for the routes' kwargs. Built with scopes disabled."""
    from tenants.models import ApiKey, Membership

    with scopes_disabled():
        return {
            "membership": Membership.objects.filter(tenant=world_b.tenant).first(),
            "api_key": ApiKey.objects.filter(tenant=world_b.tenant).first(),
            "location": world_b.location,
            **_domain_objects(world_b),
        }


def _domain_objects(world_b: Any) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    with scopes_disabled():
        for module in _route_modules():
            builder = getattr(module, "build_objects", None)
            if builder is not None:
                extra.update(builder(world_b, extra))
    return extra


def _route_modules() -> list[Any]:
    """Each feature area keeps its URLs in tests/isolation_routes/<area>.py:
    `ROUTES: dict[str, Route]` and optionally `build_objects(world_b, objects) -> dict`."""
    import importlib
    import pkgutil

    import tests.isolation_routes as package

    return [
        importlib.import_module(f"{package.__name__}.{info.name}")
        for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name)
    ]


BASE_ROUTES: dict[str, Route] = {
    "home": Route("open"),
    "signup": Route("open"),
    "login": Route("open"),
    "logout": Route("open", methods=()),
    "password_reset": Route("open"),
    "password_reset_done": Route("open"),
    "password_reset_confirm": Route("open", methods=()),
    "password_reset_complete": Route("open"),
    "switch_tenant": Route("session", methods=("post",), post_data={"tenant_id": "B"}),
    "no_business": Route("open"),
    "invitation_accept": Route("open", methods=()),
    "set_language": Route("open", methods=()),
    "api_schema": Route("open"),
    "api_docs": Route("open"),
    "media": Route("open", methods=()),
    "api_whoami": Route("api"),
    "staff:counter": Route("session"),
    "dashboard:index": Route("session"),
    "dashboard:team": Route("session"),
    "dashboard:membership_edit": Route(
        "session",
        lambda o: {"membership_id": o["membership"].pk},
        ("get", "post"),
        {"role": "staff"},
    ),
    "dashboard:membership_remove": Route(
        "session", lambda o: {"membership_id": o["membership"].pk}, ("post",)
    ),
    "dashboard:locations": Route("session"),
    "dashboard:api_keys": Route("session"),
    "dashboard:api_key_revoke": Route(
        "session", lambda o: {"api_key_id": o["api_key"].pk}, ("post",)
    ),
}


def all_routes() -> dict[str, Route]:
    routes = dict(BASE_ROUTES)
    for module in _route_modules():
        routes.update(module.ROUTES)
    return routes


def iter_url_names(
    patterns: list[Any] | None = None, namespace: str = ""
) -> Iterator[tuple[str, str]]:
    """(qualified name, route text) of every named URL pattern, admin excluded."""
    if patterns is None:
        patterns = get_resolver().url_patterns
    for entry in patterns:
        if isinstance(entry, URLResolver):
            if entry.app_name == "admin":
                continue
            ns = entry.namespace
            yield from iter_url_names(entry.url_patterns, f"{namespace}{ns}:" if ns else namespace)
        elif isinstance(entry, URLPattern):
            if entry.name:
                yield f"{namespace}{entry.name}", str(entry.pattern)
            else:
                yield f"<unnamed {entry.pattern}>", str(entry.pattern)


def snapshot_tenant(tenant_id: int) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every tenant-owned model of one tenant, to prove nothing changed."""
    rows: dict[str, list[tuple[Any, ...]]] = {}
    with scopes_disabled():
        for model in apps.get_models():
            names = {f.name for f in model._meta.get_fields()}
            if "tenant" not in names:
                continue
            manager = model._base_manager
            values = manager.filter(tenant_id=tenant_id).order_by("pk").values_list()
            rows[model._meta.label] = [tuple(str(v) for v in row) for row in values]
    return rows


def exercise(
    name: str, route: Route, *, session: Client, api: Client, objects: dict[str, Any]
) -> list[str]:
    """Ask for tenant B's data as tenant A; the problems found (empty when isolated)."""
    problems: list[str] = []
    if route.kind not in {"session", "api"}:
        return problems
    client = session if route.kind == "session" else api
    kwargs = route.kwargs(objects) if route.kwargs else {}
    url = reverse(name, kwargs=kwargs)
    for method in route.methods:
        data = {
            k: (str(objects["tenant_b_id"]) if v == "B" else v) for k, v in route.post_data.items()
        }
        if method == "get":
            response = client.get(url)
        elif route.kind == "api":
            response = client.generic(
                method.upper(),
                url,
                data=__import__("json").dumps(data),
                content_type="application/json",
            )
        else:
            response = client.post(url, data)
        raw = b"".join(response.streaming_content) if response.streaming else response.content
        body = raw.decode(errors="replace")
        if MARKER in body:
            problems.append(f"{name} {method.upper()} {url}: shows tenant B's data")
        if route.kwargs and response.status_code not in (403, 404):
            problems.append(
                f"{name} {method.upper()} {url}: answered {response.status_code}, not 404/403"
            )
        if response.status_code >= 500:
            problems.append(f"{name} {method.upper()} {url}: server error")
    return problems
