"""Registrations in the back office, read-mostly.

A registration's status, its course and its expiry change only through the services of
``enrollment.services`` (ARCHITECTURE §3–4: one door for seats, an audit row for every status
change), so they are read-only here, and registrations are not added or deleted in the admin.
Staff may correct an attendee's name.
"""

from django.contrib import admin

from .models import Registration


@admin.register(Registration)
class RegistrationAdmin(admin.ModelAdmin):
    list_display = ("__str__", "attendee_last_name", "attendee_first_name", "course", "course_semester", "status",
                    "expires_at", "created_at")
    list_filter = ("status", "course__semester")
    list_select_related = ("course", "course__semester")
    search_fields = ("course__title", "attendee_last_name", "attendee_first_name")
    readonly_fields = ("course", "status", "expires_at", "created_at", "updated_at")
    fields = ("course", ("attendee_first_name", "attendee_last_name"), "status", "expires_at", "created_at",
              "updated_at")
    date_hierarchy = "created_at"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("course", "course__semester")

    @admin.display(description="Semester", ordering="course__semester__starts_on")
    def course_semester(self, obj):
        return obj.course.semester

    def has_add_permission(self, request):
        return False  # seats are taken through the seat service (checkout, front desk), not here

    def has_delete_permission(self, request, obj=None):
        return False
