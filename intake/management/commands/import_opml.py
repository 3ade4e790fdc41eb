from django.core.management.base import BaseCommand, CommandError

from intake.opml import OPMLError, import_opml


class Command(BaseCommand):
    help = "Add the feeds listed in an OPML file, matching companies by name or creating them."

    def add_arguments(self, parser):
        parser.add_argument("file", help="An OPML file (at most 1 MB).")

    def handle(self, *args, file, **options):
        try:
            with open(file, "rb") as handle:
                data = handle.read(2 * 1024 * 1024)
            report = import_opml(data)
        except (OSError, OPMLError) as error:
            raise CommandError(f"{file}: {error}") from error
        for what, why in report.skipped:
            self.stderr.write(f"skipped {what}: {why}")
        self.stdout.write(report.summary())
