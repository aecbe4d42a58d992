from .models import SiteOptions


def site(request):
    """The site options for every template (one small query, cached for the request)."""
    if not hasattr(request, "_site_options"):
        request._site_options = SiteOptions.current()
    return {"site": request._site_options}
