from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RedemptionConfig(AppConfig):
    name = "redemption"
    verbose_name = _("Redemption")

    def ready(self) -> None:
        from loyalty import staff_views
        from redemption import public_views
        from redemption import staff_views as redemption_staff
        from vouchers.public_views import page_providers

        page_providers.append(public_views.voucher_page_context)
        # The counter's scanner recognises vouchers (token or Redeem Code) next to cards.
        staff_views.SCAN_HANDLERS.append(redemption_staff.scan_voucher)
