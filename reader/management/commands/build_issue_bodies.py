import math

from django.core.management.base import BaseCommand

from digest.models import Issue
from reader import issue_bodies


class Command(BaseCommand):
    help = (
        "Build the stored body of every published issue whose body is stale or missing: what the "
        "workers do, for a deployment without one, or with --all after a change to the page's code."
    )

    def add_arguments(self, parser):
        parser.add_argument("--all", action="store_true", help="mark every stored body stale first")

    def handle(self, *args, all=False, **options):
        if all:
            issue_bodies.mark_all_stale()
        # Bounded: a body that fails to build stays stale, and must not keep this command running.
        rounds = math.ceil((Issue.objects.published().count() + 1) / issue_bodies.BATCH) + 1
        for _ in range(rounds):
            if not issue_bodies.rebuild_stale():
                break
        left = len(issue_bodies.stale_issue_ids(issue_bodies.BATCH))
        self.stdout.write(f"Stale or missing issue bodies left: {left}")
