"""Account notices against a real Celery worker with its beat, real Redis and a real SMTP server."""

import pytest

from accounts.models import AccountChange
from accounts.notices import record_change
from tests.factories import user_in_role
from tests.integration.conftest import wait_for
from tests.smtp_sink import SMTPSink

pytestmark = pytest.mark.worker


def test_a_notice_written_while_no_worker_ran_is_mailed_by_the_beat(services):
    broker = services.redis()
    services.use(broker=broker, cache=broker)
    broker.stop()  # the change commits while the broker is down: the row waits
    eve = user_in_role("Editor", username="eve")
    record_change(user=eve, action=AccountChange.Action.PASSWORD_CHANGED)
    change = AccountChange.objects.get()
    assert change.notice_sent_at is None
    broker.start()
    with SMTPSink() as sink:
        services.mailing_worker(sink, ACCOUNT_NOTICES_INTERVAL_SECONDS="1")
        wait_for(lambda: sink.messages, 30, "the notice to be mailed")
        wait_for(lambda: AccountChange.objects.get().notice_sent_at, 10, "the notice to be marked sent")
    assert [message["To"] for message in sink.messages] == ["eve@example.com"]
    assert "Your password was changed." in sink.messages[0].get_content()
