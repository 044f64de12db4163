from django.urls import path

from dashboard import views

app_name = "dashboard"
urlpatterns = [
    path("", views.index, name="index"),
    path("team/", views.team, name="team"),
    path("team/<int:membership_id>/", views.membership_edit, name="membership_edit"),
    path("team/<int:membership_id>/remove/", views.membership_remove, name="membership_remove"),
    path("locations/", views.locations, name="locations"),
    path("api-keys/", views.api_keys, name="api_keys"),
    path("api-keys/<int:api_key_id>/revoke/", views.api_key_revoke, name="api_key_revoke"),
]
