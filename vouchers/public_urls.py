from django.urls import path

from vouchers import public_views

urlpatterns = [
    path("voucher/<str:voucher_token>/", public_views.voucher_page, name="voucher"),
    path("voucher/<str:voucher_token>/qr.png", public_views.voucher_qr_png, name="voucher_qr_png"),
    path(
        "voucher/<str:voucher_token>/barcode.png",
        public_views.voucher_barcode_png,
        name="voucher_barcode_png",
    ),
]
