"""Signed, expiring, revocable links that show an unpublished issue to a reviewer."""

import datetime

from django.core import signing
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from .models import Issue, IssueEvent

_SALT = "digest.previews.share-link"
DEFAULT_DAYS = 7
MAX_DAYS = 30


class InvalidShareLink(Exception):
    """The link was altered, has expired, or was revoked."""


def make_share_token(*, issue, by, days=DEFAULT_DAYS):
    """Return the token of a read-only preview link valid for ``days`` days."""
    if not by.has_perm("digest.publish_issue"):
        raise PermissionDenied("Only publishers may share previews.")
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"A share link lasts from 1 to {MAX_DAYS} days.")
    expires = timezone.now() + datetime.timedelta(days=days)
    payload = {"issue": issue.pk, "generation": issue.share_links_generation, "expires": int(expires.timestamp())}
    IssueEvent.objects.create(
        issue=issue, actor=by, action="share_link", from_state=issue.state, to_state=issue.state,
        comment=f"Shared a preview link valid until {timezone.localtime(expires):%Y-%m-%d %H:%M %Z}.",
    )  # fmt: skip
    return signing.dumps(payload, salt=_SALT, compress=True), expires


def issue_for_share_token(token):
    """Return the issue a token shows, or raise InvalidShareLink."""
    try:
        payload = signing.loads(token, salt=_SALT)
        issue = Issue.objects.get(pk=payload["issue"])
    except (signing.BadSignature, KeyError, TypeError, Issue.DoesNotExist):
        raise InvalidShareLink from None
    if payload.get("generation") != issue.share_links_generation:
        raise InvalidShareLink
    if payload.get("expires", 0) < timezone.now().timestamp():
        raise InvalidShareLink
    return issue


def revoke_share_links(*, issue, by):
    """Invalidate every share link of the issue made so far."""
    if not by.has_perm("digest.publish_issue"):
        raise PermissionDenied("Only publishers may revoke share links.")
    with transaction.atomic():
        Issue.objects.filter(pk=issue.pk).update(share_links_generation=F("share_links_generation") + 1)
        IssueEvent.objects.create(
            issue=issue, actor=by, action="revoke_links", from_state=issue.state, to_state=issue.state,
            comment="Revoked every share link made so far.",
        )  # fmt: skip
    issue.refresh_from_db(fields=["share_links_generation"])
