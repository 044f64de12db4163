"""Customers in the dashboard: search, filters, CSV export, the card journal, corrections,
and erasure on request."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from django.urls import reverse
from django_scopes import scopes_disabled

from loyalty.models import Card, CardEvent, Customer, StampEvent
from tests.dashboard.conftest import join, make_program, stamp
from tests.isolation import MARKER

pytestmark = pytest.mark.django_db


def rows_of(response) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    assert response.streaming
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def set_joined(card, when: datetime) -> None:  # type: ignore[no-untyped-def]
    with scopes_disabled():
        Customer.objects.filter(pk=card.customer_id).update(created_at=when)


@pytest.fixture
def shop(world_a):  # type: ignore[no-untyped-def]
    """Tenant A with two programs and three customers of different histories."""
    coffee = make_program(world_a, name="Coffee", stamp_goal=10)
    cake = make_program(world_a, name="Cake", stamp_goal=5)
    ann = join(coffee, "Ann Archer", "ann@example.test", "+4917600000001")
    ben = join(coffee, "Ben Baker", "ben@example.test", "+4917600000002")
    join(cake, "Ben Baker", "ben@example.test")
    cid = join(cake, "Cid Cook", "", "+4917600000003")
    stamp(world_a, ann, 3, now=datetime(2026, 3, 10, 12, tzinfo=UTC))
    stamp(world_a, ben, 1, now=datetime(2026, 1, 5, 12, tzinfo=UTC))
    set_joined(ann, datetime(2026, 3, 1, 9, tzinfo=UTC))
    set_joined(ben, datetime(2025, 12, 1, 9, tzinfo=UTC))
    set_joined(cid, datetime(2026, 2, 1, 9, tzinfo=UTC))
    return {"coffee": coffee, "cake": cake, "ann": ann, "ben": ben, "cid": cid}


def names(response) -> list[str]:  # type: ignore[no-untyped-def]
    return [row["customer"].name for row in response.context["rows"]]


def test_customer_list_shows_everyone_with_programs_and_stamps(world_a, manager_client, shop):
    response = manager_client.get(reverse("dashboard:customers"))
    body = response.content.decode()
    assert response.status_code == 200
    assert names(response) == ["Ann Archer", "Cid Cook", "Ben Baker"]  # newest first
    assert "Cake, Coffee" in body  # Ben's two programs
    assert "3 customers" in body


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"q": "archer"}, ["Ann Archer"]),
        ({"q": "ben@example"}, ["Ben Baker"]),
        ({"q": "00003"}, ["Cid Cook"]),
        ({"q": "nobody"}, []),
        ({"program": "cake"}, ["Cid Cook", "Ben Baker"]),
        ({"joined_from": "2026-01-15"}, ["Ann Archer", "Cid Cook"]),
        ({"joined_to": "2026-01-15"}, ["Ben Baker"]),
        ({"last_visit_from": "2026-03-01"}, ["Ann Archer"]),
        ({"last_visit_to": "2026-02-01"}, ["Ben Baker"]),
        ({"min_stamps": "2"}, ["Ann Archer"]),
        ({"q": "b", "program": "coffee"}, ["Ben Baker"]),
    ],
)
def test_search_and_filters(world_a, manager_client, shop, query, expected):
    # Given three customers, when the list is searched or filtered, then only matches show
    params = dict(query)
    if "program" in params:
        params["program"] = str(shop[params["program"]].pk)
    response = manager_client.get(reverse("dashboard:customers"), params)
    assert response.status_code == 200
    assert names(response) == expected


def test_an_invalid_filter_is_shown_and_ignored(world_a, manager_client, shop):
    response = manager_client.get(
        reverse("dashboard:customers"), {"joined_from": "yesterday", "q": "Ann"}
    )
    assert response.status_code == 200
    assert "Enter a valid date" in response.content.decode()
    assert names(response) == ["Ann Archer"]


def test_pagination_with_50_per_page_and_no_n_plus_one(
    world_a, manager_client, django_assert_max_num_queries
):
    # Given 55 customers
    program = make_program(world_a)
    for n in range(55):
        join(program, f"Customer {n:02d}", f"c{n}@example.test")
    # When the first page is opened, then 50 rows show in a fixed number of queries
    with django_assert_max_num_queries(12):
        first = manager_client.get(reverse("dashboard:customers"))
    assert len(first.context["rows"]) == 50
    assert "Page 1 of 2" in first.content.decode()
    # And the second page holds the other 5, keeping the filters in its links
    second = manager_client.get(reverse("dashboard:customers"), {"page": "2", "q": "Customer"})
    assert len(second.context["rows"]) == 5
    assert "q=Customer&amp;page=1" in second.content.decode()


def test_csv_export_of_the_filtered_list(world_a, manager_client, shop):
    # Given customers, when the coffee program's customers are exported
    response = manager_client.get(
        reverse("dashboard:customers_csv"), {"program": str(shop["coffee"].pk)}
    )
    # Then a CSV attachment lists them with their programs, stamps and visits
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="customers-')
    rows = rows_of(response)
    assert [row["Name"] for row in rows] == ["Ann Archer", "Ben Baker"]
    ann, ben = rows
    assert list(ann) == [
        "Name",
        "Email",
        "Phone",
        "Joined",
        "Programs",
        "Stamps",
        "Visits",
        "Last visit",
        "Marketing consent",
    ]
    assert ann["Email"] == "ann@example.test"
    assert ann["Phone"] == "+4917600000001"  # a phone number is not mistaken for a formula
    assert ann["Joined"] == "2026-03-01"
    assert ann["Stamps"] == "3"
    assert ann["Visits"] == "1"
    assert ann["Last visit"] == "2026-03-10"
    assert ann["Marketing consent"] == "no"
    assert ben["Programs"] == "Cake; Coffee"


def test_csv_export_defuses_spreadsheet_formulas(world_a, manager_client):
    # Given a customer who typed a formula as their name on the public join page
    program = make_program(world_a)
    join(program, '=HYPERLINK("http://evil.test","click")', "x@example.test")
    # When exported, then the cell is text, not a formula
    [row] = rows_of(manager_client.get(reverse("dashboard:customers_csv")))
    assert row["Name"].startswith("'=")


def test_csv_export_never_holds_another_tenants_customers(world_a, world_b, manager_client):
    program_b = make_program(world_b)
    join(program_b, f"{MARKER} Secret", "secret@bravo.test")
    join(make_program(world_a), "Ann Archer", "ann@example.test")
    rows = rows_of(manager_client.get(reverse("dashboard:customers_csv")))
    assert [row["Name"] for row in rows] == ["Ann Archer"]


def test_customer_detail_shows_cards_journal_and_the_public_card_link(
    world_a, manager_client, shop
):
    ann = shop["ann"]
    response = manager_client.get(reverse("dashboard:customer_detail", args=[ann.customer_id]))
    body = response.content.decode()
    assert response.status_code == 200
    assert "3/10" in body  # stamps x/goal
    assert "card 1" in body  # cycle
    assert "1 visit" in body
    assert reverse("card", args=[ann.token]) in body
    # The journal says what happened, who did it and where
    assert "Joined Coffee" in body
    assert "3 stamps (Staff)" in body
    assert str(world_a.staff) in body
    assert world_a.location.name in body


def test_manager_corrects_stamps_with_a_reason(world_a, manager_client, shop):
    ann = shop["ann"]
    url = reverse("dashboard:card_correct", args=[ann.customer_id, ann.pk])
    # When a manager removes one stamp with a reason
    response = manager_client.post(url, {"delta": "-1", "reason": "Double tap"}, follow=True)
    # Then the card has 2 stamps, the ledger has a correction row, and the journal shows it
    with scopes_disabled():
        ann.refresh_from_db()
        correction = StampEvent.objects.get(card=ann, source="correction")
    assert ann.stamps == 2
    assert (correction.count, correction.reason, correction.staff_user) == (
        -1,
        "Double tap",
        world_a.manager,
    )
    body = response.content.decode()
    assert "Corrected. The card has 2 of 10 stamps now." in body
    assert "Corrected by -1: Double tap" in body


def test_a_refused_correction_says_why_and_changes_nothing(world_a, manager_client, shop):
    ben = shop["ben"]  # 1 stamp
    url = reverse("dashboard:card_correct", args=[ben.customer_id, ben.pk])
    response = manager_client.post(url, {"delta": "-5", "reason": "Oops"})
    assert response.status_code == 400
    assert "The card has only 1 stamps in this cycle." in response.content.decode()
    response = manager_client.post(url, {"delta": "2", "reason": ""})
    assert response.status_code == 400
    with scopes_disabled():
        ben.refresh_from_db()
        assert not StampEvent.objects.filter(card=ben, source="correction").exists()
    assert ben.stamps == 1


def test_a_card_of_another_customer_cannot_be_corrected_through_this_one(
    world_a, manager_client, shop
):
    ann, cid = shop["ann"], shop["cid"]
    url = reverse("dashboard:card_correct", args=[ann.customer_id, cid.pk])
    assert manager_client.post(url, {"delta": "1", "reason": "x"}).status_code == 404


def test_owner_erases_a_customer_on_request(world_a, shop):
    ann = shop["ann"]
    client = world_a.owner_client
    url = reverse("dashboard:customer_erase", args=[ann.customer_id])
    # Given the confirmation page
    confirm = client.get(url)
    assert confirm.status_code == 200
    assert "Delete Ann Archer" in confirm.content.decode()
    # When the owner confirms
    response = client.post(url, {"confirm": "erase"}, follow=True)
    # Then the personal data is gone but the ledger and the numbers stay
    with scopes_disabled():
        customer = Customer.objects.get(pk=ann.customer_id)
        card = Card.objects.get(pk=ann.pk)
        events = StampEvent.objects.filter(card=card).count()
        erased_event = CardEvent.objects.filter(card=card, kind="erased").exists()
    assert customer.erased_at is not None
    assert (customer.name, customer.email, customer.phone) == ("Erased customer", "", "")
    assert events == 1
    assert card.total_stamps == 3
    assert erased_event
    assert "Personal data erased" in response.content.decode()
    assert "Ann Archer" not in response.content.decode()
    # And the export no longer has her
    rows = rows_of(client.get(reverse("dashboard:customers_csv")))
    assert "Ann Archer" not in [row["Name"] for row in rows]


def test_only_the_owner_may_erase(world_a, manager_client, shop):
    ann = shop["ann"]
    url = reverse("dashboard:customer_erase", args=[ann.customer_id])
    assert manager_client.get(url).status_code == 403
    assert manager_client.post(url, {"confirm": "erase"}).status_code == 403
    with scopes_disabled():
        assert Customer.objects.get(pk=ann.customer_id).erased_at is None


def test_staff_gets_403_on_customer_pages(world_a, shop):
    ann = shop["ann"]
    client = world_a.staff_client
    for url in [
        reverse("dashboard:customers"),
        reverse("dashboard:customers_csv"),
        reverse("dashboard:customer_detail", args=[ann.customer_id]),
        reverse("dashboard:customer_erase", args=[ann.customer_id]),
    ]:
        assert client.get(url).status_code == 403, url
    url = reverse("dashboard:card_correct", args=[ann.customer_id, ann.pk])
    assert client.post(url, {"delta": "5", "reason": "x"}).status_code == 403
    with scopes_disabled():
        ann.refresh_from_db()
    assert ann.stamps == 3


def test_another_tenants_customer_answers_404(world_a, world_b):
    card_b = join(make_program(world_b), f"{MARKER} Bravo", "b@bravo.test")
    client = world_a.owner_client
    for name in ["dashboard:customer_detail", "dashboard:customer_erase"]:
        response = client.get(reverse(name, args=[card_b.customer_id]))
        assert response.status_code == 404
        assert MARKER not in response.content.decode()
    url = reverse("dashboard:card_correct", args=[card_b.customer_id, card_b.pk])
    assert client.post(url, {"delta": "5", "reason": "x"}).status_code == 404
    assert (
        client.post(
            reverse("dashboard:customer_erase", args=[card_b.customer_id]), {"confirm": "erase"}
        ).status_code
        == 404
    )
    with scopes_disabled():
        assert Customer.objects.get(pk=card_b.customer_id).erased_at is None
