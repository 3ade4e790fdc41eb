from django.core.management.base import BaseCommand

from digest.roles import ROLE_PERMISSIONS, sync_roles


class Command(BaseCommand):
    help = "Create the Contributor, Editor and Publisher groups and reset their permissions."

    def handle(self, **options):
        sync_roles()
        for role, permissions in ROLE_PERMISSIONS.items():
            self.stdout.write(f"{role}: {len(permissions)} permissions")
