from django.urls import path

from wallet import passkit_views, public_views

passkit = [
    path(
        "passkit/v1/devices/<str:device>/registrations/<str:pass_type_id>/<str:serial>",
        passkit_views.registration,
        name="passkit_registration",
    ),
    path(
        "passkit/v1/devices/<str:device>/registrations/<str:pass_type_id>",
        passkit_views.serials_updated,
        name="passkit_serials",
    ),
    path(
        "passkit/v1/passes/<str:pass_type_id>/<str:serial>",
        passkit_views.latest_pass,
        name="passkit_pass",
    ),
    path("passkit/v1/log", passkit_views.log, name="passkit_log"),
]

urlpatterns = [
    *passkit,
    path("card/<str:card_token>/pass.pkpass", public_views.card_pass, name="card_pass"),
    path("card/<str:card_token>/google/", public_views.google_save, name="card_google_save"),
]
