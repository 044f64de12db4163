from django.urls import path

from loyalty import staff_views

app_name = "staff"
urlpatterns = [
    path("", staff_views.counter, name="counter"),
]
