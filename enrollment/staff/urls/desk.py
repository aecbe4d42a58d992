"""The front desk of the back office, under /staff/desk/ (``config.urls``). Every view goes
through ``admin.site.admin_view``: staff only, the rest are sent to the back-office login."""

from django.urls import path

from core.staff import staff_page

from .. import desk

app_name = "desk"



urlpatterns = [
    path("", staff_page(desk.DeskHomeView), name="home"),
    path("register/", staff_page(desk.DeskRegisterView), name="register"),
    path("orders/<int:pk>/", staff_page(desk.DeskOrderView), name="order"),
    path("orders/<int:pk>/pay/", staff_page(desk.DeskOrderPayView), name="order-pay"),
    path("orders/<int:pk>/receipt/", staff_page(desk.DeskReceiptView), name="order-receipt"),
    path("orders/<int:pk>/receipt/email/", staff_page(desk.DeskReceiptEmailView), name="order-receipt-email"),
]
