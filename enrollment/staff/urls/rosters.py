"""The roster pages of the back office, under /staff/rosters/ (``config.urls``). Every view goes
through ``admin.site.admin_view``: staff only, the rest are sent to the back-office login."""

from django.contrib import admin
from django.urls import path

from .. import rosters

app_name = "rosters"


def _staff(view_class):
    return admin.site.admin_view(view_class.as_view())


urlpatterns = [
    path("", _staff(rosters.RosterIndexView), name="index"),
    path("print/", _staff(rosters.RostersPrintView), name="print"),
    path("courses/<int:course_id>/", _staff(rosters.CourseRosterView), name="course"),
    path("courses/<int:course_id>/print/", _staff(rosters.CourseRosterPrintView), name="course-print"),
    path("courses/<int:course_id>/roster.csv", _staff(rosters.CourseRosterCsvView), name="course-csv"),
    path("meetings/<int:meeting_id>/attendance/", _staff(rosters.AttendanceTakeView), name="attendance"),
]
