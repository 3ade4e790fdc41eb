"""Workflow mail against a real Celery worker with its beat, real Redis and a real SMTP server."""

import pytest

from digest import workflow
from newsroom.models import NewsroomMail
from tests.factories import issue_with_stories, user_in_role
from tests.integration.conftest import wait_for
from tests.smtp_sink import SMTPSink

pytestmark = pytest.mark.worker


def test_a_review_request_made_while_broker_and_mail_server_were_down_is_mailed_by_the_beat(services):
    broker = services.redis()
    services.use(broker=broker, cache=broker)
    broker.stop()  # the transition commits while nothing could send its mail: the row waits
    user_in_role("Editor", username="eve")
    issue = issue_with_stories(title="Queues & <caches>")
    workflow.send_to_review(issue=issue, by=user_in_role("Editor", username="ed"), comment="Ready")
    assert list(NewsroomMail.objects.values_list("to", flat=True)) == ["eve@example.com"]
    broker.start()
    with SMTPSink() as sink:
        services.mailing_worker(sink, NEWSROOM_MAIL_INTERVAL_SECONDS="1")
        wait_for(lambda: sink.messages, 30, "the review request to be mailed")
        wait_for(lambda: not NewsroomMail.objects.exists(), 10, "the sent mail's row to be deleted")
    [message] = sink.messages
    assert message["To"] == "eve@example.com"
    assert message["Subject"].strip() == f"Issue #{issue.number} “Queues & <caches>” is waiting for your review"
    assert "Their comment:\nReady" in message.get_content().replace("\r\n", "\n")
