from django.core.management.base import BaseCommand
from django.db import transaction
from django_scopes import scopes_disabled

from dashboard.demo import seed_all
from tenants.demo import DEMO_PASSWORD


class Command(BaseCommand):
    help = "Create (or refresh) the demo businesses demo-cafe and demo-salon. Idempotent."

    def handle(self, *args, **options) -> None:  # type: ignore[no-untyped-def]
        with scopes_disabled(), transaction.atomic():
            demos = seed_all()
        for demo in demos:
            self.stdout.write(f"{demo.tenant.name} ({demo.tenant.slug})")
            for user in (demo.owner, demo.manager, demo.staff):
                self.stdout.write(f"  login {user.email} / {DEMO_PASSWORD}")
