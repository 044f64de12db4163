"""Loyalty demo data: a program per demo business and customers at different stages."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from loyalty.models import Card, Program, StampSource
from loyalty.services import card_add_stamps, customer_join, program_create

PROGRAMS = {
    "demo-cafe": {
        "name": "Coffee Club",
        "stamp_goal": 10,
        "reward_text": "a free coffee",
        "description": "One stamp for every hot drink. The tenth is on us.",
        "milestones": [{"stamps": 5, "reward": "a free pastry"}],
        "card_color": "#5b3a29",
        "text_color": "#fff8ef",
        "stamp_color": "#e8b04b",
        "stamp_icon": "coffee",
        "cooldown_minutes": 5,
    },
    "demo-salon": {
        "name": "Glow Card",
        "stamp_goal": 6,
        "reward_text": "a free blow-dry",
        "description": "A stamp for every visit; your sixth brings a treat.",
        "card_color": "#6b2d5c",
        "text_color": "#ffffff",
        "stamp_color": "#f0a6ca",
        "stamp_icon": "heart",
    },
}
CUSTOMERS = [
    ("Maya Levi", "maya@example.test", 0),
    ("Jonas Weber", "jonas@example.test", 3),
    ("Aiko Tanaka", "aiko@example.test", 7),
    ("Omar Haddad", "omar@example.test", 12),
]


def seed_program(demo: Any) -> Program:
    """Idempotent: the demo business's first program."""
    tenant = demo.tenant
    program = Program.objects.filter(tenant=tenant).order_by("id").first()
    if program is None:
        program = program_create(tenant=tenant, data=PROGRAMS[tenant.slug])
    return program


def seed_loyalty(demo: Any, program: Program | None = None) -> Program:
    """Idempotent: customers with cards at different stages."""
    program = program or seed_program(demo)
    for name, email, stamps in CUSTOMERS:
        if Card.objects.filter(program=program, customer__email=email).exists():
            continue
        card, _ = customer_join(program=program, name=name, email=email, marketing_consent=True)
        # Spread over past days so the rules (cooldown) and visit counting stay realistic.
        for day in range(stamps):
            card_add_stamps(
                card=card,
                count=1,
                source=StampSource.STAFF,
                actor=demo.staff,
                location=demo.location,
                now=timezone.now() - timedelta(days=stamps - day),
            )
    return program
