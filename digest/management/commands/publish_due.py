from django.core.management.base import BaseCommand

from digest.models import UNFINISHED_RUN_STATES, PublicationRun
from digest.publishing import RunNotReady, StepError, advance_run, publish_due_issues


class Command(BaseCommand):
    help = (
        "Start scheduled issues that are due and finish unfinished publication runs in this process, "
        "for operators without a worker (the beat does the same every minute, through the workers)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="List what would be published or resumed.")

    def handle(self, *, dry_run, **options):
        started, unfinished = publish_due_issues(dry_run=dry_run, enqueue=False)
        for issue in started:
            self.stdout.write(f"Due: #{issue.number} {issue.slug}, scheduled for {issue.publish_at:%Y-%m-%d %H:%M %Z}")
        if dry_run:
            self.stdout.write(f"Dry run: {len(started)} due, {len(unfinished)} unfinished run(s); nothing changed.")
            return
        open_runs = PublicationRun.objects.filter(state__in=UNFINISHED_RUN_STATES)
        open_runs = open_runs.select_related("issue")
        for run in open_runs:
            try:
                advance_run(run.pk)
            except (StepError, RunNotReady) as error:
                self.stderr.write(f"Run {run.pk} ({run.issue.slug}): {error}")
            else:
                run.refresh_from_db()
                self.stdout.write(f"Run {run.pk} ({run.issue.slug}): {run.get_state_display().lower()}.")
