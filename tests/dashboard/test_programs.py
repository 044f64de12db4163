"""Programs in the dashboard: create, edit with the live preview, logo checks, pause, join QR."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django_scopes import scopes_disabled

from loyalty.models import Program
from tests.dashboard.conftest import image_bytes, join, make_program

pytestmark = pytest.mark.django_db

VALID = {
    "name": "Coffee club",
    "description": "Every coffee counts.",
    "stamp_goal": "8",
    "reward_text": "A free flat white",
    "card_color": "#112233",
    "text_color": "#ffffff",
    "stamp_color": "#ffcc00",
    "stamp_icon": "coffee",
    "milestone_1_stamps": "4",
    "milestone_1_reward": "A cookie",
    "max_stamps_per_visit": "2",
    "cooldown_minutes": "",
    "daily_cap": "",
}


def programs_of(world):  # type: ignore[no-untyped-def]
    with scopes_disabled():
        return list(Program.objects.filter(tenant=world.tenant))


def test_manager_creates_a_program_with_milestones_and_rules(world_a, manager_client):
    # Given a manager with no program yet
    # When they submit the program form
    response = manager_client.post(reverse("dashboard:program_create"), VALID)
    # Then the program is saved as entered and they land on its join QR page
    [program] = programs_of(world_a)
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard:program_share", args=[program.pk])
    assert program.name == "Coffee club"
    assert program.stamp_goal == 8
    assert program.milestones == [{"stamps": 4, "reward": "A cookie"}]
    assert program.max_stamps_per_visit == 2
    assert program.cooldown_minutes is None
    assert (program.card_color, program.stamp_icon) == ("#112233", "coffee")
    assert program.is_active


def test_the_form_carries_the_live_preview(world_a, manager_client):
    # Given the new-program page, when a manager opens it,
    # then the preview card, its script and the stamp glyphs are on the page
    response = manager_client.get(reverse("dashboard:program_create"))
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="preview-card"' in body
    assert 'class="stampcard"' in body
    assert 'id="stamp-glyphs"' in body
    assert 'type="color"' in body
    assert "css/dashboard.css" in body


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ({"milestone_1_stamps": "8", "milestone_1_reward": "Too late"}, "at most 7 stamps"),
        ({"milestone_1_stamps": "3", "milestone_1_reward": ""}, "What does the customer get"),
        ({"milestone_1_stamps": "", "milestone_1_reward": "Cookie"}, "How many stamps"),
        (
            {
                "milestone_1_stamps": "3",
                "milestone_1_reward": "Cookie",
                "milestone_2_stamps": "3",
                "milestone_2_reward": "Cake",
            },
            "cannot share a stamp",
        ),
    ],
)
def test_invalid_milestones_are_refused_and_nothing_is_saved(
    world_a, manager_client, rows, message
):
    # Given a form with a wrong milestone row, when submitted,
    # then the page says what is wrong and no program exists
    data = {**VALID, "milestone_1_stamps": "", "milestone_1_reward": "", **rows}
    response = manager_client.post(reverse("dashboard:program_create"), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert programs_of(world_a) == []


def test_manager_edits_a_program_and_milestones_are_kept_in_order(world_a, manager_client):
    # Given a program
    program = make_program(world_a, milestones=[{"stamps": 3, "reward": "Cookie"}])
    url = reverse("dashboard:program_edit", args=[program.pk])
    # When its edit page is opened, then the saved values are in the form
    body = manager_client.get(url).content.decode()
    assert 'value="Cookie"' in body
    # When the goal, colours and milestones change
    data = {
        **VALID,
        "name": "Coffee club+",
        "stamp_goal": "12",
        "milestone_1_stamps": "9",
        "milestone_1_reward": "Cake",
        "milestone_2_stamps": "5",
        "milestone_2_reward": "Cookie",
    }
    response = manager_client.post(url, data)
    # Then they are saved, milestones sorted by stamps, and the design version moved on
    assert response.status_code == 302
    with scopes_disabled():
        program.refresh_from_db()
    assert program.name == "Coffee club+"
    assert program.stamp_goal == 12
    assert program.milestones == [
        {"stamps": 5, "reward": "Cookie"},
        {"stamps": 9, "reward": "Cake"},
    ]
    assert program.design_version == 2


def test_a_valid_logo_is_stored_and_shown(world_a, manager_client):
    # Given a PNG logo of 64x64 pixels, when uploaded with the program
    logo = SimpleUploadedFile("logo.png", image_bytes("PNG"), content_type="image/png")
    response = manager_client.post(reverse("dashboard:program_create"), {**VALID, "logo": logo})
    # Then the program has it and its edit page shows it
    assert response.status_code == 302
    [program] = programs_of(world_a)
    assert program.logo.name.startswith("logos/")
    body = manager_client.get(reverse("dashboard:program_edit", args=[program.pk])).content
    assert program.logo.url.encode() in body


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (
            SimpleUploadedFile("logo.png", image_bytes("GIF"), content_type="image/png"),
            "must be a PNG, JPEG or WebP image (this one is GIF)",
        ),
        (
            SimpleUploadedFile("logo.png", b"not an image at all", content_type="image/png"),
            "not an image we can read",
        ),
        (
            SimpleUploadedFile(
                "logo.png", image_bytes("PNG", (2400, 100)), content_type="image/png"
            ),
            "2400×100 pixels",
        ),
        (
            SimpleUploadedFile(
                "logo.png",
                image_bytes("PNG", (64, 64)) + b"\0" * (1024 * 1024),
                content_type="image/png",
            ),
            "at most 1 MB",
        ),
    ],
    ids=["wrong-type", "not-an-image", "too-wide", "too-big"],
)
def test_a_bad_logo_is_refused_and_changes_nothing(world_a, manager_client, upload, message):
    # Given an existing program
    program = make_program(world_a, name="Before")
    # When the manager saves a new name together with a bad logo
    response = manager_client.post(
        reverse("dashboard:program_edit", args=[program.pk]),
        {**VALID, "name": "After", "logo": upload},
    )
    # Then the page explains the problem, and neither the name nor the logo changed
    assert response.status_code == 400
    assert message in response.content.decode()
    with scopes_disabled():
        program.refresh_from_db()
    assert program.name == "Before"
    assert not program.logo


def test_pause_and_resume(world_a, manager_client):
    # Given an active program
    program = make_program(world_a)
    url = reverse("dashboard:program_set_active", args=[program.pk])
    # When the manager pauses it
    response = manager_client.post(url, {"active": "0"}, follow=True)
    # Then it is paused and the list says so
    with scopes_disabled():
        program.refresh_from_db()
    assert not program.is_active
    assert "is paused" in response.content.decode()
    assert "badge-paused" in response.content.decode()
    # When resumed, then it is active again
    manager_client.post(url, {"active": "1"})
    with scopes_disabled():
        program.refresh_from_db()
    assert program.is_active
    # And a GET changes nothing
    assert manager_client.get(url).status_code == 405


def test_program_list_shows_cards_count_and_status(world_a, manager_client):
    # Given two programs, one with two cards and one paused
    busy = make_program(world_a, name="Busy card")
    join(busy, "Ann", "ann@example.test")
    join(busy, "Ben", "ben@example.test")
    make_program(world_a, name="Quiet card", is_active=False)
    # When the list is opened
    body = manager_client.get(reverse("dashboard:programs")).content.decode()
    # Then each program shows its cards count and status
    assert "Busy card" in body
    assert "Quiet card" in body
    assert '<td data-label="Cards">2</td>' in body
    assert "Paused" in body
    assert "Active" in body


def test_join_link_page_and_qr_downloads(world_a, manager_client, program_a):
    join_url = settings.PUBLIC_BASE_URL + reverse("join", args=[program_a.join_token])
    # When the join page is opened, then it shows the join URL and the QR inline
    page = manager_client.get(reverse("dashboard:program_share", args=[program_a.pk]))
    assert join_url in page.content.decode()
    assert "<svg" in page.content.decode()
    # When the PNG is downloaded, then it is a PNG attachment
    png = manager_client.get(reverse("dashboard:program_qr_png", args=[program_a.pk]))
    assert png.status_code == 200
    assert png["Content-Type"] == "image/png"
    assert png["Content-Disposition"].startswith("attachment;")
    assert png.content.startswith(b"\x89PNG\r\n\x1a\n")
    # When the SVG is downloaded, then it is an SVG attachment
    svg = manager_client.get(reverse("dashboard:program_qr_svg", args=[program_a.pk]))
    assert svg["Content-Type"] == "image/svg+xml"
    assert svg["Content-Disposition"].startswith("attachment;")
    assert svg.content.startswith(b"<?xml")
    assert b"<svg" in svg.content


def test_the_png_qr_encodes_the_join_url(program_a, manager_client):
    # Given the PNG download, when its modules are read back,
    # then they match a QR code of the join URL (decoded by comparing module grids)
    import io

    import qrcode
    from PIL import Image

    png = manager_client.get(reverse("dashboard:program_qr_png", args=[program_a.pk])).content
    image = Image.open(io.BytesIO(png)).convert("1")
    expected = qrcode.QRCode(border=2, error_correction=qrcode.constants.ERROR_CORRECT_M)
    expected.add_data(settings.PUBLIC_BASE_URL + reverse("join", args=[program_a.join_token]))
    matrix = expected.get_matrix()
    box = image.size[0] // len(matrix)
    read = [
        [image.getpixel((x * box + box // 2, y * box + box // 2)) == 0 for x in range(len(matrix))]
        for y in range(len(matrix))
    ]
    assert read == matrix


@pytest.mark.parametrize(("size", "page_size"), [("a4", "A4"), ("a5", "A5")])
def test_counter_poster(world_a, manager_client, size, page_size):
    # Given a program of a business
    program = make_program(world_a, reward_text="A free cinnamon bun", stamp_goal=6)
    # When the poster is opened in a size
    response = manager_client.get(
        reverse("dashboard:program_poster", args=[program.pk]), {"size": size}
    )
    body = response.content.decode()
    # Then it is a print page of that size with the QR, the name, the reward and the call
    assert response.status_code == 200
    assert f"@page {{ size: {page_size} portrait" in body
    assert world_a.tenant.name in body
    assert "A free cinnamon bun" in body
    assert "Scan to join" in body
    assert "<svg" in body
    assert f"--poster-bg: {world_a.tenant.brand_color}" in body


def test_staff_cannot_open_program_pages(world_a, program_a):
    # Given a staff member, when they open any program page, then 403
    client = world_a.staff_client
    for url in [
        reverse("dashboard:programs"),
        reverse("dashboard:program_create"),
        reverse("dashboard:program_edit", args=[program_a.pk]),
        reverse("dashboard:program_share", args=[program_a.pk]),
        reverse("dashboard:program_qr_png", args=[program_a.pk]),
        reverse("dashboard:program_qr_svg", args=[program_a.pk]),
        reverse("dashboard:program_poster", args=[program_a.pk]),
    ]:
        assert client.get(url).status_code == 403, url
    response = client.post(reverse("dashboard:program_set_active", args=[program_a.pk]))
    assert response.status_code == 403
    with scopes_disabled():
        program_a.refresh_from_db()
    assert program_a.is_active


def test_another_tenants_program_answers_404(world_a, world_b):
    # Given tenant B's program, when A's owner asks for it on every program URL, then 404
    program_b = make_program(world_b, name="Bravo card")
    client = world_a.owner_client
    for name in [
        "dashboard:program_edit",
        "dashboard:program_share",
        "dashboard:program_qr_png",
        "dashboard:program_qr_svg",
        "dashboard:program_poster",
    ]:
        assert client.get(reverse(name, args=[program_b.pk])).status_code == 404, name
    response = client.post(
        reverse("dashboard:program_set_active", args=[program_b.pk]), {"active": "0"}
    )
    assert response.status_code == 404
    with scopes_disabled():
        program_b.refresh_from_db()
    assert program_b.is_active
