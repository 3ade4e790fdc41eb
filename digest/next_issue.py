"""What the next issue starts with: the number, week and title that follow the latest issue."""

import datetime

from .models import Issue

WEEK_DAYS = 7
# The ways a title may spell a date; each one found is replaced by the same spelling of the new date.
TITLE_DATE_FORMATS = ["{:%Y-%m-%d}", "{0:%-d} {0:%B} {0:%Y}", "{0:%B} {0:%-d}, {0:%Y}"]


def next_issue_initial():
    """Return the add form's initial values for the issue after the latest one; empty if there is none.

    The new week starts the day after the previous one ended and lasts a week, whatever the
    length of the previous one; the title keeps the previous title's words with the new dates.
    """
    previous = Issue.objects.order_by("-number").first()
    if previous is None:
        return {}
    week_start = previous.week_end + datetime.timedelta(days=1)
    week_end = week_start + datetime.timedelta(days=WEEK_DAYS - 1)
    return {
        "number": previous.number + 1,
        "title": _retitled(previous.title, {previous.week_start: week_start, previous.week_end: week_end}),
        "slug": week_start.isoformat(),
        "week_start": week_start,
        "week_end": week_end,
    }


def _retitled(title, new_dates):
    for old, new in new_dates.items():
        for spelling in TITLE_DATE_FORMATS:
            title = title.replace(spelling.format(old), spelling.format(new))
    return title
