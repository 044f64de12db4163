from django.urls import path

from loyalty import public_views

urlpatterns = [
    path("join/<str:join_token>/", public_views.join, name="join"),
    path("card/<str:card_token>/", public_views.card, name="card"),
    path("card/<str:card_token>/state/", public_views.card_state, name="card_state"),
    path("card/<str:card_token>/qr.svg", public_views.card_qr, name="card_qr"),
    path("card/<str:card_token>/claim/", public_views.card_claim, name="card_claim"),
    path("k/<str:kiosk_token>/", public_views.kiosk_scan, name="kiosk_scan"),
    path("r/<str:code>/", public_views.receipt_scan, name="receipt_scan"),
]
