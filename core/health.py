"""``/healthz``: the site's process answers (for a load balancer's health check, and the benchmark's
bare view). No database query, no session, no template: a plain-text "ok" that is never cached."""

from django.http import HttpResponse
from django.views.decorators.http import require_safe


@require_safe
def healthz(request):
    response = HttpResponse("ok", content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = "no-store"
    return response
