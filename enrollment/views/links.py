"""Where the links that are credentials arrive (``enrollment.access``): each checks its secret,
puts a grant in the session and redirects to the same page at a URL without the secret. A
forged or expired "My registrations" link is the friendly "get a fresh link" page; an unknown
order token is 404.

- ``/my/<signed link>/`` → ``/my/registrations/``; its cancel and claim links likewise;
- ``/checkout/<order token>/done/`` → ``/orders/<id>/done/``, the payment page's
  ``/checkout/<order token>/pay/`` (the scholarship offer's e-mail) → ``/orders/<id>/pay/``, and
  ``/checkout/<order token>/return/`` (the return address of payments started before the change)
  → ``/orders/<id>/return/`` with Stripe's query string.
"""

from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache

from ..access import manage_grant, order_grant
from ..links import email_from_token
from ..models import EnrollmentOptions, Order
from .forms import LinkRequestForm

private = method_decorator(never_cache, name="dispatch")


def link_invalid(request, *, timed_out: bool = False):
    return render(request, "enrollment/link_invalid.html", {"form": LinkRequestForm(), "timed_out": timed_out},
                  status=403)


def order_closed(request):
    """An order's page in a browser without its grant (another browser, or it ran out)."""
    return render(request, "enrollment/order_closed.html", {"form": LinkRequestForm()}, status=403)


@private
class ManageLinkView(View):
    """A "My registrations" link (optionally to one registration's cancel or claim page)."""

    target = "enrollment:my-registrations"

    def get(self, request, token, pk=None):
        if email_from_token(token, max_age_days=EnrollmentOptions.current().link_days) is None:
            return link_invalid(request)
        manage_grant(request, token)
        return redirect(self.target, *([pk] if pk is not None else []))


class CancelLinkView(ManageLinkView):
    target = "enrollment:registration-cancel"


class ClaimLinkView(ManageLinkView):
    target = "enrollment:offer-claim"


@private
class OrderLinkView(View):
    """An order's token: this browser may open the order's pages for a while."""

    target = "enrollment:order-confirmation"
    keep_query = False

    def get(self, request, token):
        order = get_object_or_404(Order, token=token)
        order_grant(request, order)
        url = reverse(self.target, args=[order.pk])
        query = request.META.get("QUERY_STRING", "")
        return HttpResponseRedirect(f"{url}?{query}" if self.keep_query and query else url)


class PayLinkView(OrderLinkView):
    target = "finance:pay"


class PaymentReturnLinkView(OrderLinkView):
    target = "finance:payment-return"
    keep_query = True
