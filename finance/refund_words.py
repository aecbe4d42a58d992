"""How a refund comes back, in the patron's words: the one place every page, e-mail and call
script takes them from.

Finance knows the money, so finance says how it goes back (issue 10 §1): each refund by the
method of the payment it returns — a card refund goes back to the card; cash and check are paid
back by the library ("Refunds to issue": a refund check, or cash at the front desk). The Pass the
Buck share of a seat goes back to the fund and is never described to the patron as their money.

- ``TIMING``: the one sentence about when a refund arrives, per way it comes back.
- ``RefundPart``: one refund (or, before it exists, one planned refund) with its sentence.
- ``RefundNote``: the parts of one registration's refund, its total, its timing sentences and the
  call script's words (no amounts: the front desk reads it). Enrollment's messages receive a note
  from finance (``refunds=``) and render its strings; they never guess the method.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from core.money import ZERO

CARD, LIBRARY = "card", "library"

#: The one sentence about timing, the same on every page and in every message.
TIMING = {
    CARD: "A card refund usually shows on the card's statement within 5 to 10 business days.",
    LIBRARY: ("A cash or check refund is paid back by the library with a refund check (or in cash at the "
              "front desk); we let you know when it is ready."),
}

#: How each payment method's money comes back (before it is issued).
_HOW = {
    "card": "goes back to the card you paid with",
    "cash": "you paid in cash is paid back by the library",
    "check": "you paid by check is paid back by the library",
}


def money(amount: Decimal) -> str:
    return f"${amount:,.2f}"


def method_of(provider: str) -> str:
    """``CARD`` or ``LIBRARY``: who makes the refund of a payment made with ``provider``."""
    return CARD if provider == "card" else LIBRARY


@dataclass(frozen=True)
class RefundPart:
    provider: str  # the payment's: "card", "cash" or "check" (never "scholarship")
    amount: Decimal
    done: bool = False
    reference: str = ""
    done_at: object = None

    @property
    def method(self) -> str:
        return method_of(self.provider)

    @property
    def by_card(self) -> bool:
        return self.method == CARD

    @property
    def sentence(self) -> str:
        """"$45.00 goes back to the card you paid with." (what is owed and how it comes back)."""
        return f"{money(self.amount)} {_HOW.get(self.provider, _HOW['cash'])}."

    @property
    def issued_sentence(self) -> str:
        """The refund has been made: "We have refunded $45.00 to the card you paid with." """
        if self.by_card:
            return f"We have refunded {money(self.amount)} to the card you paid with."
        what = f"refund check number {self.reference}" if self.provider == "check" and self.reference else ""
        what = what or (self.reference and f"reference {self.reference}")
        return f"The library has issued your refund of {money(self.amount)}" + (f" ({what})." if what else ".")

    @property
    def status_text(self) -> str:
        """Where this refund is now, for "My registrations"."""
        if self.done:
            return "refunded to your card" if self.by_card else "issued by the library"
        return "on its way back to your card" if self.by_card else "to be paid back by the library"

    @property
    def status_sentence(self) -> str:
        """"Refund of $45.00: on its way back to your card." """
        return f"Refund of {money(self.amount)}: {self.status_text}."

    @property
    def timing(self) -> str:
        return TIMING[self.method]


@dataclass(frozen=True)
class RefundNote:
    """One registration's refund to the patron, part by part (their own share only)."""

    parts: tuple[RefundPart, ...] = field(default_factory=tuple)

    def __bool__(self) -> bool:
        return bool(self.parts)

    @property
    def total(self) -> Decimal:
        return sum((p.amount for p in self.parts), ZERO)

    @property
    def methods(self) -> list[str]:
        seen: list[str] = []
        for part in self.parts:
            if part.method not in seen:
                seen.append(part.method)
        return seen

    @property
    def timings(self) -> list[str]:
        """The timing sentence of each way the money comes back (each once)."""
        return [TIMING[m] for m in self.methods]

    @property
    def sentence(self) -> str:
        """All of it in one paragraph: each part, then when it arrives."""
        if not self.parts:
            return "Nothing was paid, so there is nothing to refund."
        return " ".join([p.sentence for p in self.parts] + self.timings)

    @property
    def call_text(self) -> str:
        """For the call list: how the money comes back, no amount (the front desk reads it and
        never learns who had a scholarship)."""
        if not self.parts:
            return "Nothing was paid, so there is nothing to refund."
        if self.methods == [CARD]:
            how = " back on the card they paid with."
        elif self.methods == [LIBRARY]:
            how = "; they paid by cash or check, so the library pays it back."
        else:
            how = (": the card part back on the card they paid with, the cash or check part paid back by "
                   "the library.")
        return f"They get a full refund of everything they paid{how} " + " ".join(self.timings)


def part_of_refund(refund) -> RefundPart:
    """The words of a refund row (its payment's method, amount, whether it is done)."""
    return RefundPart(provider=refund.payment.provider, amount=refund.amount, done=refund.status == "done",
                      reference=refund.reference, done_at=refund.done_at)


def note_of_refunds(refunds) -> RefundNote:
    """The note of refund rows, leaving out what goes back to the fund (never the patron's)."""
    return RefundNote(parts=tuple(part_of_refund(r) for r in refunds if r.payment.provider != "scholarship"))


def refund_label(refund) -> str:
    """A refund's line on the desk's receipt: how it goes back, and where it stands."""
    provider = refund.payment.provider
    status = refund.get_status_display().lower()
    if provider == "card":
        return f"Refund to card ({'done' if refund.status == 'done' else 'on its way'})"
    if provider in ("cash", "check"):
        return f"Refund by the library, check or cash ({status})"
    return f"Refund ({status})"
