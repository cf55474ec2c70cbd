"""One tap to act: the Call, Text, Email and Directions links of an account or a contact. No Flask.

Every link is built here from data, each part URL-encoded, so a template only ever writes an
href it was given (and escapes it as any attribute): a phone number becomes `+` and digits, an
address a query parameter, and nothing a user typed can make a `javascript:` URL.
"""

import re
from typing import NamedTuple
from urllib.parse import quote, quote_plus

# The phone's own maps app: Google Maps' universal link opens the app on Android and iPhone (and
# the web map on a desk), https://developers.google.com/maps/documentation/urls/get-started.
DIRECTIONS = "https://www.google.com/maps/dir/"
# Directions to "lat,lon" are this and the two numbers (the map's frame builds a pin's so).
TO_LOCATION = DIRECTIONS + "?api=1&destination="
# Fewer digits than this is no number a phone could call (a note typed in the field, "n/a").
MIN_DIGITS = 3
# An address as RFC 5322 simplified: something, one @, a domain with a dot; no spaces.
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def dial_number(phone: str | None) -> str:
    """`phone` as a tel: or sms: URL wants it: a leading `+` and the digits, or "" for none."""
    phone = (phone or "").strip()
    digits = re.sub(r"\D", "", phone)
    if len(digits) < MIN_DIGITS:
        return ""
    return ("+" if phone.startswith("+") else "") + digits


def mailto(email: str | None) -> str:
    """A mailto: URL for `email`, or "" when it is not an address; every other character is
    percent-encoded, so that no `?`, `&` or `%` in it adds a subject, a copy or a body."""
    email = (email or "").strip()
    if not EMAIL.fullmatch(email):
        return ""
    return "mailto:" + quote(email, safe="@")


def directions(address: str = "", city: str = "", latitude=None, longitude=None) -> str:
    """Directions in the phone's maps app: to the location when the account has one (the map
    shows that very pin, and a manager may have moved it off a geocoder's guess), else to the
    street address; "" when there is neither."""
    if latitude is not None and longitude is not None:
        # Five decimals are a metre: as exact as the map's own pins (markers.marker_row). Two
        # numbers and their comma need no encoding (kept as Google's own examples write them).
        return f"{TO_LOCATION}{round(float(latitude), 5)},{round(float(longitude), 5)}"
    destination = ", ".join(part.strip() for part in (address, city) if part and part.strip())
    if not destination:
        return ""
    return TO_LOCATION + quote_plus(destination, safe=",")


class Reach(NamedTuple):
    """The links to reach an account or a contact ("" for what it lacks), and the text shown."""

    call: str
    text: str
    email: str
    directions: str
    phone: str
    address: str
    # The data behind call/text and email: `+` and digits, a checked address ("" for none).
    number: str
    mailbox: str

    def __bool__(self):
        return any((self.call, self.email, self.directions))


def reach(phone="", email="", address="", city="", latitude=None, longitude=None) -> Reach:
    """The Reach of one phone number, email address and place."""
    number = dial_number(phone)
    email = mailto(email)
    return Reach(
        call="tel:" + number if number else "",
        text="sms:" + number if number else "",
        email=email,
        directions=directions(address, city, latitude, longitude),
        phone=(phone or "").strip() if number else "",
        address=", ".join(p.strip() for p in (address or "", city or "") if p and p.strip()),
        number=number,
        mailbox=email and email.removeprefix("mailto:"),
    )


def main_contact(account):
    """An ORM account's main contact: the first active one of its customer's list (a jobsite's
    people are its customer's), or None."""
    customer = account.customer if account.kind == "jobsite" else account
    if customer is None:
        return None
    return next((c for c in customer.contacts if c.active), None)


def account_reach(account) -> Reach:
    """An ORM account's Reach: its own phone, else its main contact's; that contact's email."""
    contact = main_contact(account)
    return reach(
        phone=account.phone or (contact.phone if contact else ""),
        email=contact.email if contact else "",
        address=account.address,
        city=account.city,
        latitude=account.latitude,
        longitude=account.longitude,
    )


def contact_reach(contact) -> Reach:
    """An ORM contact's Reach: their own phone (else their customer's) and email, and the way to
    their customer."""
    customer = contact.customer
    return reach(
        phone=contact.phone or customer.phone,
        email=contact.email,
        address=customer.address,
        city=customer.city,
        latitude=customer.latitude,
        longitude=customer.longitude,
    )


def row_reach(row) -> Reach:
    """The Reach of a card_rows() or map_rows() row (touchpoints.reach_columns), read by label."""
    return reach(
        phone=row.account_phone or row.contact_phone or "",
        email=row.contact_email or "",
        address=row.account_address or "",
        city=row.account_city or "",
        latitude=row.latitude,
        longitude=row.longitude,
    )
