"""The base of the back office's own pages (outside the model admin): staff only (the URLconf
wraps each view in ``admin.site.admin_view``), one permission per page (403 without it), and
rendered inside the admin's layout."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.views import View


def staff_page(view_class):
    """A back-office page for a URLconf: staff only (``admin.site.admin_view`` sends the rest to
    the back-office login), then the view's own permission check."""
    return admin.site.admin_view(view_class.as_view())


class StaffPageView(View):
    permission: str = ""

    def dispatch(self, request, *args, **kwargs):
        if not self.permission or not request.user.has_perm(self.permission):
            raise PermissionDenied
        request.current_app = admin.site.name
        return super().dispatch(request, *args, **kwargs)

    def page_flags(self) -> dict:
        """What the page's templates need to know about the user (links to show)."""
        return {}

    def render(self, template: str, title: str, status: int = 200, **context) -> TemplateResponse:
        return TemplateResponse(self.request, template, {
            **admin.site.each_context(self.request),
            "title": title,
            "subtitle": None,
            **self.page_flags(),
            **context,
        }, status=status)
