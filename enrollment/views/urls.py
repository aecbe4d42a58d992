"""The patron pages of registration: cart, checkout, confirmation, "My registrations".

Links that carry a secret (a signed "My registrations" link, an order's token) are exchanged on
arrival for a grant in the session (``enrollment.views.links``); the pages themselves are at URLs
without one."""

from django.urls import path

from . import checkout, links, manage

app_name = "enrollment"
urlpatterns = [
    path("cart/", checkout.CartView.as_view(), name="cart"),
    path("cart/add/", checkout.CartAddView.as_view(), name="cart-add"),
    path("cart/remove/", checkout.CartRemoveView.as_view(), name="cart-remove"),
    path("checkout/", checkout.CheckoutView.as_view(), name="checkout"),
    path("checkout/<uuid:token>/done/", links.OrderLinkView.as_view(), name="order-confirmation-link"),
    path("orders/<int:pk>/done/", checkout.OrderConfirmationView.as_view(), name="order-confirmation"),
    path("my/", manage.ManageLinkRequestView.as_view(), name="manage-link-request"),
    path("my/registrations/", manage.MyRegistrationsView.as_view(), name="my-registrations"),
    path("my/registrations/<int:pk>/cancel/", manage.RegistrationCancelView.as_view(), name="registration-cancel"),
    path("my/registrations/<int:pk>/claim/", manage.OfferClaimView.as_view(), name="offer-claim"),
    # The token is whatever enrollment.links signs (opaque here); <path:> takes any signed value,
    # so the more specific routes come first.
    path("my/<path:token>/cancel/<int:pk>/", links.CancelLinkView.as_view(), name="registration-cancel-link"),
    path("my/<path:token>/claim/<int:pk>/", links.ClaimLinkView.as_view(), name="offer-claim-link"),
    path("my/<path:token>/", links.ManageLinkView.as_view(), name="my-registrations-link"),
]
