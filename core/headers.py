"""The Permissions-Policy header: the browser features no page of ours uses are off for every
page and every frame (``PERMISSIONS_POLICY`` in settings, ``feature: [allowed origins]``; an empty
list is ``()``, off). A view may allow more for its own response — the payment pages let Stripe's
frames use ``payment`` — with ``permissions_policy_allow(response, feature, origins)``."""

from django.conf import settings


def _allowlist(origins) -> str:
    return "(" + " ".join("self" if origin == "self" else f'"{origin}"' for origin in origins) + ")"


def permissions_policy_allow(response, feature: str, origins) -> None:
    extra = dict(getattr(response, "_permissions_policy", {}))
    extra[feature] = list(origins)
    response._permissions_policy = extra


class PermissionsPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if "Permissions-Policy" not in response:
            policy = dict(settings.PERMISSIONS_POLICY) | getattr(response, "_permissions_policy", {})
            response["Permissions-Policy"] = ", ".join(f"{feature}={_allowlist(origins)}"
                                                       for feature, origins in policy.items())
        return response
