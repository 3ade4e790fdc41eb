"""The event types endpoints can subscribe to, and what each one's payload holds.

A small registry: each type has a name, a sentence for the admin and a typed schema of
its ``data``, documented in the API's OpenAPI document (``webhooks``) from that schema.
Another room's event joins with one call, as the newsletter's end of a mailing does below
(``register_event_type("mailing.finished", …)``), and a receiver of its signal that calls
``delivery.queue_event`` inside the signal's transaction (``signal_handlers``).

Every payload is ``{"type": …, "timestamp": …, "data": {…}}`` (Standard Webhooks).
"""

import datetime
from dataclasses import dataclass
from typing import Literal

from django.conf import settings
from ninja import Schema
from pydantic import Field, create_model

from api.views import api

TEST_EVENT = "webhook.test"


@dataclass(frozen=True)
class EventType:
    name: str
    description: str
    data: type[Schema]


EVENT_TYPES = {}


def register_event_type(name, *, description, data, subscribable=True):
    """Add an event type: endpoints may choose it (if ``subscribable``), and the API documents it."""
    EVENT_TYPES[name] = EventType(name, description, data)
    envelope = create_model(
        "".join(part.title() for part in name.replace(".", "_").split("_")) + "Event",
        __base__=Schema,
        __doc__=description,
        type=(Literal[name], Field(description=f"Always `{name}`.")),
        timestamp=(datetime.datetime, Field(description="When the event happened.")),
        data=(data, ...),
    )
    api.document_webhook(name, description=description, schema=envelope)
    if not subscribable:
        _UNSUBSCRIBABLE.add(name)


_UNSUBSCRIBABLE = set()


def subscribable_types():
    """The event types an endpoint may choose, as (name, description) choices."""
    return [(event.name, f"{event.name}: {event.description}") for event in EVENT_TYPES.values()
            if event.name not in _UNSUBSCRIBABLE]  # fmt: skip


class IssueData(Schema):
    number: int
    slug: str
    title: str
    url: str = Field(description="The issue's page.")
    api_url: str = Field(description="The issue in the JSON API (410 once withdrawn).")
    week_start: datetime.date
    week_end: datetime.date
    published_at: datetime.datetime | None


class IssueEventData(Schema):
    issue: IssueData


class CorrectionData(Schema):
    date: datetime.datetime
    note: str = Field(description="The public note of the correction.")


class IssueCorrectedData(Schema):
    issue: IssueData
    correction: CorrectionData


class MailingData(Schema):
    id: int
    subject: str
    total: int = Field(description="Subscribers the mailing was for.")
    sent: int
    failed: int = Field(description="Refused for good by the mail server (its answer is in the admin).")
    skipped: int = Field(description="Unsubscribed, bounced or complained before their turn.")
    finished_at: datetime.datetime


class MailingFinishedData(Schema):
    issue: IssueData
    mailing: MailingData


class TestData(Schema):
    message: str


def issue_data(issue):
    site = settings.SITE_URL.rstrip("/")
    return {
        "number": issue.number,
        "slug": issue.slug,
        "title": issue.title,
        "url": f"{site}/issues/{issue.slug}/",
        "api_url": f"{site}/api/v1/issues/{issue.slug}/",
        "week_start": issue.week_start.isoformat(),
        "week_end": issue.week_end.isoformat(),
        "published_at": issue.published_at.isoformat() if issue.published_at else None,
    }


register_event_type(
    "issue.published", description="An issue went live (after its PDF was stored).", data=IssueEventData
)
register_event_type(
    "issue.corrected", description="A published issue was corrected, with its public note.", data=IssueCorrectedData
)
register_event_type("issue.withdrawn", description="A published issue was taken down.", data=IssueEventData)
register_event_type(
    "mailing.finished",
    description="The newsletter of an issue has been tried for every subscriber: sent, failed or skipped.",
    data=MailingFinishedData,
)
register_event_type(
    TEST_EVENT, description="Sent by “Send a test event” in the admin.", data=TestData, subscribable=False
)
