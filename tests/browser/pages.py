"""What the browser tests do on our pages, in one place: the fake card field of localstripe's
Stripe.js, putting a class in the cart, an attendee's fieldset at checkout. Import after
``require_playwright()``."""

from django.urls import reverse
from playwright.sync_api import Page, expect

CARD_GROUP = "Card number, expiry date, security code and ZIP"


def card_field(page: Page):
    """localstripe's fake card element: five text inputs (named by their placeholders) mounted in
    our labelled ``role=group`` #card-element (real Stripe.js would put an iframe there)."""
    return page.get_by_role("group", name=CARD_GROUP)


def type_card(page: Page, number: str) -> None:
    group = card_field(page)
    group.get_by_placeholder("number", exact=True).press_sequentially(number)
    group.get_by_placeholder("exp_month", exact=True).fill("12")
    group.get_by_placeholder("exp_year", exact=True).fill("34")
    group.get_by_placeholder("cvc", exact=True).fill("123")
    group.get_by_placeholder("postal_code", exact=True).fill("67401")


def add_to_cart(page: Page, live_url: str, title: str) -> None:
    """From the catalog, open the class's page and press its "Register" button."""
    page.goto(f"{live_url}/")
    with page.expect_navigation():
        page.get_by_role("link", name=title, exact=True).click()
    expect(page.locator("h1")).to_have_text(title)
    with page.expect_navigation():
        page.get_by_role("button", name="Register", exact=True).click()
    expect(page).to_have_url(f"{live_url}{reverse('enrollment:cart')}")
    expect(page.get_by_text(f"“{title}” is in your cart.")).to_be_visible()


def attendee(page: Page, course_title: str, n: int):
    return page.get_by_role("group", name=f"Attendee {n} for {course_title}", exact=True)
