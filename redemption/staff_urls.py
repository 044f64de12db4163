from django.urls import path

from redemption import staff_views

app_name = "staff_vouchers"
urlpatterns = [
    path("<int:voucher_id>/", staff_views.voucher_detail, name="voucher"),
    path("<int:voucher_id>/redeem/", staff_views.voucher_redeem_view, name="redeem"),
    path("redemptions/<int:redemption_id>/", staff_views.redeemed, name="redeemed"),
    path("redemptions/<int:redemption_id>/undo/", staff_views.undo, name="undo"),
]
