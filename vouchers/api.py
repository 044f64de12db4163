"""The voucher API: vouchers by id, by code and per card; bulk import into POS code pools."""

from __future__ import annotations

from typing import Any

from django.urls import path
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from loyalty.errors import LoyaltyError
from loyalty.selectors import access_card
from tenants.api_errors import ApiError
from vouchers import selectors, services
from vouchers.models import CodeImport

VoucherOut = inline_serializer(
    "Voucher",
    {
        "id": serializers.IntegerField(),
        "token": serializers.CharField(),
        "state": serializers.CharField(),
        "method": serializers.CharField(),
        "code": serializers.CharField(allow_null=True),
        "reward": serializers.CharField(),
        "expires_at": serializers.DateTimeField(allow_null=True),
        "active_from": serializers.DateTimeField(),
        "card": serializers.IntegerField(),
        "awaiting_code": serializers.BooleanField(),
    },
)


def voucher_json(voucher: Any) -> dict[str, Any]:
    services.voucher_refresh(voucher=voucher)
    return voucher.as_api()


class VoucherDetail(APIView):
    @extend_schema(responses=VoucherOut)
    def get(self, request: Request, voucher_id: int) -> Response:
        voucher = selectors.access_voucher(tenant=request.auth.tenant, voucher_id=voucher_id)
        return Response(voucher_json(voucher))


class VoucherList(APIView):
    @extend_schema(
        operation_id="vouchers_find_by_code",
        parameters=[
            OpenApiParameter("code", str, description="A redeem code, as typed or scanned")
        ],
        responses=VoucherOut,
    )
    def get(self, request: Request) -> Response:
        """Look a voucher up by its redeem code (404 if none)."""
        raw = request.query_params.get("code", "")
        if not raw.strip():
            raise ApiError("Give ?code=.", "code_required", 400)
        voucher = selectors.voucher_find_by_code(
            tenant=request.auth.tenant, variants=services.lookup_variants(raw)
        )
        if voucher is None:
            raise ApiError("Unknown code.", "unknown_code", 404)
        return Response(voucher_json(voucher))


class CardVouchers(APIView):
    @extend_schema(responses=VoucherOut)
    def get(self, request: Request, card_id: int) -> Response:
        card = access_card(tenant=request.auth.tenant, card_id=card_id)
        return Response([voucher_json(v) for v in selectors.voucher_list_for_card(card=card)])


class PoolCodesIn(serializers.Serializer):
    codes = serializers.ListField(child=serializers.CharField(allow_blank=True), max_length=100_000)
    import_valid_rows = serializers.BooleanField(default=False)


class PoolCodes(APIView):
    @extend_schema(
        request=PoolCodesIn,
        responses=inline_serializer(
            "PoolImport",
            {
                "imported": serializers.IntegerField(),
                "rejected": serializers.IntegerField(),
                "errors": serializers.ListField(child=serializers.DictField()),
            },
        ),
    )
    def post(self, request: Request, pool_id: int) -> Response:
        """Bulk import POS-generated codes. With any bad row nothing is imported (400, every
        bad row listed by its position) unless `import_valid_rows` is true."""
        pool = selectors.access_pool(tenant=request.auth.tenant, pool_id=pool_id)
        payload = PoolCodesIn(data=request.data)
        payload.is_valid(raise_exception=True)
        content = "\n".join(
            code.replace("\n", " ") or " " for code in payload.validated_data["codes"]
        )
        try:
            checked = services.code_import_check(pool=pool, content=content, filename="api")
            result = services.code_import_confirm(
                code_import=checked,
                import_valid_rows=payload.validated_data["import_valid_rows"],
                run_async=False,
            )
        except LoyaltyError as error:
            raise ApiError(error.message, error.code, error.status_code) from None
        if result.status == CodeImport.Status.REJECTED:
            raise ApiError(
                "Some codes are invalid; nothing was imported.",
                "invalid_codes",
                400,
                errors=result.errors,
            )
        result = services.code_import_run(code_import=result)
        return Response(
            {"imported": result.imported, "rejected": len(result.errors), "errors": result.errors},
            status=201,
        )


urlpatterns = [
    path("vouchers", VoucherList.as_view(), name="api_vouchers"),
    path("vouchers/<int:voucher_id>", VoucherDetail.as_view(), name="api_voucher"),
    path("cards/<int:card_id>/vouchers", CardVouchers.as_view(), name="api_card_vouchers"),
    path("code-pools/<int:pool_id>/codes", PoolCodes.as_view(), name="api_pool_codes"),
]
