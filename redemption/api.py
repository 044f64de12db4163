"""POST /api/v1/redeem: the POS redeems a Redeem Code (or a staff-scan token)."""

from __future__ import annotations

from typing import Any

from django.urls import path
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from redemption import ratelimits
from redemption.models import Channel, Redemption
from redemption.services import Actor, RedemptionRefused, voucher_redeem
from tenants import ratelimit
from tenants.api_errors import ApiError
from tenants.selectors import access_location
from vouchers import selectors as voucher_selectors
from vouchers.services import lookup_variants


class RedeemIn(serializers.Serializer):
    code = serializers.CharField(required=False, allow_blank=False, max_length=80)
    token = serializers.CharField(required=False, allow_blank=False, max_length=80)
    location = serializers.IntegerField(required=False, allow_null=True, default=None)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if bool(attrs.get("code")) == bool(attrs.get("token")):
            raise serializers.ValidationError("Send either code or token.")
        return attrs


def redemption_json(redemption: Redemption) -> dict[str, Any]:
    return {
        "id": redemption.pk,
        "redeemed_at": redemption.created_at.isoformat(),
        "redeemed_by": redemption.actor_label,
        "location": redemption.location.name if redemption.location else None,
        "channel": redemption.channel,
    }


class Redeem(APIView):
    @extend_schema(
        request=RedeemIn,
        responses={
            200: inline_serializer(
                "Redeemed",
                {"voucher": serializers.DictField(), "redemption": serializers.DictField()},
            )
        },
        description=(
            "200 redeemed; 409 already redeemed (with when, by whom and where) or not usable "
            "yet; 404 unknown code; 410 expired or void; 429 too many failed attempts."
        ),
    )
    def post(self, request: Request) -> Response:
        api_key = request.auth
        tenant = api_key.tenant
        idents = ratelimits.identities(ip=ratelimit.client_ip(request._request), api_key=api_key)
        wait = ratelimits.blocked_for(idents)
        if wait:
            error = ApiError(
                "Too many unknown codes. Wait before trying again.", "rate_limited", 429
            )
            response = Response({"detail": str(error.detail), "code": "rate_limited"}, status=429)
            response["Retry-After"] = str(wait)
            return response
        payload = RedeemIn(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        if data.get("code"):
            voucher = voucher_selectors.voucher_find_by_code(
                tenant=tenant, variants=lookup_variants(data["code"])
            )
        else:
            voucher = voucher_selectors.voucher_get_by_token(tenant=tenant, token=data["token"])
        if voucher is None:
            ratelimits.record_failure(idents=idents, tenant=tenant, who=f"API key {api_key.name}")
            raise ApiError("Unknown code.", "unknown_code", 404)
        location = (
            access_location(tenant=tenant, location_id=data["location"])
            if data.get("location")
            else None
        )
        try:
            redemption = voucher_redeem(
                voucher=voucher,
                channel=Channel.API,
                actor=Actor(api_key=api_key, location=location),
            )
        except RedemptionRefused as refusal:
            extra = {"voucher": voucher.as_api()}
            if refusal.winner is not None:
                extra["redemption"] = redemption_json(refusal.winner)
            raise ApiError(refusal.message, refusal.code, refusal.status_code, **extra) from None
        voucher.refresh_from_db()
        return Response({"voucher": voucher.as_api(), "redemption": redemption_json(redemption)})


urlpatterns = [path("redeem", Redeem.as_view(), name="api_redeem")]
