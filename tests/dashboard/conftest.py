"""Helpers for the dashboard tests: tenant A's programs, customers and stamps via the services."""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

import pytest
from PIL import Image

from loyalty.models import StampSource
from loyalty.services import card_add_stamps, customer_join, program_create
from tenants.scoping import tenant_scope


def make_program(world: Any, **data: Any) -> Any:
    values = {"name": "Coffee card", "stamp_goal": 10, "reward_text": "A free coffee"}
    values.update(data)
    with tenant_scope(world.tenant):
        return program_create(tenant=world.tenant, data=values)


def join(program: Any, name: str, email: str = "", phone: str = "", **extra: Any) -> Any:
    with tenant_scope(program.tenant):
        card, _ = customer_join(program=program, name=name, email=email, phone=phone, **extra)
    return card


def stamp(world: Any, card: Any, count: int = 1, now: datetime | None = None) -> Any:
    with tenant_scope(world.tenant):
        return card_add_stamps(
            card=card,
            count=count,
            source=StampSource.STAFF,
            actor=world.staff,
            location=world.location,
            now=now,
        ).card


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (64, 64)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "#1f6f5c").save(buffer, format=fmt)
    return buffer.getvalue()


@pytest.fixture
def manager_client(world_a):  # type: ignore[no-untyped-def]
    return world_a.client_for(world_a.manager)


@pytest.fixture
def program_a(world_a):  # type: ignore[no-untyped-def]
    return make_program(world_a)
