from django.contrib import admin
from django.urls import include, path

from core.health import healthz

admin.site.site_header = "Library Classes — back office"
admin.site.site_title = "Library Classes back office"
admin.site.index_title = "Program administration"

urlpatterns = [
    path("healthz", healthz, name="healthz"),  # load balancers' health check (no database, no session)
    path("staff/rosters/", include("enrollment.staff.urls.rosters")),
    path("staff/desk/", include("enrollment.staff.urls.desk")),
    path("staff/money/", include("finance.staff.urls")),
    path("staff/week-out/", include("enrollment.staff.urls.weekout")),
    path("staff/", admin.site.urls),
    path("", include("classes.views.urls")),
    path("", include("enrollment.views.urls")),
    path("", include("finance.views.urls")),
]
