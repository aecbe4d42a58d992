"""``{% staff_dashboard as dashboard %}``: the dashboard of the back office's first page
(``reports.selectors``), for the user of the request being rendered."""

from django import template

from reports.selectors import dashboard_build

register = template.Library()


@register.simple_tag(takes_context=True)
def staff_dashboard(context):
    request = context.get("request")
    if request is None or not getattr(request, "user", None) or not request.user.is_staff:
        return None
    return dashboard_build(user=request.user)
