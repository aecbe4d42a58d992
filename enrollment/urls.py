"""The patron pages of registration: cart, checkout, confirmation, "My registrations".

Links that carry a secret (a signed "My registrations" link, an order's token) are exchanged on
arrival for a grant in the session (``enrollment.link_views``); the pages themselves are at URLs
without one."""

from django.urls import path

from . import link_views, manage_views, views

app_name = "enrollment"
urlpatterns = [
    path("cart/", views.CartView.as_view(), name="cart"),
    path("cart/add/", views.CartAddView.as_view(), name="cart-add"),
    path("cart/remove/", views.CartRemoveView.as_view(), name="cart-remove"),
    path("checkout/", views.CheckoutView.as_view(), name="checkout"),
    path("checkout/<uuid:token>/done/", link_views.OrderLinkView.as_view(), name="order-confirmation-link"),
    path("orders/<int:pk>/done/", views.OrderConfirmationView.as_view(), name="order-confirmation"),
    path("my/", manage_views.ManageLinkRequestView.as_view(), name="manage-link-request"),
    path("my/registrations/", manage_views.MyRegistrationsView.as_view(), name="my-registrations"),
    path("my/registrations/<int:pk>/cancel/", manage_views.RegistrationCancelView.as_view(), name="registration-cancel"),
    path("my/registrations/<int:pk>/claim/", manage_views.OfferClaimView.as_view(), name="offer-claim"),
    # The token is whatever enrollment.links signs (opaque here); <path:> takes any signed value,
    # so the more specific routes come first.
    path("my/<path:token>/cancel/<int:pk>/", link_views.CancelLinkView.as_view(), name="registration-cancel-link"),
    path("my/<path:token>/claim/<int:pk>/", link_views.ClaimLinkView.as_view(), name="offer-claim-link"),
    path("my/<path:token>/", link_views.ManageLinkView.as_view(), name="my-registrations-link"),
]
