"""Signed, expiring, revocable links that show an unpublished issue to a reviewer.

Each link is a ``ShareLink`` row; its token is the row's id, signed. The row, not the
token, says until when the link works and whether it was revoked, so a publisher can list
the links of an issue, copy one again, and revoke one while the others keep working.
"""

import datetime

from django.core import signing
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from .models import IssueEvent, ShareLink

_SALT = "digest.previews.share-link"
_signer = signing.Signer(salt=_SALT)
DEFAULT_DAYS = 7
MAX_DAYS = 30


class InvalidShareLink(Exception):
    """The link was altered, has expired, or was revoked."""


def make_share_link(*, issue, by, days=DEFAULT_DAYS):
    """Make a read-only preview link of the issue, valid for ``days`` days."""
    if not by.has_perm("digest.publish_issue"):
        raise PermissionDenied("Only publishers may share previews.")
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"A share link lasts from 1 to {MAX_DAYS} days.")
    now = timezone.now()
    with transaction.atomic():
        link = ShareLink.objects.create(
            issue=issue, created_by=by, created_at=now, expires_at=now + datetime.timedelta(days=days)
        )
        IssueEvent.objects.create(
            issue=issue, actor=by, action="share_link", from_state=issue.state, to_state=issue.state,
            comment=f"Shared preview link {link.pk}, valid until {_local(link.expires_at)}.",
        )  # fmt: skip
    return link


def share_token(link):
    """Return the token of the link's URL; the same link always gives the same token."""
    return _signer.sign_object({"link": link.pk})


def issue_for_share_token(token):
    """Return the issue a token shows, or raise InvalidShareLink."""
    try:
        link = ShareLink.objects.select_related("issue").get(pk=int(_signer.unsign_object(token)["link"]))
    except (signing.BadSignature, KeyError, TypeError, ValueError, ShareLink.DoesNotExist):
        raise InvalidShareLink from None
    if not link.is_live:
        raise InvalidShareLink
    return link.issue


def revoke_share_link(*, link, by):
    """Revoke one share link; the issue's other links keep working."""
    if not by.has_perm("digest.publish_issue"):
        raise PermissionDenied("Only publishers may revoke share links.")
    with transaction.atomic():
        revoked = ShareLink.objects.filter(pk=link.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
        if revoked:
            issue = link.issue
            IssueEvent.objects.create(
                issue=issue, actor=by, action="revoke_link", from_state=issue.state, to_state=issue.state,
                comment=f"Revoked preview link {link.pk}.",
            )  # fmt: skip
    link.refresh_from_db(fields=["revoked_at"])
    return bool(revoked)


def revoke_share_links(*, issue, by):
    """Revoke every share link of the issue made so far; return how many still worked."""
    if not by.has_perm("digest.publish_issue"):
        raise PermissionDenied("Only publishers may revoke share links.")
    with transaction.atomic():
        revoked = revoke_all(issue)
        IssueEvent.objects.create(
            issue=issue, actor=by, action="revoke_links", from_state=issue.state, to_state=issue.state,
            comment=f"Revoked every share link made so far ({revoked} still worked).",
        )  # fmt: skip
    return revoked


def revoke_all(issue):
    """Revoke the issue's links, with no check and no audit entry: the caller (a withdrawal) logs its own."""
    return ShareLink.objects.filter(issue=issue).live().update(revoked_at=timezone.now())


def _local(moment):
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M %Z}"
