"""What the API answers, as typed schemas: django-ninja builds the OpenAPI document from them.

Every text an editor wrote goes out twice where it is Markdown: as the Markdown typed and
as the sanitised HTML the site shows (``stories.rendering``), so clients never render
Markdown themselves to show what the site shows.
"""

import datetime

from ninja import Schema
from pydantic import Field


class Text(Schema):
    html: str = Field(description="Sanitised HTML, as the site shows it.")
    markdown: str = Field(description="The Markdown the editors wrote.")


class Named(Schema):
    slug: str
    name: str
    url: str = Field(description="Its page on the reader site.")


class Source(Schema):
    title: str
    publisher: str
    url: str = Field(description="http(s) address of the source; empty when unknown.")


class IssueRef(Schema):
    number: int
    slug: str
    title: str
    url: str


class Story(Schema):
    slug: str
    title: str
    url: str = Field(description="The story in its issue's page.")
    section: str = Field(description="'Top Stories' or 'Developing Threads'.")
    position: int = Field(description="Its place in the section, from 0.")
    issue: IssueRef
    summary: Text
    companies: list[Named]
    themes: list[Named]
    tags: list[Named]
    sources: list[Source]


class SectionOut(Schema):
    name: str
    stories: list[Story]


class Pdf(Schema):
    url: str
    size: int | None = Field(description="In bytes.")
    content_hash: str = Field(description="SHA-256 of what this edition was rendered from; changes with the PDF.")


class CorrectionOut(Schema):
    date: datetime.datetime
    note: str


class IssueSummary(Schema):
    number: int
    slug: str
    title: str
    url: str
    api_url: str
    week_start: datetime.date
    week_end: datetime.date
    published_at: datetime.datetime


class IssueDetail(IssueSummary):
    updated_at: datetime.datetime
    week_in_review: Text
    patterns: Text
    sections: list[SectionOut] = Field(description="In reading order: Top Stories, then Developing Threads.")
    pdf: Pdf | None = Field(description="The PDF edition, once rendered.")
    corrections: list[CorrectionOut]


class CompanySummary(Named):
    api_url: str
    website: str


class CompanyDetail(CompanySummary):
    description: str
    parent: Named | None
    subsidiaries: list[Named]
    story_count: int = Field(description="Its stories in published issues.")
    since: datetime.date | None = Field(description="The first day of its earliest issue.")
    stories_url: str = Field(description="Its stories in the API, newest first.")


class TopicSummary(Named):
    api_url: str


class TopicDetail(TopicSummary):
    description: str
    story_count: int
    since: datetime.date | None
    stories_url: str


class SearchResult(Story):
    snippet: str = Field(description="Plain text around the match.")


class Error(Schema):
    detail: str


class Page(Schema):
    """One page of a list; ``next`` is the address of the following page, null on the last."""

    next: str | None = Field(description="The next page's address (cursor pagination); null on the last page.")


class IssuePage(Page):
    items: list[IssueSummary]


class StoryPage(Page):
    items: list[Story]


class CompanyPage(Page):
    items: list[CompanySummary]


class TopicPage(Page):
    items: list[TopicSummary]


class SearchPage(Page):
    items: list[SearchResult]
