"""Keyboard focus, in a real browser: where it lands when a page comes back (the error summary
after a submit with errors, the "how many attendees" control after changing the count) and how
visible it is (every focus ring at least 3:1 against the background around it, WCAG 2.1 1.4.11)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from enrollment.models import ReferralSource
from tests.factories import SemesterFactory, course_with_meetings, local_dt, today
from tests.servers import require_playwright

require_playwright()  # skips this module outside CI (fails in CI) when playwright is missing
from playwright.sync_api import Page, expect  # noqa: E402

from .pages import add_to_cart  # noqa: E402

pytestmark = pytest.mark.browser

STAFF_USER, STAFF_PASSWORD = "casey.coordinator", "Coordinator-passw0rd"


@pytest.fixture
def course(transactional_db):
    ReferralSource.objects.get_or_create(name="Library website", defaults={"position": 1})
    semester = SemesterFactory(name="Fall Focus", slug="fall-focus", is_published=True)
    return course_with_meetings(semester=semester, title="Bread Baking", slug="bread-baking", fee=Decimal("40.00"),
                                capacity=10, first=local_dt(today() + dt.timedelta(days=28), 18, 30), weekly=2)


@pytest.fixture
def staff_page(page: Page, live_url, django_user_model, course):
    django_user_model.objects.create_superuser(STAFF_USER, "casey@library.example", STAFF_PASSWORD)
    page.goto(f"{live_url}/staff/login/")
    page.get_by_label("Username").fill(STAFF_USER)
    page.get_by_label("Password").fill(STAFF_PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Log in").click()
    return page


def active_id(page: Page) -> str:
    return page.evaluate("() => document.activeElement && document.activeElement.id")


# --- where focus goes -----------------------------------------------------------------------

def test_after_checkout_with_errors_focus_is_on_the_error_summary(page: Page, live_url, course):
    add_to_cart(page, live_url, course.title)
    page.goto(f"{live_url}{reverse('enrollment:checkout')}")
    with page.expect_navigation():
        page.get_by_role("button", name="Continue to payment").click()
    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    assert summary.get_attribute("tabindex") == "-1"


def test_after_a_link_request_with_errors_focus_is_on_the_error_summary(page: Page, live_url, course):
    page.goto(f"{live_url}{reverse('enrollment:manage-link-request')}")
    with page.expect_navigation():
        page.get_by_role("button", name="Send me a link").click()
    expect(page.locator("[data-error-summary]")).to_be_focused()


def test_after_changing_the_number_of_attendees_focus_stays_on_that_control(page: Page, live_url, course):
    add_to_cart(page, live_url, course.title)
    page.goto(f"{live_url}{reverse('enrollment:checkout')}")
    block = page.get_by_role("group", name=course.title, exact=True)
    count = block.get_by_label("Attendees for this class")
    count.focus()
    count.select_option("2")
    update = block.get_by_role("button", name=f"Update the number of attendees for {course.title}")
    if update.is_visible():  # without the checkout's own script, the count is sent with "Update"
        update.focus()
        with page.expect_navigation():
            page.keyboard.press("Enter")
    count = page.get_by_role("group", name=course.title, exact=True).get_by_label("Attendees for this class")
    expect(count).to_have_value("2")
    expect(count).to_be_focused()


def test_after_a_desk_registration_with_errors_focus_is_on_the_error_list(staff_page: Page, live_url):
    staff_page.goto(f"{live_url}{reverse('desk:register')}")
    with staff_page.expect_navigation():
        staff_page.get_by_role("button", name="Register", exact=True).click()
    expect(staff_page.locator("#desk-errors")).to_be_visible()
    expect(staff_page.locator("#desk-errors")).to_be_focused()


def test_after_an_admin_form_with_errors_focus_is_on_the_error_note(staff_page: Page, live_url):
    staff_page.goto(f"{live_url}{reverse('admin:classes_semester_add')}")
    with staff_page.expect_navigation():
        staff_page.get_by_role("button", name="Save", exact=True).click()
    expect(staff_page.locator("form .errornote")).to_be_focused()


# --- how visible the focus is ---------------------------------------------------------------

def _luminance(rgb: tuple[float, float, float]) -> float:
    def channel(c: float) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a, b) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


# The focused element's outline, and the colour behind it: the nearest ancestor's opaque
# background (the ring is drawn outside the element, over what surrounds it). Colours in sRGB.
_RING = """el => {
    const rgb = s => { const m = s.match(/rgba?\\(([^)]+)\\)/); if (!m) return null;
        const p = m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number);
        return {rgb: p.slice(0, 3), alpha: p.length > 3 ? p[3] : 1}; };
    const style = getComputedStyle(el);
    let node = el.parentElement, behind = null;
    while (node) { const c = rgb(getComputedStyle(node).backgroundColor);
        if (c && c.alpha === 1) { behind = c.rgb; break; } node = node.parentElement; }
    return {focused: el === document.activeElement, visible: el.matches(':focus-visible'),
            style: style.outlineStyle, width: parseFloat(style.outlineWidth),
            color: rgb(style.outlineColor), behind: behind || [255, 255, 255]};
}"""


def assert_focus_ring(page: Page, locator, what: str) -> float:
    page.keyboard.press("Shift")  # a keyboard user: the browser then shows :focus-visible
    locator.focus()
    ring = locator.evaluate(_RING)
    assert ring["focused"], what
    assert ring["style"] != "none" and ring["width"] >= 2, f"{what}: no visible outline ({ring})"
    assert ring["color"]["alpha"] == 1, f"{what}: a see-through ring ({ring})"
    ratio = contrast(ring["color"]["rgb"], ring["behind"])
    assert ratio >= 3, f"{what}: focus ring {ring['color']['rgb']} on {ring['behind']} is {ratio:.2f}:1"
    return ratio


def test_public_focus_rings_are_at_least_3_to_1(page: Page, live_url, course):
    page.goto(f"{live_url}/")
    assert_focus_ring(page, page.get_by_role("navigation", name="Main").get_by_role("link").first, "header link")
    assert_focus_ring(page, page.locator("footer a").first, "footer link")
    assert_focus_ring(page, page.get_by_role("searchbox").first, "search field")
    assert_focus_ring(page, page.locator("main form button[type=submit]").first, "search button")
    assert_focus_ring(page, page.get_by_role("link", name=course.title, exact=True), "course link")
    add_to_cart(page, live_url, course.title)
    page.goto(f"{live_url}{reverse('enrollment:checkout')}")
    assert_focus_ring(page, page.get_by_role("group", name="Your details").get_by_label("First name"), "text field")
    assert_focus_ring(page, page.get_by_label("How did you hear about us?"), "select")
    assert_focus_ring(page, page.get_by_role("button", name="Continue to payment"), "primary button")
    checkbox = page.locator("main input[type=checkbox]").first
    if checkbox.count():
        assert_focus_ring(page, checkbox, "checkbox")


def test_back_office_focus_rings_are_at_least_3_to_1(staff_page: Page, live_url):
    page = staff_page
    assert_focus_ring(page, page.locator("#header a").first, "header link")
    assert_focus_ring(page, page.locator("#content-main a").first, "dashboard link")
    page.goto(f"{live_url}{reverse('admin:classes_semester_add')}")
    assert_focus_ring(page, page.locator("div.breadcrumbs a").first, "breadcrumb link")
    assert_focus_ring(page, page.get_by_label("Name"), "text field")
    assert_focus_ring(page, page.get_by_label("Registration opens at (date)"), "date field")
    assert_focus_ring(page, page.get_by_role("button", name="Save", exact=True), "default button")


def test_the_focus_ring_check_can_fail(page: Page):
    """Bootstrap's own ring (a faint glow, no outline) fails the check, so its passing means something."""
    page.set_content("<style>body{background:#fff} button:focus{outline:0;box-shadow:0 0 0 .25rem "
                     "rgba(13,110,253,.25)}</style><button>Go</button>")
    with pytest.raises(AssertionError, match="no visible outline"):
        assert_focus_ring(page, page.get_by_role("button"), "button")
    page.set_content("<style>body{background:#fff} button:focus-visible{outline:3px solid #f2a900}</style>"
                     "<button>Go</button>")
    with pytest.raises(AssertionError, match="is 2"):
        assert_focus_ring(page, page.get_by_role("button"), "button")
