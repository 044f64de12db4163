from django.core.management.base import BaseCommand, CommandError
from django_scopes import scopes_disabled

from tenants import selectors, services


class Command(BaseCommand):
    help = "Create an API key for a business; prints the raw key alone (it is never shown again)."

    def add_arguments(self, parser) -> None:  # type: ignore[no-untyped-def]
        parser.add_argument("tenant_slug")
        parser.add_argument("--name", default="API key")

    def handle(self, *args, tenant_slug: str, name: str, **options) -> None:  # type: ignore[no-untyped-def]
        with scopes_disabled():
            tenant = selectors.tenant_get_by_slug(slug=tenant_slug)
            if tenant is None:
                raise CommandError(f"No business with the short name {tenant_slug!r}.")
            _, raw_key = services.api_key_create(tenant=tenant, name=name)
        self.stdout.write(raw_key)
