"""The back office of core: the site options (exactly one row, edited in place: ``OneRowAdmin``) and the
outbox (every e-mail, its state and last error, with "Retry now")."""

import logging

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import Truncator

from . import user_admin  # noqa: F401  (users and roles: who may make a superuser or change a role)
from .models import OutboxMessage, SiteOptions

logger = logging.getLogger(__name__)


class OneRowAdmin(admin.ModelAdmin):
    """The admin of a one-row options model (``current()`` makes the row on first use).

    Never "Add": the row always exists by the time anyone could add one, since ``current()``
    makes it on first use, perhaps while the very page offering "Add" is rendered (the
    dashboard, the site's context). So the model list shows "Change", its link goes straight to
    the row (made now if need be), and the row is never deleted.
    """

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        """There is one row: go straight to it (making it on first use) — for staff who may see it."""
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        row = self.model.current()
        opts = self.model._meta
        return HttpResponseRedirect(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[row.pk],
                                            current_app=self.admin_site.name))


@admin.register(SiteOptions)
class SiteOptionsAdmin(OneRowAdmin):
    fieldsets = (
        ("The library", {"fields": ("library_name", "program_name", "street_address", "city_state_zip", "phone",
                                    "email")}),
        ("Rates used in course budgets", {"fields": ("staff_hourly_rate", "default_instructor_rate")}),
        ("Donations", {"fields": ("nonprofit_statement",)}),
    )


# --- The outbox: every e-mail the program sends, its state and its last error ----------------

class OutboxMessageAdmin(admin.ModelAdmin):
    """Read-only list of outbox messages: pending, sent, failed (with the error). Staff can only
    "Retry now"; content is never edited (it is what the patron was, or will be, sent)."""

    list_display = ("status_label", "template", "subject", "created_at", "sent_at", "attempts", "next_attempt_at",
                    "error_short")
    list_display_links = ("subject",)
    list_filter = ("status", "template")
    search_fields = ("dedupe_key", "subject")
    date_hierarchy = "created_at"
    actions = ["retry_now"]
    fields = ("status_label", "last_error", "attempts", "next_attempt_at", "sent_at", "created_at", "template",
              "dedupe_key", "to", "subject", "body_text", "attachment_list")
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        # Nothing on a message can be edited; the "change" permission only unlocks "Retry now".
        return obj is None and super().has_change_permission(request)

    @admin.display(description="status", ordering="status")
    def status_label(self, obj):
        # Colours in static/css/staff/admin.css (the Content-Security-Policy allows no inline style).
        labels = {
            OutboxMessage.Status.FAILED: ("failed", "✖ Failed"),
            OutboxMessage.Status.PENDING: ("pending", "… Pending"),
            OutboxMessage.Status.SENT: ("sent", "✔ Sent"),
        }
        kind, label = labels.get(obj.status, ("other", obj.get_status_display()))
        return format_html('<span class="status-label status-label-{}">{}</span>', kind, label)

    @admin.display(description="last error")
    def error_short(self, obj):
        return Truncator(obj.last_error).chars(80) if obj.last_error else "—"

    @admin.display(description="attachments")
    def attachment_list(self, obj):
        names = [f"{a.get('filename')} ({a.get('mimetype')})" for a in obj.attachments or []]
        return ", ".join(names) or "—"

    @admin.action(description="Retry now (failed or pending messages)", permissions=["change"])
    def retry_now(self, request, queryset):
        from .outbox import outbox_retry
        from .tasks import outbox_deliver

        ids = outbox_retry(message_ids=queryset.values_list("pk", flat=True))
        queued = 0
        for message_id in ids:
            try:
                outbox_deliver.delay(message_id)
                queued += 1
            except Exception:  # a broker that is down: the sweep sends them within a minute
                logger.warning("outbox retry: could not queue message %s", message_id, exc_info=True)
        skipped = queryset.count() - len(ids)
        text = f"{len(ids)} message(s) put back to pending and queued for delivery"
        if queued < len(ids):
            text += f" ({len(ids) - queued} will be picked up by the next sweep)"
        if skipped:
            text += f"; {skipped} already sent, left alone"
        self.message_user(request, text + ".", messages.SUCCESS if ids else messages.WARNING)


admin.site.register(OutboxMessage, OutboxMessageAdmin)
