"""The loyalty API: programs, cards, stamps (Bearer tenant API key)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import path, reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from loyalty import selectors, services
from loyalty.errors import LoyaltyError
from loyalty.models import Card, Program, StampSource
from tenants.api_errors import ApiError
from tenants.idempotency import (
    MAX_KEY_LENGTH,
    IdempotencyMismatch,
    request_fingerprint,
    run_idempotent,
)


class ProgramSerializer(serializers.ModelSerializer):
    goal = serializers.IntegerField(source="stamp_goal")
    join_url = serializers.SerializerMethodField()

    class Meta:
        model = Program
        fields = [
            "id",
            "name",
            "description",
            "goal",
            "reward_text",
            "milestones",
            "is_active",
            "join_url",
        ]

    def get_join_url(self, program: Program) -> str:
        return settings.PUBLIC_BASE_URL + reverse("join", args=[program.join_token])


class CustomerOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    email = serializers.CharField()
    phone = serializers.CharField()


class CardSerializer(serializers.ModelSerializer):
    program = serializers.IntegerField(source="program_id")
    goal = serializers.IntegerField(source="program.stamp_goal")
    customer = CustomerOutSerializer()
    url = serializers.SerializerMethodField()

    class Meta:
        model = Card
        fields = [
            "id",
            "token",
            "serial_number",
            "program",
            "stamps",
            "goal",
            "cycle",
            "total_stamps",
            "visits",
            "last_visit_date",
            "customer",
            "url",
            "created_at",
        ]

    def get_url(self, card: Card) -> str:
        return settings.PUBLIC_BASE_URL + reverse("card", args=[card.token])


class CustomerInSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    phone = serializers.CharField(required=False, allow_blank=True, default="", max_length=32)
    birthday = serializers.DateField(required=False, allow_null=True, default=None)
    marketing_consent = serializers.BooleanField(required=False, default=False)


class CardCreateSerializer(serializers.Serializer):
    customer = CustomerInSerializer()


class StampInSerializer(serializers.Serializer):
    count = serializers.IntegerField(min_value=1, max_value=50, default=1)
    location = serializers.IntegerField(required=False, allow_null=True, default=None)


class StampOutSerializer(serializers.Serializer):
    card = CardSerializer()
    vouchers_issued = serializers.ListField(child=serializers.DictField())
    cycles_completed = serializers.IntegerField()


def refusal(error: LoyaltyError) -> ApiError:
    return ApiError(error.message, error.code, error.status_code)


class ProgramList(APIView):
    @extend_schema(responses=ProgramSerializer(many=True))
    def get(self, request: Request) -> Response:
        programs = selectors.program_list(tenant=request.auth.tenant)
        return Response(ProgramSerializer(programs, many=True).data)


class ProgramDetail(APIView):
    @extend_schema(responses=ProgramSerializer)
    def get(self, request: Request, program_id: int) -> Response:
        program = selectors.access_program(tenant=request.auth.tenant, program_id=program_id)
        return Response(ProgramSerializer(program).data)


class ProgramCards(APIView):
    @extend_schema(
        request=CardCreateSerializer, responses={201: CardSerializer, 200: CardSerializer}
    )
    def post(self, request: Request, program_id: int) -> Response:
        """Join a customer to the program. The same email or phone returns their card (200)."""
        program = selectors.access_program(tenant=request.auth.tenant, program_id=program_id)
        payload = CardCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        try:
            card, created = services.customer_join(
                program=program, **payload.validated_data["customer"]
            )
        except LoyaltyError as error:
            raise refusal(error) from None
        return Response(
            CardSerializer(card).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class CardDetail(APIView):
    @extend_schema(responses=CardSerializer)
    def get(self, request: Request, card_id: int) -> Response:
        card = selectors.access_card(tenant=request.auth.tenant, card_id=card_id)
        return Response(CardSerializer(card).data)


def unlocked_as_json(items: list[Any]) -> list[dict[str, Any]]:
    return [item.as_api() if hasattr(item, "as_api") else {"reward": str(item)} for item in items]


class CardStamps(APIView):
    @extend_schema(
        request=StampInSerializer,
        responses={201: StampOutSerializer},
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                str,
                OpenApiParameter.HEADER,
                required=True,
                description="Unique per logical request.",
            )
        ],
    )
    def post(self, request: Request, card_id: int) -> Response:
        """Add stamps. The same Idempotency-Key replays the first answer (kept >= 24 h)."""
        tenant = request.auth.tenant
        card = selectors.access_card(tenant=tenant, card_id=card_id)
        key = request.headers.get("Idempotency-Key", "").strip()
        if not key or len(key) > MAX_KEY_LENGTH:
            raise ApiError(
                "Send an Idempotency-Key header (1-255 characters).",
                "idempotency_key_required",
                400,
            )
        payload = StampInSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        location = None
        if payload.validated_data["location"] is not None:
            from tenants.selectors import access_location

            location = access_location(
                tenant=tenant, location_id=payload.validated_data["location"]
            )

        def action() -> tuple[int, dict[str, Any]]:
            try:
                outcome = services.card_add_stamps(
                    card=card,
                    count=payload.validated_data["count"],
                    source=StampSource.API,
                    actor=request.user,
                    location=location,
                    api_key=request.auth,
                )
            except LoyaltyError as error:
                return error.status_code, {"detail": error.message, "code": error.code}
            return 201, {
                "card": CardSerializer(outcome.card).data,
                "vouchers_issued": unlocked_as_json(outcome.unlocked),
                "cycles_completed": outcome.cycles_completed,
            }

        fingerprint = request_fingerprint("POST", request.path, request.data)
        try:
            code, body, replayed = run_idempotent(
                tenant=tenant, key=key, fingerprint=fingerprint, action=action
            )
        except IdempotencyMismatch:
            raise ApiError(
                "This Idempotency-Key was used with a different request.",
                "idempotency_key_reused",
                422,
            ) from None
        response = Response(body, status=code)
        if replayed:
            response["Idempotent-Replayed"] = "true"
        return response


urlpatterns = [
    path("programs", ProgramList.as_view(), name="api_programs"),
    path("programs/<int:program_id>", ProgramDetail.as_view(), name="api_program"),
    path("programs/<int:program_id>/cards", ProgramCards.as_view(), name="api_program_cards"),
    path("cards/<int:card_id>", CardDetail.as_view(), name="api_card"),
    path("cards/<int:card_id>/stamps", CardStamps.as_view(), name="api_card_stamps"),
]
