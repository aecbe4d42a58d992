"""The front desk of the back office, under /staff/desk/ (``config.urls``). Every view goes
through ``admin.site.admin_view``: staff only, the rest are sent to the back-office login."""

from django.contrib import admin
from django.urls import path

from .. import desk

app_name = "desk"


def _staff(view_class):
    return admin.site.admin_view(view_class.as_view())


urlpatterns = [
    path("", _staff(desk.DeskHomeView), name="home"),
    path("register/", _staff(desk.DeskRegisterView), name="register"),
    path("orders/<int:pk>/", _staff(desk.DeskOrderView), name="order"),
    path("orders/<int:pk>/pay/", _staff(desk.DeskOrderPayView), name="order-pay"),
    path("orders/<int:pk>/receipt/", _staff(desk.DeskReceiptView), name="order-receipt"),
    path("orders/<int:pk>/receipt/email/", _staff(desk.DeskReceiptEmailView), name="order-receipt-email"),
]
