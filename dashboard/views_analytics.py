"""Analytics: the last 30 days as charts drawn on the server (SVG), no chart library."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from loyalty import selectors as loyalty_selectors
from tenants.access import manager_required
from vouchers import selectors as voucher_selectors
from vouchers.models import RedemptionMethod

DAYS = 30
CHART_W, CHART_H = 600, 160


def bar_series(days: list[Any], *series: dict[Any, int]) -> dict[str, Any]:
    """Bars (x, y, width, height) for one or two series over `days`, scaled to the max."""
    peak = max([1, *(s.get(d, 0) for s in series for d in days)])
    slot = CHART_W / len(days)
    width = slot * 0.8 / len(series)
    bars = []
    for index, day in enumerate(days):
        for n, values in enumerate(series):
            value = values.get(day, 0)
            height = round(value / peak * (CHART_H - 20), 1)
            bars.append(
                {
                    "x": round(index * slot + slot * 0.1 + n * width, 1),
                    "y": round(CHART_H - height, 1),
                    "w": round(width, 1),
                    "h": height,
                    "value": value,
                    "day": day,
                    "series": n,
                }
            )
    return {"bars": bars, "peak": peak, "total": [sum(s.get(d, 0) for d in days) for s in series]}


@manager_required
def analytics(request: HttpRequest) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    today = timezone.localdate(timezone=tenant.tzinfo)
    days = [today - timedelta(days=offset) for offset in range(DAYS - 1, -1, -1)]
    loyalty_counts = loyalty_selectors.daily_counts(tenant=tenant, days=DAYS)
    voucher_counts = voucher_selectors.daily_voucher_counts(tenant=tenant, days=DAYS)
    hours = loyalty_selectors.stamp_hours(tenant=tenant)
    hour_peak = max([1, *(n for row in hours for n in row)])
    by_method = voucher_selectors.redemption_by_method(tenant=tenant)
    methods = [
        {
            "label": label,
            "issued": by_method.get(value, {}).get("issued", 0),
            "redeemed": by_method.get(value, {}).get("redeemed", 0),
        }
        for value, label in RedemptionMethod.choices
    ]
    for method in methods:
        method["rate"] = (
            round(100 * method["redeemed"] / method["issued"]) if method["issued"] else None
        )
    return render(
        request,
        "dashboard/analytics.html",
        {
            "chart_w": CHART_W,
            "chart_h": CHART_H,
            "first_day": days[0],
            "last_day": days[-1],
            "stamps": bar_series(days, loyalty_counts["stamps"]),
            "joins": bar_series(days, loyalty_counts["joins"]),
            "vouchers": bar_series(days, voucher_counts["issued"], voucher_counts["redeemed"]),
            "hours": [
                {
                    "weekday": weekday,
                    "cells": [
                        {
                            "hour": hour,
                            "n": n,
                            "alpha": round(0.08 + 0.92 * n / hour_peak, 2) if n else 0,
                        }
                        for hour, n in enumerate(row)
                    ],
                }
                for weekday, row in enumerate(hours)
            ],
            "methods": methods,
        },
    )
