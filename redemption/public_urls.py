from django.urls import path

from redemption import public_views

urlpatterns = [
    path(
        "voucher/<str:voucher_token>/redeem/", public_views.self_redeem, name="voucher_self_redeem"
    ),
]
