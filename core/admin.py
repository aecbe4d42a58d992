"""The site options in the back office: exactly one row, edited in place."""

from django.contrib import admin
from django.http import HttpResponseRedirect
from django.urls import reverse

from .models import SiteOptions


@admin.register(SiteOptions)
class SiteOptionsAdmin(admin.ModelAdmin):
    fieldsets = (
        ("The library", {"fields": ("library_name", "program_name", "street_address", "city_state_zip", "phone",
                                    "email")}),
        ("Rates used in course budgets", {"fields": ("staff_hourly_rate", "default_instructor_rate")}),
    )

    def has_add_permission(self, request):
        return super().has_add_permission(request) and not SiteOptions.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        """There is one row: go straight to it (making it on first use)."""
        options = SiteOptions.current()
        return HttpResponseRedirect(reverse("admin:core_siteoptions_change", args=[options.pk],
                                            current_app=self.admin_site.name))
