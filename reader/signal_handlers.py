"""What each change the core announces means for the reader site: the keys to purge.

The core never names a page. It announces transitions, corrections and stored PDFs
(``digest.signals``), and Django announces every content edit (``post_save``,
``pre_delete``, ``m2m_changed``) whatever made it: the admin, an import, a restore, a
rename. Each handler here turns one into the keys of the pages it makes stale
(``reader.keys``) and records their purge in the transaction of the change
(``purges.queue_purge``). A change to anything not public (a draft, a company no
published story names) costs one small query and purges nothing.

A page is found through what it shows: an issue through its own key (its page, and its
neighbours' pages that link to it); a company, theme or tag through its key (its page and
feeds) and the issues whose stories name it, whose other topics' timelines show those
stories too; the lists through their list keys.
"""

from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from django.db.models.signals import m2m_changed, post_save, pre_delete, pre_save
from taggit.models import Tag, TaggedItem

from companies.models import Company
from digest.models import Issue, IssueState, Placement, published_issue
from digest.signals import issue_corrected, issue_pdf_stored, issue_transitioned
from stories.models import Source, Story, Theme

from . import keys
from .purges import queue_purge


def _topic_keys(story_ids):
    """Return the keys of the companies (with their parents and subsidiaries), themes and tags of stories."""
    named = Company.objects.filter(stories__in=story_ids).values("pk")
    companies = Company.objects.filter(Q(pk__in=named) | Q(parent__in=named) | Q(subsidiaries__in=named))
    themes = Theme.objects.filter(stories__in=story_ids)
    tags = TaggedItem.objects.filter(content_type=ContentType.objects.get_for_model(Story), object_id__in=story_ids)
    return {
        *(keys.company_key(pk) for pk in companies.values_list("pk", flat=True).distinct()),
        *(keys.theme_key(pk) for pk in themes.values_list("pk", flat=True).distinct()),
        *(keys.tag_key(pk) for pk in tags.values_list("tag_id", flat=True).distinct()),
    }


def _public_story_keys(stories, *, lists=(keys.ISSUES,)):
    """Return the keys of the pages showing those of ``stories`` (ids or a query) that are public.

    Their issues, their topics and ``lists`` (the archive and the feeds show stories); none
    when no public story is among them, found in one query.
    """
    placed = list(
        Placement.objects.filter(published_issue("issue__"), story__in=stories).values_list("story_id", "issue_id")
    )
    if not placed:
        return set()
    story_ids = [story_id for story_id, _ in placed]
    return {*(keys.issue_key(issue_id) for _, issue_id in placed), *_topic_keys(story_ids), *lists}


def _issue_keys(issue, *, lists, linked=True):
    """Return the keys of the pages showing ``issue`` (and, if ``linked``, linking to it), whatever its state."""
    story_ids = list(Placement.objects.filter(issue=issue).values_list("story_id", flat=True))
    links = [keys.issue_link_key(issue.pk)] if linked else []
    return {keys.issue_key(issue.pk), *links, *_topic_keys(story_ids), *lists}


# The core's announcements -----------------------------------------------------------------


def _neighbour_keys(issue):
    """The pages of the issues before and after ``issue`` in reading order: they link to it now."""
    published = Issue.objects.published()
    neighbours = [published.before(issue).first(), published.after(issue).first()]
    return {keys.issue_key(other.pk) for other in neighbours if other is not None}


def issue_went_public_or_not(sender, *, issue, from_state, to_state, **kwargs):
    """Published or withdrawn: its page and the pages linking to it, its stories' topics, every list.

    A published issue's neighbours now link to it: their pages are purged too. A withdrawn
    issue's neighbours linked to it, so they carry its link key already.
    """
    if IssueState.PUBLISHED not in (from_state, to_state):
        return
    went_public = to_state == IssueState.PUBLISHED
    queue_purge({*_issue_keys(issue, lists=keys.LISTS), *(_neighbour_keys(issue) if went_public else ())})


def issue_was_corrected(sender, *, issue, **kwargs):
    """Its page, its stories' topics, the lists of issues.

    The pages linking to it show only its title, and a new title is a save of the issue
    (``issue_saved``), which purges them: a company renamed on one of its stories does not.
    """
    queue_purge(_issue_keys(issue, lists=[keys.ISSUES], linked=False))


def issue_pdf_was_stored(sender, *, issue, **kwargs):
    queue_purge([keys.issue_key(issue.pk)])


# Content edits ------------------------------------------------------------------------


# What the pages linking to an issue show of it (its title) and its place in reading order.
_LINKED_FIELDS = ("state", "week_start", "number", "title")


def issue_about_to_be_saved(sender, instance, update_fields=None, **kwargs):
    """Note a published issue's state, place and title before a save, to tell what the save changes."""
    if update_fields is None and instance.pk and instance.state == IssueState.PUBLISHED:
        instance._linked_before = Issue.objects.filter(pk=instance.pk).values_list(*_LINKED_FIELDS).first()


def issue_saved(sender, instance, update_fields=None, **kwargs):
    """A published issue saved whole (a correction, an import): its page, its topics, the lists.

    A new title, week or number also changes the pages linking to it. An issue made public
    by the save, or moved in reading order, has new neighbours, which link to it now. Saves
    of some fields only are the workflow's and the edition's, announced by them.
    """
    if update_fields is None and instance.state == IssueState.PUBLISHED:
        before = getattr(instance, "_linked_before", None)
        relinked = before != tuple(getattr(instance, field) for field in _LINKED_FIELDS)
        placed_anew = before is None or before[:3] != (IssueState.PUBLISHED, instance.week_start, instance.number)
        neighbours = _neighbour_keys(instance) if placed_anew else ()
        queue_purge({*_issue_keys(instance, lists=keys.LISTS, linked=relinked), *neighbours})


def issue_deleted(sender, instance, **kwargs):
    if instance.state == IssueState.PUBLISHED:
        queue_purge(_issue_keys(instance, lists=keys.LISTS))


def story_changed(sender, instance, **kwargs):
    queue_purge(_public_story_keys([instance.pk]))


def source_changed(sender, instance, **kwargs):
    queue_purge(_public_story_keys([instance.story_id]))


def placement_about_to_be_saved(sender, instance, **kwargs):
    """Note which story a placement held, and where, before a save: a story moved away leaves a page."""
    placed = Placement.objects.filter(pk=instance.pk).values_list("story_id", "issue_id") if instance.pk else None
    instance._placed_before = placed.first() if placed is not None else None


def placement_changed(sender, instance, **kwargs):
    """A story put in or taken out of a published issue: the lists gain or lose it, its topics too.

    A placement saved with another story or issue takes the story it held out of the issue it
    was in: that issue's page and the old story's topics change as well.
    """
    stale = set()
    issue = Issue.objects.published().filter(pk=instance.issue_id).first()
    if issue is not None:
        stale |= _issue_keys(issue, lists=keys.LISTS)
    before = getattr(instance, "_placed_before", None)
    if before is not None and before != (instance.story_id, instance.issue_id):
        story_before, issue_before = before
        left = Issue.objects.published().filter(pk=issue_before).first()
        if left is not None:
            stale |= {*_issue_keys(left, lists=keys.LISTS), *_topic_keys([story_before])}
    queue_purge(stale)


_LIST_OF = {Company: keys.COMPANIES, Theme: keys.THEMES, Tag: keys.TAGS}


def story_links_changed(sender, instance, action, reverse, model, pk_set, **kwargs):
    """A story's companies, themes or tags changed: before a removal, so the removed ones are purged too.

    ``reverse`` when the change went through the topic (``company.stories.remove(story)``).
    """
    if action not in ("pre_remove", "pre_clear", "post_add") or (action != "pre_clear" and not pk_set):
        return
    if reverse:
        topic_list = _LIST_OF[type(instance)]
        stories = instance.stories.all() if action == "pre_clear" else pk_set
    else:
        topic_list = _LIST_OF[model]
        stories = [instance.pk]
    queue_purge(_public_story_keys(stories, lists=[keys.ISSUES, topic_list]))


def company_about_to_be_saved(sender, instance, **kwargs):
    """Note a company's parent before a save: a company moved away leaves its old parent's page."""
    parents = Company.objects.filter(pk=instance.pk).values_list("parent_id", flat=True) if instance.pk else None
    instance._parent_before = parents.first() if parents is not None else None


def company_changed(sender, instance, **kwargs):
    stories = Story.objects.filter(companies=instance).values("pk")
    stale = _public_story_keys(stories, lists=[keys.ISSUES, keys.COMPANIES])
    parent_before = getattr(instance, "_parent_before", None)
    if stale and parent_before and parent_before != instance.parent_id:
        stale.add(keys.company_key(parent_before))  # it listed this company among those it owns
    queue_purge(stale)


def theme_changed(sender, instance, **kwargs):
    stories = Story.objects.filter(themes=instance).values("pk")
    queue_purge(_public_story_keys(stories, lists=[keys.ISSUES, keys.THEMES]))


def tag_changed(sender, instance, **kwargs):
    stories = TaggedItem.objects.filter(tag=instance, content_type=ContentType.objects.get_for_model(Story))
    queue_purge(_public_story_keys(stories.values("object_id"), lists=[keys.ISSUES, keys.TAGS]))


def connect():
    """Connect every handler (``ReaderConfig.ready``)."""
    issue_transitioned.connect(issue_went_public_or_not, dispatch_uid="reader.purge.transition")
    issue_corrected.connect(issue_was_corrected, dispatch_uid="reader.purge.correction")
    issue_pdf_stored.connect(issue_pdf_was_stored, dispatch_uid="reader.purge.pdf")
    pre_save.connect(issue_about_to_be_saved, sender=Issue, dispatch_uid="reader.purge.issue_about_to_be_saved")
    post_save.connect(issue_saved, sender=Issue, dispatch_uid="reader.purge.issue_saved")
    pre_save.connect(placement_about_to_be_saved, sender=Placement, dispatch_uid="reader.purge.placement_before")
    pre_save.connect(company_about_to_be_saved, sender=Company, dispatch_uid="reader.purge.company_before")
    pre_delete.connect(issue_deleted, sender=Issue, dispatch_uid="reader.purge.issue_deleted")
    for model, handler in [
        (Story, story_changed),
        (Source, source_changed),
        (Placement, placement_changed),
        (Company, company_changed),
        (Theme, theme_changed),
        (Tag, tag_changed),
    ]:
        # Deletions before the rows go: what showed them can still be found.
        post_save.connect(handler, sender=model, dispatch_uid=f"reader.purge.{model.__name__}_saved")
        pre_delete.connect(handler, sender=model, dispatch_uid=f"reader.purge.{model.__name__}_deleted")
    for through in (Story.companies.through, Story.themes.through, TaggedItem):
        m2m_changed.connect(story_links_changed, sender=through, dispatch_uid=f"reader.purge.{through.__name__}")
