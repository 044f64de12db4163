from __future__ import annotations


class LoyaltyError(Exception):
    """A refusal with a message for a person and a machine-readable code."""

    status_code = 400

    def __init__(self, message: str, code: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        if status_code is not None:
            self.status_code = status_code


class StampRefused(LoyaltyError):
    status_code = 409


class JoinRefused(LoyaltyError):
    status_code = 400
