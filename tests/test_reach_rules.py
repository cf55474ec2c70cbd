"""One tap to act (tpweb/domain/reach.py): the tel:, sms:, mailto: and directions links, built from
anything a user typed, each part encoded; never a javascript: URL. No app needed."""

from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest

from tpweb.domain.reach import TO_LOCATION, dial_number, directions, mailto, reach, row_reach


@pytest.mark.parametrize(
    ("typed", "number"),
    [
        ("+1 (312) 555-0100", "+13125550100"),
        ("312.555.0100 ext. 7", "31255501007"),
        ('javascript:alert("x")//+1 312 555 0100', "13125550100"),
        ("<script>alert(1)</script> 555 0100", "15550100"),
        ("n/a", ""),
        ("", ""),
        (None, ""),
        ("12", ""),
    ],
)
def test_a_phone_number_is_a_plus_and_digits(typed, number):
    assert dial_number(typed) == number


@pytest.mark.parametrize(
    ("typed", "href"),
    [
        ("dana@acme.example", "mailto:dana@acme.example"),
        ("o'brien+x@acme.example", "mailto:o%27brien%2Bx@acme.example"),
        ('"><script>@acme.example', "mailto:%22%3E%3Cscript%3E@acme.example"),
        ("dana@acme.example?subject=x&body=y", "mailto:dana@acme.example%3Fsubject%3Dx%26body%3Dy"),
        ("dana@acme.example?cc=boss@acme.example", ""),
        ("javascript:alert(1)", ""),
        ("dana at acme", ""),
        ("dana @acme.example", ""),
        ("", ""),
    ],
)
def test_an_email_link_is_encoded_or_absent(typed, href):
    assert mailto(typed) == href


def test_directions_go_to_the_location_then_the_address_encoded():
    to_pin = directions("1 Main St", "Joliet", 41.525031234, -88.0817)
    assert to_pin == TO_LOCATION + "41.52503,-88.0817"

    hostile = directions('1 Main St "><script>alert(1)</script>', "Joliet & Co?x=javascript:")
    parts = urlsplit(hostile)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "www.google.com", "/maps/dir/")
    assert parse_qs(parts.query) == {
        "api": ["1"],
        "destination": ['1 Main St "><script>alert(1)</script>, Joliet & Co?x=javascript:'],
    }
    assert not set('"<> ') & set(hostile)
    assert directions("", "", None, None) == directions("  ", " ") == ""


def test_a_reach_has_links_only_for_what_it_has():
    nothing = reach()
    assert not nothing and nothing.call == nothing.email == nothing.directions == ""
    phone_only = reach(phone="555-0100")
    assert phone_only and (phone_only.call, phone_only.text) == ("tel:5550100", "sms:5550100")


def test_a_rows_phone_is_the_accounts_else_its_main_contacts():
    row = SimpleNamespace(
        account_phone="",
        contact_phone="(312) 555-0199",
        contact_email="dana@acme.example",
        account_address="1 Main St",
        account_city="Joliet",
        latitude=None,
        longitude=None,
    )
    assert row_reach(row).call == "tel:3125550199"
    row.account_phone = "+1 815 555 0100"
    assert row_reach(row).call == "tel:+18155550100"
    assert row_reach(row).email == "mailto:dana@acme.example"
    assert row_reach(row).address == "1 Main St, Joliet"
