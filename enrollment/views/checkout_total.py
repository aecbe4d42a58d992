"""The checkout page's running total: what the seats the patron can get will cost.

The same rule as ``static/js/checkout_form.js``, which recomputes it in the browser as the
patron changes the counts and ticks scholarships (the server's figure is what the page shows
without scripts, and after every reload): in each class, the first attendees take the seats
still free — each at the fee, or at the patron's half with a Pass the Buck scholarship — and
anyone after them goes on the waitlist, which is not charged. A gift is added at payment.

Only a preview: the seat service prices every seat from the course when the order is placed. The
half price is finance's (``finance.pricing.scholarship_patron_price``), given to each class block
by the checkout view.
"""

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class CheckoutTotal:
    amount: Decimal
    half_price_seats: int
    waitlist_places: int


def checkout_total(checkout) -> CheckoutTotal:
    """The total of a ``enrollment.views.forms.checkout.CheckoutForm`` as it is shown (bound or not)."""
    amount, half, waitlist = Decimal("0.00"), 0, 0
    for block in checkout.blocks:
        course = block.course
        free_seats = 0 if course.problem else max(course.seats_left, 0)
        for n, attendee in enumerate(block.attendees):
            if n >= free_seats:
                waitlist += 1
            elif "scholarship" in attendee.fields and not checkout.full_price and attendee["scholarship"].value():
                amount += block.half
                half += 1
            else:
                amount += course.fee
    return CheckoutTotal(amount=amount, half_price_seats=half, waitlist_places=waitlist)
