from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from digest.interchange import export_issue
from digest.models import Issue


class Command(BaseCommand):
    help = "Write an issue as one Markdown file (see README, 'Markdown interchange')."

    def add_arguments(self, parser):
        parser.add_argument("slug", help="The issue's slug, e.g. 2026-04-18.")
        parser.add_argument("-o", "--output", help="File to write; standard output when omitted.")

    def handle(self, *, slug, output, **options):
        issue = Issue.objects.filter(slug=slug).first()
        if issue is None:
            raise CommandError(f"No issue with slug '{slug}'.")
        text = export_issue(issue)
        if output:
            Path(output).write_text(text, encoding="utf-8")
            self.stderr.write(f"Wrote issue #{issue.number} to {output}.")
        else:
            self.stdout.write(text, ending="")
