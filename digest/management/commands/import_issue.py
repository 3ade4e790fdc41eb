from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError

from digest.interchange import IssueFileError, decode_issue_file, import_issue
from digest.workflow import is_correction

MAX_FILE_BYTES = 5 * 1024 * 1024


class Command(BaseCommand):
    help = "Create an issue from a Markdown file, all or nothing (see README, 'Markdown interchange')."

    def add_arguments(self, parser):
        parser.add_argument("file", help="The Markdown file to import.")
        parser.add_argument(
            "--replace", action="store_true", help="Update the issue with the file's slug if it already exists."
        )
        parser.add_argument(
            "--correction",
            default="",
            metavar="NOTE",
            help="Replacing a published issue is a correction: the public note readers see (needs --by).",
        )
        parser.add_argument("--by", metavar="USERNAME", help="The publisher making the correction.")

    def handle(self, *, file, replace, correction, by, **options):
        path = Path(file)
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                raise CommandError(f"{file}: larger than {MAX_FILE_BYTES // (1024 * 1024)} MB; is it the right file?")
            data = path.read_bytes()
        except FileNotFoundError:
            raise CommandError(f"{file}: no such file.") from None
        user = self._user(by) if by else None
        if correction.strip() and user is None:
            raise CommandError("--correction needs --by USERNAME: the publisher who makes the correction.")
        try:
            issue = import_issue(decode_issue_file(data), replace=replace, correction=correction, by=user)
        except IssueFileError as error:
            raise CommandError(f"{file}, {error}\nNothing was imported.") from None
        except PermissionDenied as error:
            raise CommandError(f"{error} ({by} is not a publisher.)\nNothing was imported.") from None
        corrected = " as a correction" if correction.strip() and is_correction(issue) else ""
        self.stdout.write(
            f"Imported issue #{issue.number} '{issue.title}' ({issue.placements.count()} stories){corrected}."
        )

    def _user(self, username):
        try:
            return get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist:
            raise CommandError(f"--by {username}: no such user.") from None
