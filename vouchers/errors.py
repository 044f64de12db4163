from loyalty.errors import LoyaltyError


class VoucherError(LoyaltyError):
    """A voucher operation refused, with a message for a person and a code."""
