"""The week-out pages of the back office, under /staff/week-out/ (``config.urls``): upcoming
cutoffs and recent decisions, and the staff call list. Every view goes through
``admin.site.admin_view``: staff only, the rest are sent to the back-office login."""

from django.contrib import admin
from django.urls import path

from .. import weekout

app_name = "weekout"


def _staff(view_class):
    return admin.site.admin_view(view_class.as_view())


urlpatterns = [
    path("", _staff(weekout.WeekOutView), name="index"),
    path("calls/", _staff(weekout.CallListView), name="calls"),
    path("calls/<int:entry_id>/mark/", _staff(weekout.CallMarkView), name="call-mark"),
    path("courses/<int:course_id>/decide/", _staff(weekout.DecideView), name="decide"),
]
