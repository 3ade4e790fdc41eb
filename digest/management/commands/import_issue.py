from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from digest.interchange import IssueFileError, decode_issue_file, import_issue

MAX_FILE_BYTES = 5 * 1024 * 1024


class Command(BaseCommand):
    help = "Create an issue from a Markdown file, all or nothing (see README, 'Markdown interchange')."

    def add_arguments(self, parser):
        parser.add_argument("file", help="The Markdown file to import.")
        parser.add_argument(
            "--replace", action="store_true", help="Update the issue with the file's slug if it already exists."
        )

    def handle(self, *, file, replace, **options):
        path = Path(file)
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                raise CommandError(f"{file}: larger than {MAX_FILE_BYTES // (1024 * 1024)} MB; is it the right file?")
            data = path.read_bytes()
        except FileNotFoundError:
            raise CommandError(f"{file}: no such file.") from None
        try:
            issue = import_issue(decode_issue_file(data), replace=replace)
        except IssueFileError as error:
            raise CommandError(f"{file}, {error}\nNothing was imported.") from None
        self.stdout.write(f"Imported issue #{issue.number} '{issue.title}' ({issue.placements.count()} stories).")
