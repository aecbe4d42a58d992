"""The one-row options are read once per request (``core.memo``): never stale across requests,
a save shows at once, nothing memoized outside a request or shared between threads."""

import threading

import pytest
from django.db import connection
from django.http import HttpResponse
from django.test.utils import CaptureQueriesContext

from core.memo import RequestMemoMiddleware
from core.models import SiteOptions
from enrollment.models import EnrollmentOptions

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _rows():
    SiteOptions.current()
    EnrollmentOptions.current()


def in_request(body):
    """Run ``body()`` as a view behind the memo's middleware; returns what it returned."""
    seen = {}

    def view(request):
        seen["value"] = body()
        return HttpResponse()

    RequestMemoMiddleware(view)(None)
    return seen["value"]


def test_each_options_row_is_read_once_per_request():
    def body():
        with CaptureQueriesContext(connection) as ctx:
            for _ in range(3):
                SiteOptions.current()
                EnrollmentOptions.current()
        return len(ctx)

    assert in_request(body) == 2


def test_the_next_request_reads_the_row_again():
    assert in_request(lambda: SiteOptions.current().library_name) == "Public Library"
    SiteOptions.objects.update(library_name="Salina Public Library")  # no signal: a change from elsewhere
    assert in_request(lambda: SiteOptions.current().library_name) == "Salina Public Library"


def test_a_save_in_the_request_shows_at_once():
    def body():
        before = EnrollmentOptions.current().hold_minutes
        options = EnrollmentOptions.objects.get()  # as the admin edits it: its own instance
        options.hold_minutes = before + 5
        options.save()
        return before, EnrollmentOptions.current().hold_minutes

    before, after = in_request(body)
    assert after == before + 5


def test_outside_a_request_nothing_is_memoized():
    SiteOptions.current()
    SiteOptions.objects.update(program_name="Lifelong Learning")
    assert SiteOptions.current().program_name == "Lifelong Learning"
    with CaptureQueriesContext(connection) as ctx:
        SiteOptions.current()
        SiteOptions.current()
    assert len(ctx) == 2


def test_another_thread_has_no_share_in_a_requests_memo():
    from core import memo

    def body():
        SiteOptions.current()
        theirs = {}
        thread = threading.Thread(target=lambda: theirs.setdefault("memo", memo._memo.get()))
        thread.start()
        thread.join()
        return memo._memo.get(), theirs["memo"]

    mine, theirs = in_request(body)
    assert "core.SiteOptions" in mine and theirs is None  # the other thread reads the database
