"""Pass the Buck reports: the donors of a range for thank-you letters (``fund_donors``) and the
names that may be published (``fund_names_for_publication``), with their CSVs."""

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone

from core.money import ZERO

from ..deposit_report import csv_text
from .balance import money_cell, succeeded_donations


@dataclass
class Donor:
    first_name: str
    last_name: str
    email: str
    address: str
    gifts: int = 0
    total: Decimal = ZERO
    first_gift: dt.date | None = None
    last_gift: dt.date | None = None
    dedications: list[str] = field(default_factory=list)
    receipts: list[str] = field(default_factory=list)
    anonymous: bool = False  # a gift of theirs asked not to be listed: never publish the name

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


def _squash(text: str) -> str:
    return " ".join((text or "").split())


def _donor_key(first_name: str, last_name: str, email: str, address: str) -> tuple[str, str]:
    name = _squash(f"{first_name} {last_name}").casefold()
    contact = (email or "").strip().casefold() or _squash(address).casefold()
    return name, contact


def fund_donors(*, start: dt.date, end: dt.date) -> list[Donor]:
    """The donors whose gifts succeeded from ``start`` to ``end``, by last and first name. A
    donor's contact details are those of the latest gift that has them. One query."""
    gifts = (
        succeeded_donations(start, end).order_by("succeeded_at", "pk")
        .only("first_name", "last_name", "email", "address", "amount", "dedication", "anonymous", "succeeded_at")
    )
    donors: dict[tuple[str, str], Donor] = {}
    for gift in gifts:
        key = _donor_key(gift.first_name, gift.last_name, gift.email, gift.address)
        donor = donors.setdefault(key, Donor(first_name=gift.first_name, last_name=gift.last_name, email="",
                                             address=""))
        day = timezone.localtime(gift.succeeded_at).date()
        donor.first_name, donor.last_name = gift.first_name, gift.last_name
        donor.email, donor.address = gift.email or donor.email, gift.address or donor.address
        donor.gifts += 1
        donor.total += gift.amount
        donor.first_gift = donor.first_gift or day
        donor.last_gift = day
        donor.receipts.append(gift.receipt_number)
        dedication = _squash(gift.dedication)
        if dedication and dedication not in donor.dedications:
            donor.dedications.append(dedication)
        donor.anonymous = donor.anonymous or gift.anonymous
    return sorted(donors.values(), key=lambda d: (d.last_name.casefold(), d.first_name.casefold(), d.email, d.address))


@dataclass
class PublicName:
    name: str
    dedications: list[str]


def fund_names_for_publication(donors: list[Donor]) -> list[PublicName]:
    """The names that may be printed: every donor of ``donors`` except those who asked for
    anonymity on any of their gifts (left off entirely), with the dedications of their gifts.
    No amounts, no addresses."""
    return [PublicName(name=d.name, dedications=list(d.dedications)) for d in donors if not d.anonymous]


DONORS_HEADER = ["last_name", "first_name", "email", "address", "gifts", "total", "first_gift", "last_gift",
                 "dedications", "receipts", "anonymous"]
ANONYMOUS_FLAG = "yes: do not publish"


def donors_csv_rows(donors: list[Donor]) -> Iterator[list[str]]:
    """The thank-you letter list: every donor with name and address; anonymous ones flagged."""
    yield DONORS_HEADER
    for d in donors:
        yield [csv_text(d.last_name), csv_text(d.first_name), csv_text(d.email), csv_text(_squash(d.address)),
               str(d.gifts), money_cell(d.total), d.first_gift.isoformat(), d.last_gift.isoformat(),
               csv_text("; ".join(d.dedications)), " ".join(d.receipts), ANONYMOUS_FLAG if d.anonymous else "no"]


PUBLICATION_HEADER = ["name", "dedications"]


def publication_csv_rows(names: list[PublicName]) -> Iterator[list[str]]:
    yield PUBLICATION_HEADER
    for n in names:
        yield [csv_text(n.name), csv_text("; ".join(n.dedications))]


