"""Enrollment in the back office: the registration options, the "How did you hear about us?"
choices, and orders and registrations (read-mostly).

A registration's status, its course and its expiry change only through the services of
``enrollment.services`` (ARCHITECTURE §3–4: one door for seats, an audit row for every status
change), so they are read-only here, and orders and registrations are not added or deleted in the
admin. Staff may correct an attendee's name. Each registration shows its audit trail: its status
changes, and its payments and refunds with who and when.
"""

from django.contrib import admin
from django.db.models import Count

from core.admin import OneRowAdmin
from finance.templatetags.money_privacy import SCHOLARSHIP, may_see_scholarships

from .models import (
    CallListEntry,
    CourseDecision,
    EnrollmentOptions,
    Order,
    ReferralSource,
    Registration,
    RegistrationEvent,
    ScholarshipWait,
)
from .services.registration_names import registration_names_edit


class PatronPriceMixin:
    """Staff who may not see Pass the Buck awards (``finance.view_fundentry``) see a seat's price
    as the patron's own price (the fee less the award), under the same label: the full fee beside
    what the patron paid would tell who was helped."""

    @admin.display(description="Price")
    def patron_price_shown(self, obj):
        return obj.patron_price

    def _masked(self, request, names):
        if may_see_scholarships(request.user):
            return names
        return type(names)(("patron_price_shown" if name == "price" else name) for name in names)

    def get_fields(self, request, obj=None):
        return self._masked(request, tuple(super().get_fields(request, obj)))

    def get_readonly_fields(self, request, obj=None):
        return self._masked(request, tuple(super().get_readonly_fields(request, obj)))


@admin.register(EnrollmentOptions)
class EnrollmentOptionsAdmin(OneRowAdmin):
    """One row of options (hold minutes, offer hours, nudge days, link days, scholarships per
    attendee per semester), edited in place."""

    fields = ("hold_minutes", "offer_hours", "nudge_days", "link_days", "scholarship_limit")


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


class RegistrationInline(PatronPriceMixin, _ReadOnlyInline):
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
class RegistrationAdmin(PatronPriceMixin, admin.ModelAdmin):
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

    # --- the money trail: payments and refunds, with who and when (read-only) -----------------
    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        """Below the history: every payment covering this registration (a payment may cover
        several registrations of the order) and every refund of it, with who and when.
        Shown to everyone who may see the registration — without the Pass the Buck payments to
        those who may not see awards; the links to the payment and refund pages only to those who
        may open them."""
        if obj is not None and obj.pk:
            payments = obj.payments.select_related("taken_by").annotate(covers=Count("registrations"))
            refunds = obj.refunds.select_related("payment", "issued_by")
            if not may_see_scholarships(request.user):  # the patron's own money only, as at the desk
                payments = payments.exclude(provider=SCHOLARSHIP)
                refunds = refunds.exclude(payment__provider=SCHOLARSHIP)
            context["registration_payments"] = payments.order_by("created_at", "pk")
            context["registration_refunds"] = refunds.order_by("created_at", "pk")
            context["money_trail"] = True
            context["can_open_payments"] = request.user.has_perm("finance.view_payment")
            context["can_open_refunds"] = request.user.has_perm("finance.view_refund")
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)

    def get_form(self, request, obj=None, change=False, **kwargs):
        base = super().get_form(request, obj, change=change, **kwargs)

        class RegistrationNameForm(base):
            def clean(self):
                data = super().clean()
                from .services.seats import attendee_key

                reg = self.instance
                if reg.pk and data.get("attendee_first_name") and data.get("attendee_last_name"):
                    key = attendee_key(first_name=data["attendee_first_name"], last_name=data["attendee_last_name"],
                                       email=reg.order.email, phone=reg.order.phone)
                    clash = Registration.objects.filter(
                        course_id=reg.course_id, attendee_key=key, status__in=Registration.ACTIVE
                    ).exclude(pk=reg.pk)
                    if reg.status in Registration.ACTIVE and clash.exists():
                        self.add_error("attendee_first_name", "This buyer already registered someone of that name in this class.")
                return data

        return RegistrationNameForm

    def save_model(self, request, obj, form, change):
        """Only the attendee's name can be corrected here: through the service, which saves just
        those fields under the row lock and writes the audit row (``registration_names_edit``)."""
        registration_names_edit(registration_id=obj.pk, first_name=obj.attendee_first_name,
                                last_name=obj.attendee_last_name, actor=request.user)

    def has_add_permission(self, request):
        return False  # seats are taken through the seat service (checkout, front desk), not here

    def has_delete_permission(self, request, obj=None):
        return False


# --- the week-out run: its decisions and the staff call list (read-only here) -------------------

@admin.register(CourseDecision)
class CourseDecisionAdmin(admin.ModelAdmin):
    """What the week-out run (or staff) decided for each course: it runs or it is cancelled, on
    how many confirmed against the minimum, when and by whom. A record, never edited: decisions
    are made by ``course_decide`` only (one per course, ever)."""

    list_display = ("course", "course_semester", "outcome", "confirmed_count", "minimum", "decided_by_label",
                    "decided_at", "completed_at")
    list_filter = ("outcome", "automatic", "course__semester")
    list_select_related = ("course", "course__semester", "decided_by")
    search_fields = ("course__title", "reason")
    date_hierarchy = "decided_at"
    fields = ("course", "outcome", ("confirmed_count", "minimum"), "automatic", "decided_by", "reason", "decided_at",
              "completed_at")
    readonly_fields = ("course", "outcome", "confirmed_count", "minimum", "automatic", "decided_by", "reason",
                       "decided_at", "completed_at")

    @admin.display(description="Semester", ordering="course__semester__starts_on")
    def course_semester(self, obj):
        return obj.course.semester

    @admin.display(description="Decided by", ordering="automatic")
    def decided_by_label(self, obj):
        if obj.automatic:
            return "Week-out run (automatic)"
        return obj.decided_by.get_username() if obj.decided_by else "Staff"

    def has_add_permission(self, request):
        return False  # made by course_decide, never by hand

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class CalledFilter(admin.SimpleListFilter):
    title = "called"
    parameter_name = "called"

    def lookups(self, request, model_admin):
        return [("no", "Not called yet"), ("yes", "Called")]

    def queryset(self, request, queryset):
        if self.value() == "no":
            return queryset.filter(called_at__isnull=True)
        if self.value() == "yes":
            return queryset.filter(called_at__isnull=False)
        return queryset


@admin.register(CallListEntry)
class CallListEntryAdmin(admin.ModelAdmin):
    """The staff call list: registrants without e-mail to phone about a decided course. Entries
    are made by the week-out run; calls are marked on the call list page (/staff/week-out/calls/),
    which records who called and when — so this list is read-only."""

    list_display = ("attendee", "phone", "course", "topic", "outcome", "called_at", "called_by")
    list_filter = (CalledFilter, "topic", "outcome", "registration__course__semester")
    list_select_related = ("registration", "registration__order", "registration__course", "called_by")
    search_fields = ("registration__attendee_last_name", "registration__attendee_first_name",
                     "registration__order__last_name", "registration__order__phone", "registration__course__title")
    fields = ("registration", "topic", "script", "outcome", "notes", "called_at", "called_by", "created_at")
    readonly_fields = fields

    @admin.display(description="Attendee", ordering="registration__attendee_last_name")
    def attendee(self, obj):
        return obj.registration.attendee_name

    @admin.display(description="Phone")
    def phone(self, obj):
        return obj.registration.order.phone

    @admin.display(description="Class", ordering="registration__course__title")
    def course(self, obj):
        return obj.registration.course

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("registration__order", "registration__course",
                                                            "called_by")

    def has_add_permission(self, request):
        return False  # made by the week-out run, with what to tell them

    def has_change_permission(self, request, obj=None):
        return False  # marked on the call list page, which records who and when

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ScholarshipWait)
class ScholarshipWaitAdmin(admin.ModelAdmin):
    """The Pass the Buck scholarship waitlist: attendees who asked for a scholarship when the fund
    was short, in line for donations (offered automatically, oldest first, by finance's periodic
    job and after each donation). Read-only here; seen only by the coordinator and Finance."""

    list_display = ("attendee", "course", "status", "created_at", "order")
    list_filter = ("status", "course__semester")
    list_select_related = ("course", "order")
    search_fields = ("attendee_last_name", "attendee_first_name", "last_name", "course__title")
    fields = ("course", "attendee_first_name", "attendee_last_name", "attendee_age", "relationship", "first_name",
              "last_name", "email", "phone", "status", "order", "closed_reason", "created_at", "updated_at")
    readonly_fields = fields

    @admin.display(description="Attendee", ordering="attendee_last_name")
    def attendee(self, obj):
        return f"{obj.attendee_first_name} {obj.attendee_last_name}".strip()

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
