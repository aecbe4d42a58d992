"""The roster pages of the back office, under /staff/rosters/ (``config.urls``). Every view goes
through ``admin.site.admin_view``: staff only, the rest are sent to the back-office login."""

from django.urls import path

from core.staff import staff_page

from .. import rosters

app_name = "rosters"



urlpatterns = [
    path("", staff_page(rosters.RosterIndexView), name="index"),
    path("print/", staff_page(rosters.RostersPrintView), name="print"),
    path("courses/<int:course_id>/", staff_page(rosters.CourseRosterView), name="course"),
    path("courses/<int:course_id>/print/", staff_page(rosters.CourseRosterPrintView), name="course-print"),
    path("courses/<int:course_id>/roster.csv", staff_page(rosters.CourseRosterCsvView), name="course-csv"),
    path("meetings/<int:meeting_id>/attendance/", staff_page(rosters.AttendanceTakeView), name="attendance"),
]
