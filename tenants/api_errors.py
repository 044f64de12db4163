"""API errors as `{"detail": "...", "code": "..."}`, whatever raised them."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


class ApiError(exceptions.APIException):
    """A domain refusal with its own status and machine-readable code."""

    def __init__(self, detail: str, code: str, status_code: int, **extra: Any) -> None:
        super().__init__(detail=detail, code=code)
        self.status_code = status_code
        self.extra = extra


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(_("Not found."))
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.APIException):
        data = response.data
        if isinstance(data, dict) and "detail" in data:
            body: dict[str, Any] = {"detail": str(data["detail"]), "code": _code(exc, data)}
        else:
            body = {
                "detail": str(_("Invalid input.")),
                "code": "invalid",
                "errors": data,
            }
        body.update(getattr(exc, "extra", {}))
        response.data = body
    return response


def _code(exc: exceptions.APIException, data: dict[str, Any]) -> str:
    detail = data.get("detail")
    code = getattr(detail, "code", None)
    if isinstance(code, str):
        return code
    return exc.default_code
