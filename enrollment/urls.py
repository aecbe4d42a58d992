"""The patron pages of registration: cart, checkout, confirmation, "My registrations"."""

from django.urls import path

from . import views

app_name = "enrollment"
urlpatterns = [
    path("cart/", views.CartView.as_view(), name="cart"),
    path("cart/add/", views.CartAddView.as_view(), name="cart-add"),
    path("cart/remove/", views.CartRemoveView.as_view(), name="cart-remove"),
    path("checkout/", views.CheckoutView.as_view(), name="checkout"),
    path("checkout/<uuid:token>/done/", views.OrderConfirmationView.as_view(), name="order-confirmation"),
    path("my/", views.ManageLinkRequestView.as_view(), name="manage-link-request"),
    # The token is whatever enrollment.links signs (opaque here); <path:> takes any signed value,
    # so the more specific routes come first.
    path("my/<path:token>/cancel/<int:pk>/", views.RegistrationCancelView.as_view(), name="registration-cancel"),
    path("my/<path:token>/claim/<int:pk>/", views.OfferClaimView.as_view(), name="offer-claim"),
    path("my/<path:token>/", views.MyRegistrationsView.as_view(), name="my-registrations"),
]
