"""Another connection holding rows while the test goes on (PostgreSQL)."""

import threading
from contextlib import contextmanager

from django.db import connection, transaction


@contextmanager
def held_by_another_transaction(hold):
    """Run ``hold()`` in a transaction on another connection and keep it open for the block.

    Inside the block this connection waits at most 3 s for a lock, so a statement that would wait
    for the other transaction fails instead of passing late. The other transaction commits when
    the block ends.
    """
    held, release = threading.Event(), threading.Event()

    def other():
        try:
            with transaction.atomic():
                hold()
                held.set()
                release.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=other)
    thread.start()
    try:
        assert held.wait(10), "the other transaction did not take its rows"
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '3s'")
        yield
    finally:
        release.set()
        thread.join()
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = 0")
