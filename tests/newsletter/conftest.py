import pytest

from .smtp_sink import SmtpSink


@pytest.fixture
def smtp(settings):
    """A real SMTP server on loopback that this test's mail goes to."""
    sink = SmtpSink().start()
    for name, value in sink.settings.items():
        setattr(settings, name, value)
    settings.SITE_URL = "http://testserver"
    yield sink
    sink.stop()
