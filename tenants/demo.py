"""Demo businesses and their people (idempotent). Domain apps add their part on top."""

from __future__ import annotations

from dataclasses import dataclass

from tenants.models import Location, Membership, Role, Tenant, User

DEMO_PASSWORD = "stampwise-demo"  # noqa: S105 - published demo login, demo data only

DEMO_TENANTS = [
    {
        "slug": "demo-cafe",
        "name": "Demo Cafe",
        "timezone": "Europe/Berlin",
        "brand_color": "#5b3a29",
        "accent_color": "#e8b04b",
        "location": ("Main Street", "12 Main Street", "52.520008", "13.404954"),
    },
    {
        "slug": "demo-salon",
        "name": "Demo Salon",
        "timezone": "Asia/Jerusalem",
        "brand_color": "#6b2d5c",
        "accent_color": "#f0a6ca",
        "location": ("Dizengoff", "100 Dizengoff St", "32.080000", "34.774000"),
    },
]


@dataclass
class DemoTenant:
    tenant: Tenant
    location: Location
    owner: User
    manager: User
    staff: User


def _user(email: str, first_name: str) -> User:
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(email=email, password=DEMO_PASSWORD, first_name=first_name)
    return user


def seed_tenants() -> list[DemoTenant]:
    """Runs with scopes disabled (a management command)."""
    result = []
    for spec in DEMO_TENANTS:
        tenant, _ = Tenant.objects.get_or_create(
            slug=spec["slug"],
            defaults={
                "name": spec["name"],
                "timezone": spec["timezone"],
                "brand_color": spec["brand_color"],
                "accent_color": spec["accent_color"],
            },
        )
        name, address, lat, lng = spec["location"]
        location, _ = Location.objects.get_or_create(
            tenant=tenant,
            name=name,
            defaults={"address": address, "latitude": lat, "longitude": lng},
        )
        people = {}
        for role, first_name in (
            (Role.OWNER, "Olivia"),
            (Role.MANAGER, "Max"),
            (Role.STAFF, "Dana"),
        ):
            user = _user(f"{role}@{spec['slug']}.test", first_name)
            membership, _ = Membership.objects.get_or_create(
                tenant=tenant, user=user, defaults={"role": role}
            )
            if role == Role.STAFF:
                membership.locations.add(location)
            people[str(role)] = user
        result.append(
            DemoTenant(tenant, location, people["owner"], people["manager"], people["staff"])
        )
    return result
