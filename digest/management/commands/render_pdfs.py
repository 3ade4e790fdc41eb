from django.core.management.base import BaseCommand, CommandError

from digest.edition import store_issue_pdf
from digest.models import Issue
from digest.pdf import PDFRenderError


class Command(BaseCommand):
    help = (
        "Render and store the PDF of published issues whose content, template, stylesheet or fonts "
        "changed since their PDF was made. Issues whose PDF is current are left alone."
    )

    def add_arguments(self, parser):
        parser.add_argument("slugs", nargs="*", metavar="SLUG", help="Published issues to render.")
        parser.add_argument("--all", action="store_true", dest="every_issue", help="Every published issue.")

    def handle(self, *, slugs, every_issue, **options):
        if bool(slugs) == every_issue:
            raise CommandError("Name the issues to render by slug, or give --all (not both).")
        issues = Issue.objects.published().order_by("week_start", "number")
        if slugs:
            issues = list(issues.filter(slug__in=slugs))
            missing = sorted(set(slugs) - {issue.slug for issue in issues})
            if missing:
                raise CommandError(f"No published issue with the slug {', '.join(missing)}.")
        issues = list(issues)
        progress = Progress(self.stdout, len(issues))
        failures = 0
        for issue in issues:
            try:
                outcome = "rendered" if store_issue_pdf(issue) else "current"
            except PDFRenderError as error:
                failures += 1
                outcome = f"FAILED: {error}"
            progress.advance(f"{issue.slug}: {outcome}")
        progress.finish()
        if failures:
            raise CommandError(f"{failures} of {len(issues)} PDFs could not be rendered.")
        self.stdout.write(self.style.SUCCESS(f"{len(issues)} issue PDFs are current."))


class Progress:
    """A text progress bar: redrawn in place on a terminal, one line per step elsewhere."""

    width = 30

    def __init__(self, stream, total):
        self.stream, self.total, self.done = stream, total, 0
        self.interactive = stream.isatty()

    def advance(self, message):
        self.done += 1
        filled = self.width * self.done // max(self.total, 1)
        line = f"[{'#' * filled}{'.' * (self.width - filled)}] {self.done}/{self.total} {message}"
        if self.interactive:
            self.stream.write(f"\r\033[K{line}", ending="")
            self.stream.flush()
        else:
            self.stream.write(line)

    def finish(self):
        if self.interactive and self.done:
            self.stream.write("")
