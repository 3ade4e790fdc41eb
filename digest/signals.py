from django.dispatch import Signal

# Sent once per publication, by the publish run's "notify" step, inside the transaction
# that marks the step done: receivers' database work happens exactly once with it.
# Arguments: issue, run.
issue_published = Signal()
