"""The API under /api/v1/: each app contributes its routes from its own `api.py`."""

from django.urls import path
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import api_view
from rest_framework.request import Request
from rest_framework.response import Response

from loyalty import api as loyalty_api
from redemption import api as redemption_api
from vouchers import api as voucher_api


@extend_schema(
    responses=inline_serializer(
        "WhoAmI",
        {
            "tenant": serializers.CharField(),
            "key": serializers.CharField(),
            "name": serializers.CharField(),
        },
    )
)
@api_view(["GET"])
def whoami(request: Request) -> Response:
    """The business this API key belongs to."""
    key = request.auth
    return Response({"tenant": key.tenant.slug, "key": key.prefix, "name": key.name})


urlpatterns = [
    path("whoami", whoami, name="api_whoami"),
    *loyalty_api.urlpatterns,
    *voucher_api.urlpatterns,
    *redemption_api.urlpatterns,
]
