from decimal import Decimal

import pytest

from core.money import ceil_dollars, format_money, from_cents, round_cents, to_cents


def test_round_half_up():
    assert round_cents(Decimal("2.345")) == Decimal("2.35")
    assert round_cents(Decimal("2.344")) == Decimal("2.34")
    assert round_cents("10") == Decimal("10.00")


def test_ceil_dollars():
    assert ceil_dollars(Decimal("38.375")) == Decimal("39.00")
    assert ceil_dollars(Decimal("5")) == Decimal("5.00")
    assert ceil_dollars(Decimal("0.01")) == Decimal("1.00")


def test_cents_round_trip():
    assert to_cents(Decimal("25.50")) == 2550
    assert from_cents(2550) == Decimal("25.50")


def test_floats_are_refused():
    with pytest.raises(TypeError):
        round_cents(0.1)


def test_format_money():
    assert format_money(Decimal("0")) == "Free"
    assert format_money(Decimal("1234.5")) == "$1,234.50"
