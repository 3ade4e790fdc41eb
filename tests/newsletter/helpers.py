"""What the newsletter tests share: publishing an issue all the way, reading links out of a message."""

import re
from urllib.parse import urlsplit

from digest import publishing
from digest.models import IssueState
from newsletter.models import Subscriber, SubscriberStatus
from tests.factories import issue_with_stories, user_in_role

LINK = re.compile(r'href="([^"]+)"')


def publish_and_mail(issue, capture, publisher=None):
    """Publish ``issue`` through its whole run, the newsletter step and the sending included (eager tasks)."""
    publisher = publisher or user_in_role("Publisher", username="pub")
    with capture(execute=True):
        run = publishing.publish(issue=issue, by=publisher)
    with capture(execute=True):
        publishing.advance_run(run.pk)
    issue.refresh_from_db()
    return run


def approved_issue(**fields):
    return issue_with_stories(state=IssueState.APPROVED, **fields)


def confirmed(*emails):
    return [Subscriber.objects.create(email=email, status=SubscriberStatus.CONFIRMED) for email in emails]


def html_part(message):
    return message.get_body(preferencelist=("html",)).get_content()


def text_part(message):
    return message.get_body(preferencelist=("plain",)).get_content()


def site_links(html, site="http://testserver"):
    """The paths of every link in ``html`` to the site itself."""
    return sorted({urlsplit(url).path for url in LINK.findall(html) if url.startswith(site)})
