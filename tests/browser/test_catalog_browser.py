"""The public catalog in a real browser, with the keyboard only: skip link, category filter,
a course page with its closing date, and its .ics download; plus accessibility checks that
need a browser (every form control has an accessible name, one h1 per page)."""

import datetime as dt
import re
from pathlib import Path

import pytest
from django.template.defaultfilters import date as date_filter
from icalendar import Calendar

from tests.factories import CategoryFactory, SemesterFactory, course_with_meetings, local_dt, today
from tests.servers import require_playwright

require_playwright()  # skips this module outside CI (fails in CI) when playwright is missing
from playwright.sync_api import Page, expect  # noqa: E402

pytestmark = pytest.mark.browser

SCREENSHOTS = Path("/tmp")

#: Accessibility-tree roles of form controls: each must have a name a screen reader can say.
CONTROL_ROLES = {
    "textbox",
    "searchbox",
    "combobox",
    "listbox",
    "checkbox",
    "radio",
    "spinbutton",
    "slider",
    "switch",
    "button",
}


def focused(page: Page, locator) -> bool:
    return locator.evaluate("el => el === document.activeElement")


def tab_to(page: Page, locator, *, limit: int = 60) -> None:
    """Press Tab until ``locator`` has the focus (as a keyboard user would)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if focused(page, locator):
            return
    raise AssertionError(f"{locator} never got the focus after {limit} Tab presses")


def assert_accessible_basics(page: Page) -> None:
    """Exactly one h1, and every form control named in Chromium's own accessibility tree (the
    name a screen reader announces: its label, aria-label or text)."""
    h1_count = page.locator("h1").count()  # the page has loaded: count now, no waiting
    assert h1_count == 1, f"{h1_count} h1 elements on {page.url}"
    cdp = page.context.new_cdp_session(page)
    try:
        nodes = cdp.send("Accessibility.getFullAXTree")["nodes"]
    finally:
        cdp.detach()
    controls = [n for n in nodes if not n.get("ignored") and n.get("role", {}).get("value") in CONTROL_ROLES]
    unnamed = [
        f"{n['role']['value']} (backend node {n.get('backendDOMNodeId')})"
        for n in controls
        if not str(n.get("name", {}).get("value", "")).strip()
    ]
    assert not unnamed, f"form controls without an accessible name: {unnamed}"
    # Nothing escaped the tree: every visible input, select, textarea and button is in it.
    visible = page.locator("input:not([type=hidden]):visible, select:visible, textarea:visible, button:visible")
    assert len(controls) >= visible.count()


@pytest.fixture
def catalog():
    """A published semester open for registration, with two categories."""
    semester = SemesterFactory(name="Spring Sampler", slug="spring-sampler")
    cooking = CategoryFactory(name="Cooking", slug="cooking")
    computers = CategoryFactory(name="Computers", slug="computers")
    first = local_dt(today() + dt.timedelta(days=24), 18, 30)
    courses = {
        "bread": course_with_meetings(
            semester=semester, category=cooking, title="Bread Baking", slug="bread", first=first
        ),
        "knife": course_with_meetings(
            semester=semester, category=cooking, title="Knife Skills", slug="knife", first=first + dt.timedelta(days=1)
        ),
        "sheets": course_with_meetings(
            semester=semester,
            category=computers,
            title="Spreadsheets for Beginners",
            slug="spreadsheets",
            first=first + dt.timedelta(days=2),
            weekly=3,
        ),
    }
    return semester, courses


def test_catalog_with_the_keyboard_only(page: Page, live_url: str, catalog):
    semester, courses = catalog
    sheets = courses["sheets"]
    page.goto(f"{live_url}/")
    expect(page.locator("h1")).to_have_text(f"{semester.name} classes")
    assert_accessible_basics(page)
    expect(page.get_by_label("Category", exact=True)).to_have_js_property("tagName", "SELECT")
    expect(page.get_by_label("Search", exact=True)).to_be_visible()

    # The first Tab lands on the skip link; Enter moves the focus to the main content.
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()  # visually hidden until focused
    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()
    assert page.url.endswith("#main")

    # Choose the Computers category with the arrow keys, then submit with Enter.
    category = page.get_by_label("Category", exact=True)
    tab_to(page, category)
    for _ in range(5):
        if category.input_value() == "computers":
            break
        page.keyboard.press("ArrowDown")
    expect(category).to_have_value("computers")
    tab_to(page, page.get_by_role("button", name="Show classes"))
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"[?&]category=computers(&|$)"))
    expect(page.get_by_role("status").filter(has_text="match")).to_contain_text("1 class matches your search")
    expect(page.get_by_role("link", name="Knife Skills")).to_have_count(0)
    page.screenshot(path=str(SCREENSHOTS / "browser-catalog-filtered.png"), full_page=True)

    # Open the course page from its card.
    tab_to(page, page.get_by_role("link", name=sheets.title, exact=True))
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page).to_have_url(f"{live_url}{sheets.get_absolute_url()}")
    expect(page.locator("h1")).to_have_text(sheets.title)
    assert_accessible_basics(page)

    last_day = date_filter(sheets.last_day_to_register, "D, M j")
    expect(page.get_by_text(f"Register by {last_day}")).to_be_visible()
    expect(page.locator(".meeting-list li")).to_have_count(3)

    # The calendar link downloads an .ics with one event per meeting.
    ics_link = page.get_by_role("link", name="Add to calendar (.ics)")
    tab_to(page, ics_link)
    with page.expect_download() as download_info:
        page.keyboard.press("Enter")
    download = download_info.value
    assert download.suggested_filename == f"{semester.slug}-{sheets.slug}.ics"
    calendar = Calendar.from_ical(Path(download.path()).read_bytes())
    events = calendar.walk("VEVENT")
    assert [str(e["SUMMARY"]) for e in events] == [sheets.title] * 3
    starts = sorted(e.decoded("DTSTART") for e in events)
    assert starts == [m.starts_at for m in sheets.ordered_meetings()]

    page.screenshot(path=str(SCREENSHOTS / "browser-course-page.png"), full_page=True)


def test_the_accessibility_check_can_fail(page: Page):
    """The check above catches an unnamed control and a second h1 (so its passing means something)."""
    page.set_content("<main><h1>Classes</h1><label>Search <input type=search></label><button>Go</button></main>")
    assert_accessible_basics(page)
    page.set_content("<main><h1>Classes</h1><select name=category><option>All</option></select></main>")
    with pytest.raises(AssertionError, match="combobox"):
        assert_accessible_basics(page)
    page.set_content("<main><h1>Classes</h1><h1>Again</h1></main>")
    with pytest.raises(AssertionError):
        assert_accessible_basics(page)
