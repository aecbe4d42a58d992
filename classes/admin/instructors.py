"""Instructors (the people who teach) in the back office."""

from django.contrib import admin
from django.db.models import Count

from ..models import Instructor


@admin.register(Instructor)
class InstructorAdmin(admin.ModelAdmin):
    list_display = ("display_name", "email", "pay_basis", "hourly_rate", "is_library_staff", "active", "course_count")
    list_filter = ("pay_basis", "is_library_staff", "active")
    search_fields = ("first_name", "last_name", "email")
    fieldsets = (
        (None, {"fields": (("first_name", "last_name"), "email", "phone", "bio")}),
        ("Pay", {"fields": ("pay_basis", "hourly_rate")}),
        ("Status", {"fields": ("is_library_staff", "active")}),
    )

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(course_count=Count("courses", distinct=True))

    @admin.display(description="Name", ordering="last_name")
    def display_name(self, obj):
        return obj.display_name

    @admin.display(description="Courses", ordering="course_count")
    def course_count(self, obj):
        return obj.course_count
