"""The newsroom admin.

It lives in one place because the workflow spans every app: whether a story or a company
may be edited depends on the issues it appears in, and every edit is version-checked and
kept as a revision. Dependencies still point one way: digest → stories → companies.
"""

from . import companies, issues, mail, publishing, stories  # noqa: F401 - registers the model admins
