"""Enrollment in the back office: the registration options, the "How did you hear about us?"
choices, and orders and registrations (read-mostly).

A registration's status, its course and its expiry change only through the services of
``enrollment.services`` (ARCHITECTURE §3–4: one door for seats, an audit row for every status
change), so they are read-only here, and orders and registrations are not added or deleted in the
admin. Staff may correct an attendee's name. Each registration shows its audit trail.
"""

from django.contrib import admin
from django.http import HttpResponseRedirect
from django.urls import reverse

from .models import EnrollmentOptions, Order, ReferralSource, Registration, RegistrationEvent


@admin.register(EnrollmentOptions)
class EnrollmentOptionsAdmin(admin.ModelAdmin):
    """One row of options (hold minutes, offer hours, link days), edited in place."""

    fields = ("hold_minutes", "offer_hours", "link_days")

    def has_add_permission(self, request):
        return super().has_add_permission(request) and not EnrollmentOptions.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        """There is one row: go straight to it (making it on first use)."""
        options = EnrollmentOptions.current()
        return HttpResponseRedirect(reverse("admin:enrollment_enrollmentoptions_change", args=[options.pk],
                                            current_app=self.admin_site.name))


@admin.register(ReferralSource)
class ReferralSourceAdmin(admin.ModelAdmin):
    """The answers to "How did you hear about us?". Orders keep the answer they were given, and
    the reports count them, so an answer is retired (untick "active"), not deleted."""

    list_display = ("name", "position", "active")
    list_editable = ("position", "active")
    list_filter = ("active",)
    search_fields = ("name",)

    def has_delete_permission(self, request, obj=None):
        return False


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class RegistrationInline(_ReadOnlyInline):
    model = Registration
    fields = ("attendee_first_name", "attendee_last_name", "attendee_age", "relationship", "course", "status",
              "price", "expires_at")
    readonly_fields = fields
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("course")


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    """Orders as they were placed: read-only (the buyer's details are what they typed at
    checkout or the desk; registrations change through the services)."""

    list_display = ("reference", "last_name", "first_name", "email", "channel", "referral", "mail_catalog",
                    "created_at")
    list_filter = ("channel", "mail_catalog", "referral")
    list_select_related = ("referral",)
    search_fields = ("last_name", "first_name", "email", "phone")
    date_hierarchy = "created_at"
    fields = ("reference", "token", ("first_name", "last_name"), ("email", "phone"), "street_address",
              "city_state_zip", "mail_catalog", "referral", "channel", "created_at")
    readonly_fields = ("reference", "token", "first_name", "last_name", "email", "phone", "street_address",
                       "city_state_zip", "mail_catalog", "referral", "channel", "created_at")
    inlines = [RegistrationInline]

    @admin.display(description="Order", ordering="pk")
    def reference(self, obj):
        return obj.reference

    def has_add_permission(self, request):
        return False  # orders are placed through the seat service (checkout, front desk)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class RegistrationEventInline(_ReadOnlyInline):
    """The audit trail: every status change, who made it, when and why."""

    model = RegistrationEvent
    fields = ("at", "from_status", "to_status", "actor_label", "actor", "reason")
    readonly_fields = fields
    verbose_name = "status change"
    verbose_name_plural = "history"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


@admin.register(Registration)
class RegistrationAdmin(admin.ModelAdmin):
    list_display = ("__str__", "attendee_last_name", "attendee_first_name", "course", "course_semester", "status",
                    "expires_at", "created_at")
    list_filter = ("status", "course__semester")
    list_select_related = ("course", "course__semester")
    search_fields = ("course__title", "attendee_last_name", "attendee_first_name")
    readonly_fields = ("order", "course", "status", "attendee_age", "relationship", "price", "expires_at",
                       "confirmed_at", "cancelled_at", "created_at", "updated_at")
    fields = ("order", "course", ("attendee_first_name", "attendee_last_name"), ("attendee_age", "relationship"),
              "status", "price", "expires_at", "confirmed_at", "cancelled_at", "created_at", "updated_at")
    date_hierarchy = "created_at"
    inlines = [RegistrationEventInline]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("course", "course__semester", "order")

    def get_inline_instances(self, request, obj=None):
        """The history is shown, never posted: it has no editable field, so a save (which only
        corrects a name) builds no formset for it and needs none of its management data."""
        if request.method == "POST":
            return []
        return super().get_inline_instances(request, obj)

    @admin.display(description="Semester", ordering="course__semester__starts_on")
    def course_semester(self, obj):
        return obj.course.semester

    def has_add_permission(self, request):
        return False  # seats are taken through the seat service (checkout, front desk), not here

    def has_delete_permission(self, request, obj=None):
        return False
