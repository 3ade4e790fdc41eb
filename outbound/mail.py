"""Mail from an outbox table: rows written with their cause, sent one at a time by workers.

Each row is claimed (``SKIP LOCKED``), sent and marked in a transaction of its own, so two
workers never send the same row, and a worker that dies after the mail server took a
message sends at most that one message again. A mail server that cannot be reached, or
that drops the connection, ends the round without counting against any row: the next wake
or the beat tries again, however long the outage. Only a refusal of one message (its
recipient, its sender, its data, or a provider's refusal) counts as that row's failure.
"""

import logging
import smtplib

from celery.exceptions import SoftTimeLimitExceeded
from django.core.mail import get_connection
from django.db import transaction

logger = logging.getLogger(__name__)

# Refusals of one message: the server answered, about this message. (Subclasses of OSError.)
MESSAGE_REFUSED = (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError)


def send_outbox(pending, *, limit, message, sent, refused):
    """Send up to ``limit`` rows of ``pending`` (a queryset of the rows waiting), oldest first; answer how many went.

    ``message(row)`` builds the row's ``EmailMessage``; ``sent(row)`` marks it done and
    ``refused(row, error)`` records a refusal, both inside the row's transaction.
    """
    connection = get_connection()
    try:
        connection.open()
    except Exception as error:  # the server does not answer: nothing is charged, the beat tries again
        logger.warning("Could not reach the mail server (%s): the outbox waits for the next try.", error)
        return 0
    count, tried = 0, []
    try:
        for _ in range(limit):
            with transaction.atomic():
                row = pending.exclude(pk__in=tried).select_for_update(skip_locked=True, of=("self",)).first()
                if row is None:
                    break
                tried.append(row.pk)
                try:
                    email = message(row)
                    email.connection = connection
                    email.send()
                except SoftTimeLimitExceeded:
                    raise  # the task's time is up: this row was not sent, nor refused
                except MESSAGE_REFUSED as error:
                    refused(row, error)
                    logger.warning("The mail server refused outbox row %s: %s", row.pk, error)
                    continue
                except OSError as error:  # the connection dropped or timed out: not this message's fault
                    logger.warning("The mail server went away (%s): the outbox waits for the next try.", error)
                    break
                except Exception as error:  # a message that cannot be built, a provider's refusal
                    refused(row, error)
                    logger.warning("Could not send outbox row %s.", row.pk, exc_info=True)
                    continue
                sent(row)
                count += 1
    finally:
        try:
            connection.close()
        except Exception:  # closing a connection that already dropped
            logger.debug("Closing the mail connection failed.", exc_info=True)
    return count
