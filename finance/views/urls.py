"""The public money pages (``finance.views``): an order's payment, the Stripe webhook, gifts to Pass the Buck."""

from django.urls import path

from enrollment.views import links as link_views

from . import donations, payments, webhook

app_name = "finance"

urlpatterns = [
    # An order's token arrives here and is exchanged for a grant in the session
    # (enrollment.views.links); the payment pages are at the order's id, opened by that grant.
    path("checkout/<uuid:token>/pay/", link_views.PayLinkView.as_view(), name="pay-link"),
    path("checkout/<uuid:token>/return/", link_views.PaymentReturnLinkView.as_view(), name="payment-return-link"),
    path("orders/<int:pk>/pay/", payments.PayView.as_view(), name="pay"),
    path("orders/<int:pk>/pay/local-confirm/", payments.PayLocalConfirmView.as_view(), name="pay-local-confirm"),
    path("orders/<int:pk>/return/", payments.PaymentReturnView.as_view(), name="payment-return"),
    path("stripe/webhook/", webhook.StripeWebhookView.as_view(), name="stripe-webhook"),
    # Pass the Buck: a gift by card (pages opened by the session that started the gift; the
    # gift's token, in older return addresses, is exchanged for that grant)
    path("give/", donations.GiftView.as_view(), name="donate"),
    path("give/gifts/<int:pk>/pay/", donations.GiftPayView.as_view(), name="donate-pay"),
    path("give/gifts/<int:pk>/pay/local-confirm/", donations.GiftLocalConfirmView.as_view(),
         name="donate-local-confirm"),
    path("give/gifts/<int:pk>/return/", donations.GiftReturnView.as_view(), name="donate-return"),
    path("give/gifts/<int:pk>/thank-you/", donations.GiftThanksView.as_view(), name="donate-thanks"),
    path("give/<uuid:token>/pay/", donations.GiftLinkView.as_view(), name="donate-pay-link"),
    path("give/<uuid:token>/return/", donations.GiftReturnLinkView.as_view(), name="donate-return-link"),
    path("give/<uuid:token>/thank-you/", donations.GiftThanksLinkView.as_view(), name="donate-thanks-link"),
]
