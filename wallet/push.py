"""Pushing a card's new pass: APNs to every registered device, PATCH to Google's object."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings

from wallet import apns

logger = logging.getLogger(__name__)


def apns_client() -> apns.ApnsClient | None:
    """The process's APNs client (one HTTP/2 connection), or None without credentials."""
    overrides: dict[str, Any] = {}
    if settings.APNS_CA_FILE:
        overrides["verify"] = settings.APNS_CA_FILE
    config = apns.config_from_settings(settings, **overrides)
    if config is None:
        return None
    apns.configure(config)  # a no-op when the configuration is unchanged
    return apns.get_client()


class RetryPush(Exception):
    """Some devices answered 429/5xx or were unreachable: retry the task with backoff."""

    def __init__(self, retry_after: float | None) -> None:
        super().__init__("APNs asked to retry")
        self.retry_after = retry_after
