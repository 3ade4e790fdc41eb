"""What the newsletter announces, for other rooms (the webhooks) to report."""

from django.dispatch import Signal

# A mailing has no recipient left to try: every one is sent, failed or skipped. Sent once
# per mailing, inside the transaction that marks it completed. Arguments: mailing.
mailing_finished = Signal()
