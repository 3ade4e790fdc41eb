"""Candidates: storing the posts a feed lists, and what editors do with them.

Reads are ``Candidate.objects`` methods; each change an editor makes is one function here
(``dismiss``, ``keep``, ``make_story``), called by the admin and anyone else, which checks
the permission on the live rows.
"""

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify

from stories.models import Source, Story

from .canonical import NotAWebAddress, canonical_url
from .models import Candidate, CandidateState, inbox_date


class CandidateAlreadyUsed(Exception):
    """Someone made a story of this candidate first."""

    def __init__(self, candidate):
        self.candidate = candidate
        story = f"“{candidate.story.title}”" if candidate.story_id else "a story"
        super().__init__(f"This post is already used: it is a source of {story}.")


def unseen(entries):
    """The entries of ``entries`` that are not a candidate yet, each link once, in their order."""
    links = {entry.link for entry in entries}
    seen = set()
    for link, listed in Candidate.objects.filter(Q(link__in=links) | Q(listed_link__in=links)).values_list(
        "link", "listed_link"
    ):
        seen.update((link, listed))
    fresh = []
    for entry in entries:
        if entry.link not in seen:
            seen.add(entry.link)
            fresh.append(entry)
    return fresh


def store(entries, *, feed=None, company=None, resolved=None, added_by=None):
    """Store new candidates for ``entries`` (from ``unseen``); return how many were created.

    ``resolved`` maps an entry's listed link to where it redirects (canonical), when known.
    A post already cited as a source of a story is stored as used. Two workers storing the
    same post at once make one candidate: the link is unique and conflicts are ignored.
    """
    resolved = resolved or {}
    now = timezone.now()
    rows = {}  # canonical link: entry
    for entry in entries:
        rows.setdefault(resolved.get(entry.link, entry.link), entry)
    # A redirect may lead to a post another feed listed already.
    known = set(Candidate.objects.filter(link__in=rows).values_list("link", flat=True))
    cited = dict(Source.objects.filter(url__in=[*rows, *(e.link for e in entries)]).values_list("url", "story_id"))
    candidates = []
    for link, entry in rows.items():
        if link in known:
            continue
        story_id = cited.get(link) or cited.get(entry.link)
        candidates.append(
            Candidate(
                link=link,
                listed_link=entry.link,
                title=entry.title,
                author=entry.author,
                summary=entry.summary,
                published_at=entry.published_at,
                found_at=now,
                dated_at=inbox_date(entry.published_at, now),
                feed=feed,
                company=company if company is not None else (feed.company if feed else None),
                state=CandidateState.USED if story_id else CandidateState.NEW,
                story_id=story_id,
                added_by=added_by,
            )
        )
    Candidate.objects.bulk_create(candidates, ignore_conflicts=True)
    # What this call inserted, not what a concurrent worker stored first (conflicts are silent).
    return Candidate.objects.filter(link__in=[c.link for c in candidates], found_at=now).count() if candidates else 0


def add_post(*, entry, company, by):
    """Add one post by its address as a candidate (an editor's "Add a post"); return the candidate."""
    _ensure(by, "intake.add_candidate")
    fresh = unseen([entry])
    if fresh:
        store(fresh, company=company, added_by=by)
    return Candidate.objects.filter(Q(link=entry.link) | Q(listed_link=entry.link)).first()


def mark_cited(source):
    """A story cites ``source``: the candidate for the same post, if any, is used by that story."""
    try:
        link = canonical_url(source.url)
    except NotAWebAddress:
        return 0
    return (
        Candidate.objects.filter(Q(link=link) | Q(listed_link=link))
        .exclude(state=CandidateState.USED)
        .update(state=CandidateState.USED, story_id=source.story_id)
    )


def dismiss(*, candidate_ids, by):
    """Dismiss the candidates not used yet among ``candidate_ids``; return how many were dismissed."""
    return _set_state(candidate_ids, CandidateState.DISMISSED, by)


def keep(*, candidate_ids, by):
    """Keep the candidates not used yet among ``candidate_ids`` for later; return how many."""
    return _set_state(candidate_ids, CandidateState.KEPT, by)


def _set_state(candidate_ids, state, by):
    _ensure(by, "intake.change_candidate")
    # A used candidate stays used: its story exists whatever the inbox says.
    return Candidate.objects.filter(pk__in=candidate_ids).exclude(state=CandidateState.USED).update(state=state)


def make_story(*, candidate_id, by):
    """Make a draft story of a candidate: its title, company and the post as first source; return the story.

    The candidate's row is locked, so two editors clicking at once make one story: the second
    gets CandidateAlreadyUsed naming the first one's story.
    """
    _ensure(by, "intake.change_candidate", "stories.add_story")
    with transaction.atomic():
        candidate = (
            Candidate.objects.select_for_update(of=("self",)).select_related("company", "feed").get(pk=candidate_id)
        )
        if candidate.state == CandidateState.USED:
            raise CandidateAlreadyUsed(Candidate.objects.select_related("story").get(pk=candidate.pk))
        story = Story(title=candidate.title, author=by)
        story._history_user = by  # django-simple-history: the revision says who made it
        _save_with_a_free_slug(story)
        if candidate.company_id:
            story.companies.add(candidate.company)
        Source.objects.create(
            story=story, position=0, title=candidate.title, publisher=_publisher(candidate), url=candidate.link
        )
        candidate.state, candidate.story = CandidateState.USED, story
        candidate.save(update_fields=["state", "story"])
    return story


def _publisher(candidate):
    if candidate.company_id:
        return candidate.company.name[:120]
    return (candidate.feed.title if candidate.feed_id else "")[:120]


def _save_with_a_free_slug(story, tries=5):
    """Save a new story under the first free slug of its title. Another editor saving a story of the
    same title at the same moment may take that slug first: then the next free one is taken."""
    for attempt in range(tries):
        story.slug = _free_slug(story.title)
        try:
            with transaction.atomic():  # a savepoint: the clash undoes only this save
                story.save()
            return
        except IntegrityError:
            if attempt == tries - 1:
                raise


def _free_slug(title):
    base = slugify(title)[:280].strip("-") or "story"
    taken = set(Story.objects.filter(slug__startswith=base).values_list("slug", flat=True))
    slug, number = base, 2
    while slug in taken:
        slug, number = f"{base}-{number}", number + 1
    return slug


def _ensure(user, *permissions):
    if not user.has_perms(permissions):
        raise PermissionDenied("You may not change the inbox.")
