"""Approval means this content: a change after approval sends the issue back to review.

An approval records the fingerprint of the issue as readers would see it
(``digest.fingerprint``). The receivers below hear every change that could alter it —
Django's own model signals for issues, stories, sources, placements, companies, themes,
tags and their links, which the admin, imports, restores and renames all send — and, for
an approved or scheduled issue affected, compare the fingerprint inside the transaction of
the change. When it differs the issue goes back to review, unscheduled
(``workflow.return_to_review``, which also cancels its publication run), the audit log says
what changed and who changed it, and the transition is announced like any other: the
newsroom mails whoever approved the issue (``newsroom.notifications``).

Who changed it: a signal does not know the request. Services and the newsroom admin run
their edits in ``content_edit(by=…)``, which names the user and checks each affected issue
once, at the end of the edit, so the audit entry lists every part the edit changed. A
change made outside such a block is checked at once, and its author is taken from
simple-history (the instance's ``_history_user``, or the request its middleware saw), or
left unknown.

Cheap when nothing approved is affected: one small query per save finds the approved or
scheduled issues concerned (none, almost always). The workflow's own saves and the PDF and
version bookkeeping save named fields (``update_fields``) that no reader sees: they are
not checked. A change that slips past every signal (a bulk ``update()``) is still caught:
the publication run's first step refuses an issue whose fingerprint differs.
"""

import contextvars
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save
from django.dispatch import receiver
from simple_history.models import HistoricalRecords
from taggit.models import Tag, TaggedItem

from companies.models import Company
from stories.models import Source, Story, Theme

from . import workflow
from .fingerprint import describe_changes, fingerprint, issue_content
from .models import Issue, IssueState, Placement

WATCHED_STATES = (IssueState.APPROVED, IssueState.SCHEDULED)
# Saves of only these fields change nothing a reader sees (workflow, PDF, locking, search).
_ISSUE_BOOKKEEPING = {
    *["state", "publish_at", "published_at", "updated_at", "version"],
    *["pdf", "pdf_content_hash", "pdf_pages", "pdf_size", "pdf_rendered_at"],
    *["week_in_review_html", "patterns_html", *workflow.APPROVAL_FIELDS],
}
_STORY_BOOKKEEPING = {"version", "updated_at", "summary_html", "search_vector"}
_NAMED_BOOKKEEPING = {"version"}
# How a company, theme or tag reaches the stories that name it.
_STORY_RELATION = {Company: "companies", Theme: "themes", Tag: "tags"}


@dataclass
class _Edit:
    by: object
    via: str
    issue_ids: set = field(default_factory=set)
    returned: list = field(default_factory=list)  # (issue, state it was in) sent back to review


_current_edit = contextvars.ContextVar("digest_content_edit", default=None)


@contextmanager
def content_edit(*, by, via=""):
    """Run an edit by ``by`` in a transaction; then send back to review what it changed after approval.

    ``via`` says how the change was made ("an import"), for the audit log. Yields the edit:
    its ``returned`` lists the issues sent back to review (with the state each was in) once
    the block is over. Nested
    blocks are part of the outermost one.
    """
    outer = _current_edit.get()
    if outer is not None:
        yield outer
        return
    edit = _Edit(by=by, via=via)
    token = _current_edit.set(edit)
    try:
        with transaction.atomic():
            yield edit
            _current_edit.reset(token)
            token = None
            _settle(edit)
    finally:
        if token is not None:
            _current_edit.reset(token)


def settle_content_edit():
    """Check now, rather than at the end of the edit in progress, what it changed after approval.

    For a step that must see the outcome inside the edit: a workflow button that saves the
    form first must not approve, schedule or publish content that its own save just changed.
    """
    edit = _current_edit.get()
    if edit is not None:
        _settle(edit)


def _settle(edit):
    for issue_id in sorted(edit.issue_ids):
        issue, state = _check(issue_id, by=edit.by, via=edit.via)
        if issue is not None:
            edit.returned.append((issue, state))
    edit.issue_ids.clear()


def _affected(issue_ids, instance=None):
    """Check these approved or scheduled issues now, or at the end of the edit in progress."""
    if not issue_ids:
        return
    edit = _current_edit.get()
    if edit is not None:
        edit.issue_ids.update(issue_ids)
        return
    by = _author(instance)
    with transaction.atomic():
        for issue_id in sorted(issue_ids):
            _check(issue_id, by=by, via="")


def _author(instance):
    user = getattr(instance, "_history_user", None)
    if user is not None:
        return user
    request = getattr(HistoricalRecords.context, "request", None)
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


def _check(issue_id, *, by, via):
    """Send the issue back to review if it is approved or scheduled and its content changed.

    Return it and the state it was in, or (None, None) when nothing had to be done.
    """
    issue = Issue.objects.select_for_update().filter(pk=issue_id).first()
    if issue is None or issue.state not in WATCHED_STATES or not issue.approved_fingerprint:
        return None, None
    content = issue_content(issue)
    if fingerprint(content) == issue.approved_fingerprint:
        return None, None
    state = issue.get_state_display().lower()
    changes = describe_changes(issue.approved_content, content)
    how = f" through {via}" if via else ""
    who = "" if by is not None else " (by someone the newsroom could not name)"
    comment = f"Changed after approval{how}{who}: " + " ".join(changes or ["its content differs."])
    workflow.return_to_review(issue=issue, by=by, comment=comment)  # announced: the newsroom tells the approver
    return issue, state


# Which approved or scheduled issues a change concerns: one query, or none ---------------------


def _watched_placements(**lookups):
    return set(
        Placement.objects.filter(issue__state__in=WATCHED_STATES, **lookups)
        .exclude(issue__approved_fingerprint="")
        .values_list("issue_id", flat=True)
    )


def _issues_of_stories(story_ids):
    story_ids = [story_id for story_id in story_ids if story_id is not None]
    return _watched_placements(story_id__in=story_ids) if story_ids else set()


def _bookkeeping(update_fields, fields):
    return update_fields is not None and set(update_fields) <= fields


def _deleted_with_issue(origin):
    """Whether a deletion started from an issue (or issues): it takes its own content with it."""
    return isinstance(origin, Issue) or getattr(origin, "model", None) is Issue


@receiver(post_save, sender=Issue, dispatch_uid="approval_issue_saved")
def _issue_saved(sender, instance, created, raw=False, update_fields=None, **kwargs):
    if raw or created or _bookkeeping(update_fields, _ISSUE_BOOKKEEPING):
        return
    if instance.state in WATCHED_STATES and instance.approved_fingerprint:
        _affected({instance.pk}, instance)


@receiver(post_save, sender=Story, dispatch_uid="approval_story_saved")
def _story_saved(sender, instance, created, raw=False, update_fields=None, **kwargs):
    if not raw and not created and not _bookkeeping(update_fields, _STORY_BOOKKEEPING):
        _affected(_issues_of_stories([instance.pk]), instance)


@receiver(post_save, sender=Source, dispatch_uid="approval_source_saved")
@receiver(post_delete, sender=Source, dispatch_uid="approval_source_deleted")
def _source_changed(sender, instance, raw=False, **kwargs):
    if not raw and not _deleted_with_issue(kwargs.get("origin")):
        _affected(_issues_of_stories([instance.story_id]), instance)


@receiver(pre_save, sender=Placement, dispatch_uid="approval_placement_moving")
def _placement_moving(sender, instance, raw=False, **kwargs):
    # A story moved to another issue leaves its old issue changed too.
    if not raw and instance.pk is not None:
        saved = Placement.objects.filter(pk=instance.pk).values_list("issue_id", flat=True)
        instance._approval_issue_before = saved.first()


@receiver(post_save, sender=Placement, dispatch_uid="approval_placement_saved")
@receiver(post_delete, sender=Placement, dispatch_uid="approval_placement_deleted")
def _placement_changed(sender, instance, raw=False, **kwargs):
    if raw or _deleted_with_issue(kwargs.get("origin")):
        return
    issue_ids = {instance.issue_id, getattr(instance, "_approval_issue_before", None)} - {None}
    watched = Issue.objects.filter(pk__in=issue_ids, state__in=WATCHED_STATES).exclude(approved_fingerprint="")
    _affected(set(watched.values_list("pk", flat=True)), instance)


@receiver(post_save, sender=Company, dispatch_uid="approval_company_saved")
@receiver(post_save, sender=Theme, dispatch_uid="approval_theme_saved")
@receiver(post_save, sender=Tag, dispatch_uid="approval_tag_saved")
def _named_saved(sender, instance, created, raw=False, update_fields=None, **kwargs):
    # A rename changes every approved issue with a story naming it.
    if not raw and not created and not _bookkeeping(update_fields, _NAMED_BOOKKEEPING):
        _affected(_watched_placements(**{f"story__{_STORY_RELATION[sender]}": instance}), instance)


@receiver(pre_delete, sender=Company, dispatch_uid="approval_company_deleting")
@receiver(pre_delete, sender=Theme, dispatch_uid="approval_theme_deleting")
@receiver(pre_delete, sender=Tag, dispatch_uid="approval_tag_deleting")
def _named_deleting(sender, instance, **kwargs):
    # Afterwards no link leads from it to its stories: find its issues now.
    instance._approval_issues = _watched_placements(**{f"story__{_STORY_RELATION[sender]}": instance})


@receiver(post_delete, sender=Company, dispatch_uid="approval_company_deleted")
@receiver(post_delete, sender=Theme, dispatch_uid="approval_theme_deleted")
@receiver(post_delete, sender=Tag, dispatch_uid="approval_tag_deleted")
def _named_deleted(sender, instance, **kwargs):
    _affected(getattr(instance, "_approval_issues", set()), instance)


@receiver(m2m_changed, sender=Story.companies.through, dispatch_uid="approval_story_companies")
@receiver(m2m_changed, sender=Story.themes.through, dispatch_uid="approval_story_themes")
@receiver(m2m_changed, sender=TaggedItem, dispatch_uid="approval_story_tags")
def _story_links_changed(sender, instance, action, reverse, pk_set, **kwargs):
    if not reverse:
        if isinstance(instance, Story) and action in ("post_add", "post_remove", "post_clear"):
            _affected(_issues_of_stories([instance.pk]), instance)
        return
    # From the company's (theme's) side: ``pk_set`` names the stories; a clear leaves none to name.
    relation = _STORY_RELATION.get(type(instance))
    if relation is None:
        return
    if action == "pre_clear":
        instance._approval_issues = _watched_placements(**{f"story__{relation}": instance})
    elif action == "post_clear":
        _affected(getattr(instance, "_approval_issues", set()), instance)
    elif action in ("post_add", "post_remove"):
        _affected(_issues_of_stories(pk_set or []), instance)


@receiver(post_save, sender=TaggedItem, dispatch_uid="approval_tagged_item_saved")
@receiver(post_delete, sender=TaggedItem, dispatch_uid="approval_tagged_item_deleted")
def _tagged_item_changed(sender, instance, raw=False, **kwargs):
    # Tags given or taken outside the story's tag manager (which sends m2m_changed).
    if raw or instance.content_type_id != ContentType.objects.get_for_model(Story).pk:
        return
    if isinstance(kwargs.get("origin"), Tag | Story) or _deleted_with_issue(kwargs.get("origin")):
        return  # the tag's or story's own receivers see it
    _affected(_issues_of_stories([instance.object_id]), instance)
