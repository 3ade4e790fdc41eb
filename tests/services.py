"""What a test does when a service it needs is missing: fail in CI, skip on a newcomer's machine."""

import os

import pytest


def missing(message):
    """Stop the test: a failure in CI (``CI=true``), which must provide every service; a skip elsewhere."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message} CI must provide it.")
    pytest.skip(message)
