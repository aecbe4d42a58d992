"""Semesters, categories and venues in the back office (a venue with its map preview)."""

from django.contrib import admin
from django.utils.html import format_html

from core.admin_a11y import NamedSplitDateTimeMixin

from ..models import Category, Semester, Venue


@admin.register(Semester)
class SemesterAdmin(NamedSplitDateTimeMixin, admin.ModelAdmin):
    list_display = ("name", "starts_on", "ends_on", "registration_opens_at", "cutoff_days", "is_published")
    list_filter = ("is_published",)
    search_fields = ("name",)
    prepopulated_fields = {"slug": ("name",)}
    date_hierarchy = "starts_on"
    fieldsets = (
        (None, {"fields": ("name", "slug", "is_published")}),
        ("Dates", {"fields": ("starts_on", "ends_on", "registration_opens_at", "cutoff_days")}),
    )


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "position", "slug")
    list_editable = ("position",)
    search_fields = ("name",)
    prepopulated_fields = {"slug": ("name",)}


@admin.register(Venue)
class VenueAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "city", "capacity", "room_fee_terms", "room_fee_rate")
    list_filter = ("kind", "room_fee_terms")
    search_fields = ("name", "street_address", "city")
    prepopulated_fields = {"slug": ("name",)}
    fieldsets = (
        ("Where", {"fields": ("name", "slug", "kind", "street_address", "city", "state", "postal_code",
                              ("latitude", "longitude"), "contact")}),
        ("Capacity", {"fields": ("capacity",)}),
        ("Access and parking", {"fields": ("accessibility_notes", "parking_notes")}),
        ("Map", {"fields": ("map_image", "map_preview"),
                 "description": "A map of the venue, its entrance and parking (PNG or JPEG, about 600 pixels "
                                "wide). Reminders embed it in the e-mail; no map service is called."}),
        ("Room fee", {"fields": ("room_fee_terms", "room_fee_rate")}),
    )
    readonly_fields = ("map_preview",)

    @admin.display(description="Preview")
    def map_preview(self, venue):
        """A small preview, inline as a data URI (media files need no web server to be seen here)."""
        if not venue or not venue.map_image:
            return "No map yet: reminders give the address and a directions link only."
        thumbnail = _map_thumbnail(venue)
        if thumbnail is None:
            return "The map file cannot be read as an image: please upload it again."
        return format_html('<img src="data:image/png;base64,{}" alt="Map of {}" class="map-preview">',
                           thumbnail, venue.name)


def _map_thumbnail(venue: Venue, width: int = 300) -> str | None:
    """The venue's map scaled to ``width`` pixels, as base64 PNG; None when it is missing or broken."""
    import base64
    import io

    from PIL import Image, UnidentifiedImageError

    try:
        with venue.map_image.open("rb") as file, Image.open(file) as image:
            image.thumbnail((width, width * 4))
            out = io.BytesIO()
            (image if image.mode in ("1", "L", "LA", "P", "RGB", "RGBA") else image.convert("RGB")).save(out, "PNG")
    except (OSError, ValueError, UnidentifiedImageError):
        return None
    return base64.b64encode(out.getvalue()).decode("ascii")
