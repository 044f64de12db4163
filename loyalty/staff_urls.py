from django.urls import path

from loyalty import staff_views

app_name = "staff"
urlpatterns = [
    path("", staff_views.counter, name="counter"),
    path("scan/", staff_views.scan, name="scan"),
    path("location/", staff_views.location_set, name="location"),
    path("card/<int:card_id>/", staff_views.card_detail, name="card"),
    path("card/<int:card_id>/stamp/", staff_views.card_stamp, name="card_stamp"),
    path("kiosk/", staff_views.kiosk_list, name="kiosk_list"),
    path("kiosk/<int:program_id>/", staff_views.kiosk, name="kiosk"),
    path("kiosk/<int:program_id>/token.json", staff_views.kiosk_token, name="kiosk_token"),
]
