from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WalletConfig(AppConfig):
    name = "wallet"
    verbose_name = _("Wallet passes")

    def ready(self) -> None:
        from loyalty import hooks
        from wallet import services

        # Every change of a card (stamp, voucher issued/redeemed/expired/voided) and every
        # design change of a program pushes the new pass after commit.
        hooks.card_changed_listeners.append(services.on_card_changed)
        hooks.program_changed_listeners.append(services.on_program_changed)
        from wallet.public_views import wallet_buttons

        hooks.card_page_providers.append(wallet_buttons)
