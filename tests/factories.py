"""Factories for every model, in one place."""

import datetime

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from companies.models import Company
from digest.models import Issue, IssueState, Placement, Section
from stories.models import Source, Story, Theme


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    password = factory.django.Password("correct horse battery staple")

    class Params:
        superuser = factory.Trait(is_staff=True, is_superuser=True)


class CompanyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Company

    name = factory.Sequence(lambda n: f"Company {n}")
    slug = factory.Sequence(lambda n: f"company-{n}")
    website = factory.LazyAttribute(lambda company: f"https://{company.slug}.example.com/")
    description = "Runs large systems."


class ThemeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Theme

    name = factory.Sequence(lambda n: f"Theme {n}")
    slug = factory.Sequence(lambda n: f"theme-{n}")


class StoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Story
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Story {n}")
    slug = factory.Sequence(lambda n: f"story-{n}")
    summary = "A *short* summary of what happened."

    @factory.post_generation
    def companies(self, create, extracted, **kwargs):
        if create:
            self.companies.set(extracted if extracted is not None else [CompanyFactory()])

    @factory.post_generation
    def themes(self, create, extracted, **kwargs):
        if create and extracted:
            self.themes.set(extracted)

    @factory.post_generation
    def sources(self, create, extracted, **kwargs):
        if create and extracted is None:
            SourceFactory(story=self)


class SourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Source

    story = factory.SubFactory(StoryFactory)
    title = factory.Sequence(lambda n: f"Source {n}")
    publisher = "Engineering blog"
    url = factory.Sequence(lambda n: f"https://blog.example.com/post-{n}")


class FeedFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "intake.Feed"

    company = factory.SubFactory(CompanyFactory)
    url = factory.Sequence(lambda n: f"https://blog{n}.example.com/feed.xml")
    title = factory.Sequence(lambda n: f"Blog {n}")


class CandidateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "intake.Candidate"

    feed = factory.SubFactory(FeedFactory)
    company = factory.LazyAttribute(lambda candidate: candidate.feed.company if candidate.feed else None)
    link = factory.Sequence(lambda n: f"https://blog.example.com/posts/{n}")
    listed_link = factory.LazyAttribute(lambda candidate: candidate.link)
    title = factory.Sequence(lambda n: f"Post {n}")
    summary = "What the post is about."
    published_at = factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(hours=1))


class IssueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Issue

    # Far from the numbers and dates tests give their own issues, so that however many issues a
    # session has made, a factory's number or slug never clashes with one a test chose.
    number = factory.Sequence(lambda n: n + 10_000)
    week_start = factory.Sequence(lambda n: datetime.date(1970, 1, 3) + datetime.timedelta(weeks=n))
    week_end = factory.LazyAttribute(lambda issue: issue.week_start + datetime.timedelta(days=6))
    slug = factory.LazyAttribute(lambda issue: issue.week_start.isoformat())
    title = factory.LazyAttribute(lambda issue: f"Engineering @ Scale — Week of {issue.week_start.isoformat()}")
    week_in_review = "A week of **engineering**."
    patterns = "Patterns emerged."

    class Params:
        published = factory.Trait(
            state=IssueState.PUBLISHED,
            published_at=factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(hours=1)),
        )


class PlacementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Placement

    issue = factory.SubFactory(IssueFactory)
    story = factory.SubFactory(StoryFactory)
    section = Section.TOP_STORIES
    position = factory.Sequence(lambda n: n)


def issue_with_stories(*, top=2, threads=1, **issue_fields):
    """An issue with ``top`` top stories and ``threads`` developing threads."""
    issue = IssueFactory(**issue_fields)
    for position in range(top):
        PlacementFactory(issue=issue, section=Section.TOP_STORIES, position=position)
    for position in range(threads):
        PlacementFactory(issue=issue, section=Section.DEVELOPING_THREADS, position=position)
    if issue.state in (IssueState.APPROVED, IssueState.SCHEDULED):
        record_approval(issue)
    return issue


def record_approval(issue):
    """Record the issue's content as approved, as ``workflow.approve`` does, for issues made approved here."""
    from digest.fingerprint import fingerprint, issue_content

    issue.approved_content = issue_content(issue)
    issue.approved_fingerprint = fingerprint(issue.approved_content)
    issue.save(update_fields=["approved_content", "approved_fingerprint"])
    return issue


def user_in_role(role, username=None):
    """A staff user in one of the newsroom's groups (Contributor, Editor, Publisher)."""
    from django.contrib.auth.models import Group

    from digest.roles import sync_roles

    if not Group.objects.filter(name=role).exists():
        sync_roles()  # transactional tests empty the tables, groups from the migration included
    user = UserFactory(username=username or role.lower(), is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    return user
