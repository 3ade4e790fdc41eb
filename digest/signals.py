"""What the digest core announces. The outer rooms react: the reader site purges the pages
that showed what changed, the newsletter and the webhooks tell the world.

Every signal is sent inside the transaction of the change it announces, so a receiver's
database work (an outbox row: a purge, a mailing, a delivery) commits with the change or
not at all; work outside the database belongs in ``transaction.on_commit``.

Content edits (a story, a source, a placement, a company, a theme, a tag and their links)
are announced by Django's own model signals (``post_save``, ``post_delete``,
``m2m_changed``), which every path sends: the admin, imports, restores, renames.
"""

from django.dispatch import Signal

# An issue moved from one workflow state to another (``workflow``).
# Arguments: issue, name (the transition), from_state, to_state, by (None: the system).
issue_transitioned = Signal()

# Sent once per publication, by the publish run's "notify" step, after the issue went live
# and its PDF was stored. Arguments: issue, run.
issue_published = Signal()

# A correction of a published issue was recorded (``corrections``), after the corrected
# change was saved. Arguments: issue, correction, by.
issue_corrected = Signal()

# A new PDF edition of the issue was stored (``edition``). Arguments: issue.
issue_pdf_stored = Signal()
