from django.urls import path

from . import views

app_name = "classes"
urlpatterns = [
    path("", views.CatalogHomeView.as_view(), name="home"),
    path("category/<slug:slug>/", views.CategoryDetailView.as_view(), name="category"),
    path("classes/<slug:semester_slug>/<slug:course_slug>/", views.CourseDetailView.as_view(), name="course"),
    path(
        "classes/<slug:semester_slug>/<slug:course_slug>.ics",
        views.CourseCalendarView.as_view(),
        name="course-ics",
    ),
]
