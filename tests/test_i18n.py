"""The customer-facing pages render in every shipped language (he, vi, kk, ko).

The translations come from the committed catalogs in locale/<lang>/LC_MESSAGES/django.mo, so
these tests also catch a catalog that was edited but not compiled (or a fuzzy entry, which
gettext ignores at runtime).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import translation

from loyalty.services import customer_join, program_create
from tenants.scoping import tenant_scope

LANGS = ("he", "vi", "kk", "ko")

# A few strings per language, picked from the home page, the join page and the card page.
HOME = {
    "he": ["כרטיסי חותמות שחיים בארנק.", "צרו את כרטיס החותמות שלכם", "התחברות"],
    "vi": ["Thẻ tích tem nằm ngay trong ví điện thoại.", "Tạo thẻ tích tem của bạn", "Đăng nhập"],
    "kk": ["Әмиянда тұратын мөр карталары.", "Мөр картаңызды жасаңыз", "Кіру"],
    "ko": ["지갑 속에 사는 스탬프 카드.", "스탬프 카드 만들기", "로그인"],
}
JOIN = {
    "he": ["לקבל את כרטיס החותמות שלי", "אספו 8 חותמות, קבלו Free tea.", "השם שלך"],
    "vi": ["Nhận thẻ tích tem của tôi", "Tích 8 tem, nhận Free tea.", "Tên của bạn"],
    "kk": ["Мөр картамды алу", "8 мөр жинап, Free tea алыңыз.", "Атыңыз"],
    "ko": ["내 스탬프 카드 받기", "스탬프 8개를 모으고 Free tea 받으세요.", "이름"],
}
CARD = {
    "he": ["הכרטיס שלך", "עוד 8 חותמות עבור Free tea", "הוספה ל-Apple Wallet"],
    "vi": ["Thẻ của bạn", "Còn 8 tem nữa để nhận Free tea", "Thêm vào Apple Wallet"],
    "kk": ["Картаңыз", "Free tea үшін тағы 8 мөр", "Apple Wallet-қа қосу"],
    "ko": ["내 카드", "Free tea까지 스탬프 8개 남음", "Apple Wallet에 추가"],
}


def _get(url: str, lang: str) -> str:
    response = Client().get(url, HTTP_ACCEPT_LANGUAGE=lang)
    assert response.status_code == 200, (url, lang, response.status_code)
    return response.content.decode()


def _html_tag(lang: str) -> str:
    direction = "rtl" if lang == "he" else "ltr"
    return f'<html lang="{lang}" dir="{direction}">'


@pytest.fixture
def program(world_a):  # type: ignore[no-untyped-def]
    with tenant_scope(world_a.tenant):
        return program_create(
            tenant=world_a.tenant,
            data={"name": "Tea Club", "stamp_goal": 8, "reward_text": "Free tea"},
        )


@pytest.mark.parametrize("lang", LANGS)
def test_compiled_catalog_is_committed(lang: str) -> None:
    mo = Path(settings.BASE_DIR) / "locale" / lang / "LC_MESSAGES" / "django.mo"
    assert mo.is_file(), f"run compilemessages for {lang}"
    with translation.override(lang):
        assert translation.gettext("Stamps") != "Stamps"
        assert translation.gettext("Your rewards") != "Your rewards"


@pytest.mark.django_db
@pytest.mark.parametrize("lang", LANGS)
def test_home_page_is_translated(lang: str) -> None:
    html = _get(reverse("home"), lang)
    assert _html_tag(lang) in html
    for text in HOME[lang]:
        assert text in html, (lang, text)
    assert "Stamp cards that live in the wallet." not in html


@pytest.mark.django_db
@pytest.mark.parametrize("lang", LANGS)
def test_join_page_is_translated(lang: str, program) -> None:  # type: ignore[no-untyped-def]
    html = _get(reverse("join", args=[program.join_token]), lang)
    assert _html_tag(lang) in html
    for text in JOIN[lang]:
        assert text in html, (lang, text)
    assert "Get my stamp card" not in html


@pytest.mark.django_db
@pytest.mark.parametrize("lang", LANGS)
def test_card_page_is_translated(lang: str, world_a, program) -> None:  # type: ignore[no-untyped-def]
    with tenant_scope(world_a.tenant):
        card, _ = customer_join(program=program, name="Noa")
    html = _get(reverse("card", args=[card.token]), lang)
    assert _html_tag(lang) in html
    for text in CARD[lang]:
        assert text in html, (lang, text)


@pytest.mark.django_db
def test_english_stays_english_and_ltr() -> None:
    html = _get(reverse("home"), "en")
    assert _html_tag("en") in html
    assert "Stamp cards that live in the wallet." in html


def test_hebrew_plural_forms() -> None:
    # Hebrew has four plural forms (one, two, many, other); each one must carry the count.
    with translation.override("he"):
        one = translation.ngettext("%(n)s customer", "%(n)s customers", 1) % {"n": 1}
        two = translation.ngettext("%(n)s customer", "%(n)s customers", 2) % {"n": 2}
        many = translation.ngettext("%(n)s customer", "%(n)s customers", 20) % {"n": 20}
    assert one == "לקוח אחד"
    assert two == "2 לקוחות"
    assert many == "20 לקוחות"
