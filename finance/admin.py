"""Payments, refunds and Stripe events in the back office: read-only lists with filters.

Money moves only through ``finance.services``: card payments and refunds through Stripe, so
nothing here changes an amount or a status by hand. The one staff step is "mark issued" for a
cash or check refund, which records the refund check number (``refund_mark_issued``). The Pass the
Buck fund and its ledger are read-only too: entries are written by ``finance.services.fund``. A
payment's page links each of its registrations to the refund and transfer pages of
``finance.staff`` (/staff/money/); the refunds list links to "Refunds to issue".
"""

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from .errors import PaymentError
from .models import Donation, Fund, FundEntry, Payment, Refund, StripeEvent
from .services import refund_mark_issued
from .services.fund import fund_balance
from .staff.forms import RefundIssuedFormSet


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class RefundInline(admin.TabularInline):
    model = Refund
    fields = ("registration", "amount", "status", "reason", "reference", "done_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "order", "provider", "amount", "status", "reference", "payer", "taken_by", "created_at",
                    "succeeded_at")
    list_filter = ("provider", "status", "created_at")
    list_select_related = ("order", "taken_by")
    search_fields = ("reference", "order__id", "payer")
    date_hierarchy = "created_at"
    fields = ("order", "provider", "amount", "status", "reference", "payer", "failure_message", "registrations",
              "refund_or_transfer", "taken_by", "created_at", "succeeded_at")
    readonly_fields = fields
    inlines = [RefundInline]

    @admin.display(description="Registrations (refund or transfer from each one's page)")
    def refund_or_transfer(self, obj):
        registrations = obj.registrations.select_related("course").order_by("pk") if obj and obj.pk else []
        if not registrations:
            return "—"
        return format_html("<ul>{}</ul>", format_html_join(
            "", '<li><a href="{}">{} — {}</a> ({})</li>',
            ((reverse("admin:enrollment_registration_change", args=[r.pk]), r.attendee_name, r.course.title,
              r.get_status_display()) for r in registrations),
        ))


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "payment_provider", "amount", "status", "registration", "reference", "attempts",
                    "created_at", "done_at")
    list_filter = ("status", "payment__provider", "created_at")
    list_select_related = ("payment", "registration")
    search_fields = ("reference", "dedupe_key", "payment__reference")
    date_hierarchy = "created_at"
    fields = ("payment", "registration", "amount", "status", "reason", "reference", "dedupe_key", "issued_by",
              "attempts", "last_error", "created_at", "done_at")
    readonly_fields = fields
    actions = ["mark_issued"]
    change_list_template = "staff/money/refund_change_list.html"

    @admin.display(description="Paid by", ordering="payment__provider")
    def payment_provider(self, obj):
        return obj.payment.get_provider_display()

    def has_issue_permission(self, request):
        return request.user.has_perm("finance.change_refund")

    @admin.action(description="Mark selected cash/check refunds as issued…", permissions=["issue"])
    def mark_issued(self, request, queryset):
        refunds = list(
            queryset.filter(status=Refund.Status.PENDING).exclude(payment__provider=Payment.Provider.CARD)
            .select_related("payment", "registration").order_by("pk")
        )
        if not refunds:
            self.message_user(request, "Only cash or check refunds still to issue can be marked issued "
                                       "(card refunds are made through Stripe).", messages.WARNING)
            return None
        by_id = {r.pk: r for r in refunds}
        if "apply" in request.POST:
            formset = RefundIssuedFormSet(request.POST, prefix="issue")
            if formset.is_valid():
                done = 0
                for form in formset:
                    refund = by_id.get(form.cleaned_data["refund_id"])
                    if refund is None:
                        continue
                    try:
                        refund_mark_issued(refund_id=refund.pk, reference=form.cleaned_data["reference"],
                                           actor=request.user)
                        done += 1
                    except PaymentError as exc:
                        self.message_user(request, f"{refund}: {exc.message}", messages.ERROR)
                self.message_user(request, f"Marked {done} refund{'' if done == 1 else 's'} as issued; "
                                           "the patrons are e-mailed.", messages.SUCCESS)
                return None
        else:
            formset = RefundIssuedFormSet(initial=[{"refund_id": r.pk} for r in refunds], prefix="issue")
        rows = [(by_id.get(_int(form["refund_id"].value())), form) for form in formset]
        context = {
            **self.admin_site.each_context(request),
            "title": "Mark refunds as issued",
            "subtitle": None,
            "opts": self.opts,
            "rows": rows,
            "formset": formset,
            "refunds": refunds,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "media": self.media,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "finance/admin_mark_issued.html", context)


@admin.register(StripeEvent)
class StripeEventAdmin(ReadOnlyAdmin):
    list_display = ("event_id", "type", "received_at")
    list_filter = ("type", "received_at")
    search_fields = ("event_id",)
    date_hierarchy = "received_at"


@admin.register(Fund)
class FundAdmin(ReadOnlyAdmin):
    """The fund and its balance (the sum of its entries); the entries are the ledger below."""

    list_display = ("name", "balance")
    fields = ("name", "balance")
    readonly_fields = fields

    @admin.display(description="Balance")
    def balance(self, obj):
        return f"${fund_balance(obj):,.2f}"


@admin.register(FundEntry)
class FundEntryAdmin(ReadOnlyAdmin):
    """The ledger: never edited or deleted (a mistake is corrected by an adjustment, made through
    ``finance.services.fund.fund_adjust``)."""

    list_display = ("created_at", "kind", "amount", "reason", "registration", "payment", "created_by")
    list_filter = ("kind", "created_at")
    list_select_related = ("registration", "payment", "created_by")
    search_fields = ("dedupe_key", "reason", "registration__attendee_last_name")
    date_hierarchy = "created_at"
    fields = ("fund", "kind", "amount", "reason", "registration", "payment", "created_by", "created_at", "dedupe_key")
    readonly_fields = fields


@admin.register(Donation)
class DonationAdmin(ReadOnlyAdmin):
    """Donations to Pass the Buck: read-only (recorded on /staff/money/donations/new/, or given by
    card on /give/, through ``finance.services.donations``). The list never shows an anonymous donor's name; the change
    page does (staff need it for the receipt, which is the donor's)."""

    list_display = ("receipt", "donor", "amount", "method", "status", "date")
    list_filter = ("method", "status", "anonymous", "created_at")
    list_select_related = ("taken_by",)
    search_fields = ("id", "reference")
    date_hierarchy = "created_at"
    fields = ("receipt", "first_name", "last_name", "anonymous", "email", "address", "amount", "method", "reference",
              "dedication", "status", "failure_message", "taken_by", "created_at", "succeeded_at", "links")
    readonly_fields = fields

    @admin.display(description="Receipt number", ordering="pk")
    def receipt(self, obj):
        return obj.receipt_number

    @admin.display(description="Donor")
    def donor(self, obj):
        return "Anonymous" if obj.anonymous else obj.donor_name

    @admin.display(description="Date", ordering="created_at")
    def date(self, obj):
        return obj.succeeded_at or obj.created_at

    @admin.display(description="Pages")
    def links(self, obj):
        if not obj.pk:
            return "—"
        return format_html('<a href="{}">Donation page</a> · <a href="{}">Download receipt (PDF)</a>',
                           reverse("money:donation-detail", args=[obj.pk]),
                           reverse("money:donation-receipt", args=[obj.pk]))
