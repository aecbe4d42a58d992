"""The week-out pages of the back office, under /staff/week-out/ (``config.urls``): upcoming
cutoffs and recent decisions, and the staff call list. Every view goes through
``admin.site.admin_view``: staff only, the rest are sent to the back-office login."""

from django.urls import path

from core.staff import staff_page

from .. import weekout

app_name = "weekout"



urlpatterns = [
    path("", staff_page(weekout.WeekOutView), name="index"),
    path("calls/", staff_page(weekout.CallListView), name="calls"),
    path("calls/<int:entry_id>/mark/", staff_page(weekout.CallMarkView), name="call-mark"),
    path("courses/<int:course_id>/decide/", staff_page(weekout.DecideView), name="decide"),
]
