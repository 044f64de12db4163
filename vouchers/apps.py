from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VouchersConfig(AppConfig):
    name = "vouchers"
    verbose_name = _("Smart Vouchers")

    def ready(self) -> None:
        from loyalty import hooks
        from vouchers.services import issuance

        # Issued in the same transaction as the stamp (or join) that reached the trigger.
        hooks.stamp_listeners.append(issuance.on_stamped)
        hooks.join_listeners.append(issuance.on_joined)
        hooks.card_page_providers.append(issuance.card_page_vouchers)
