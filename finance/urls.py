from django.urls import path

from . import views

app_name = "finance"

urlpatterns = [
    path("checkout/<uuid:token>/pay/", views.PayView.as_view(), name="pay"),
    path("checkout/<uuid:token>/pay/local-confirm/", views.PayLocalConfirmView.as_view(), name="pay-local-confirm"),
    path("checkout/<uuid:token>/return/", views.PaymentReturnView.as_view(), name="payment-return"),
    path("stripe/webhook/", views.StripeWebhookView.as_view(), name="stripe-webhook"),
]
