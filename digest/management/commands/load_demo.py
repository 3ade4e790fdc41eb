import secrets
from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.utils import timezone

from companies.models import Company
from digest.edition import store_issue_pdf
from digest.interchange import import_issue, parse_issue
from digest.models import Issue, IssueEvent, IssueState
from digest.roles import ROLE_PERMISSIONS

DEMO_ISSUE = Path(__file__).resolve().parents[2] / "demo" / "engineering-at-scale-2026-04-18.md"


class Command(BaseCommand):
    help = "Load the demo issue, publish it, and create (or reset) the demo logins."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")
        parser.add_argument("--no-admin", action="store_true", help="Load the content only.")

    def handle(self, *, username, no_admin, **options):
        text = DEMO_ISSUE.read_text(encoding="utf-8")
        issue = Issue.objects.filter(slug=parse_issue(text).fields["slug"], state=IssueState.PUBLISHED).first()
        if issue is None:
            issue = import_issue(text, replace=True)
        else:
            # Loaded before (`make dev` again): what readers see changes only by a correction.
            self.stdout.write(f"Demo issue #{issue.number} is published already; its content is left as it is.")
        Company.objects.filter(name="AWS", parent=None).update(parent=Company.objects.filter(name="Amazon").first())
        if issue.state != IssueState.PUBLISHED:
            # Demo content is loaded as already published, as `loaddata` would: the sample
            # lost its source links, so it could not pass the pre-publish checklist.
            from_state = issue.state
            issue.state, issue.published_at = IssueState.PUBLISHED, timezone.now()
            issue.save(update_fields=["state", "published_at"])
            IssueEvent.objects.create(
                issue=issue,
                action="publish",
                from_state=from_state,
                to_state=issue.state,
                comment="Loaded as demo content.",
            )
        store_issue_pdf(issue)
        self.stdout.write(f"Demo issue #{issue.number} loaded and published at /issues/{issue.slug}/ (PDF included).")
        if no_admin:
            return
        password = secrets.token_urlsafe(12)
        self._user(username, password, superuser=True)
        self.stdout.write(f"Admin login: {username} / {password}")
        for role in ROLE_PERMISSIONS:
            self._user(role.lower(), password, group=role)
        self.stdout.write(f"Role logins with the same password: {', '.join(r.lower() for r in ROLE_PERMISSIONS)}")

    def _user(self, username, password, *, superuser=False, group=None):
        user, _ = get_user_model().objects.get_or_create(username=username)
        user.is_staff, user.is_superuser = True, superuser
        user.set_password(password)
        user.save()
        if group:
            user.groups.set([Group.objects.get(name=group)])
