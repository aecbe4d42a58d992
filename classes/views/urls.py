"""The public catalog's URLs (included at the site's root as ``classes:``)."""

from django.urls import path

from . import catalog, courses

app_name = "classes"
urlpatterns = [
    path("", catalog.CatalogHomeView.as_view(), name="home"),
    path("category/<slug:slug>/", catalog.CategoryDetailView.as_view(), name="category"),
    path("classes/<slug:semester_slug>/<slug:course_slug>/", courses.CourseDetailView.as_view(), name="course"),
    path(
        "classes/<slug:semester_slug>/<slug:course_slug>.ics",
        courses.CourseCalendarView.as_view(),
        name="course-ics",
    ),
]
