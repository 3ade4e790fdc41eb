"""Figures stored under a purge key: counts a page shows, computed once per change, not per render.

A busy company's page says how many public stories name it and since when, and which
companies are covered alongside it: counts over thousands of rows (16 and 5 ms at 52,000
stories), the same for each of its hundreds of timeline pages. They change only when
something purges the company's key, so they are stored under that key
(``StoredFigures``) and computed again by the first render after a purge.

Why a render never keeps an old figure as current:

- the change commits first; then its purge (``purges._attempt_purge``, right after the
  commit, and the beat every minute until the purge is done) bumps the row of each key it
  names, creating the missing ones, in a statement of its own, before any cache is called;
- a render that finds a figure stale or missing locks the key's row, and only then counts,
  in a statement that sees every change committed before the lock. A bump waits for that
  lock, so a figure counted before a change committed is stale again once its bump lands.

Between a change's commit and its bump (milliseconds; a minute if the process died there)
the old figures are served, as the page cache serves its old pages until their purge.
A render never waits for a change: a change holds no figure row, and a render that finds
the row locked by another render or a bump counts without storing. Readers of current
figures take no lock: one query for all the keys a page needs. A render that cannot write
(a read-only database, SQLite busy with a long import) counts without storing.
"""

import datetime
import logging

from django.db import DatabaseError, connection, transaction

from companies.models import Company
from digest.models import Issue
from digest.public import coverage, covered_alongside, public_companies, public_themes

from . import keys
from .models import StoredFigures

logger = logging.getLogger(__name__)

# Raise it with any change to what a figure counts or how it is stored: after the deploy every
# stored figure is counted again (the keys follow changes of content, not of code).
FIGURES_VERSION = 1
_VERSION = "version"


def stored_figures(key, **computations):
    """Return the figures stored under ``key``, by name: each name's function computes it when stale.

    The functions return what JSON can hold. Current figures cost one primary-key read.
    """
    return stored_figures_of({key: computations})[key]


def stored_figures_of(wanted):
    """``stored_figures`` for several keys (key → {name: function}), read in one query when current."""
    rows = StoredFigures.objects.filter(key__in=wanted).values_list("key", "figures", "generation", "built_generation")
    stored = {
        key: (figures, generation == built and figures.get(_VERSION) == FIGURES_VERSION)
        for key, figures, generation, built in rows
    }
    found = {}
    for key, computations in wanted.items():
        figures, current = stored.get(key, ({}, False))
        if current and computations.keys() <= figures.keys():
            found[key] = {name: figures[name] for name in computations}
        else:
            found[key] = _compute_and_store(key, computations, exists=key in stored)
    return found


def _compute_and_store(key, computations, *, exists):
    try:
        with transaction.atomic():
            if not exists:  # never for a row that is there: an insert would wait for whoever holds it
                StoredFigures.objects.bulk_create([StoredFigures(key=key)], ignore_conflicts=True)
            row = StoredFigures.objects.select_for_update(skip_locked=True).filter(key=key).first()
            if row is None:  # a bump or another render holds it: count what is committed, store nothing
                return {name: compute() for name, compute in computations.items()}
            current = row.built_generation == row.generation and row.figures.get(_VERSION) == FIGURES_VERSION
            figures = row.figures if current else {_VERSION: FIGURES_VERSION}
            missing = {name: compute() for name, compute in computations.items() if name not in figures}
            if missing:
                figures.update(missing)
                StoredFigures.objects.filter(key=key).update(figures=figures, built_generation=row.generation)
            return {name: figures[name] for name in computations}
    except DatabaseError as error:
        logger.warning("Could not store the figures of %s: %s", key, error)
        return {name: compute() for name, compute in computations.items()}


def mark_stale(keys):
    """Bump the row of each of ``keys`` (sorted), creating the missing ones: after the change committed.

    One statement, its rows in key order, so that two bumps never wait for each other in a cycle.
    """
    if not keys:
        return
    table, key, generation = map(connection.ops.quote_name, (StoredFigures._meta.db_table, "key", "generation"))
    rows = ", ".join(["(%s, '{}', 1, 0)"] * len(keys))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({key}, figures, {generation}, built_generation) VALUES {rows} "  # noqa: S608 - names quoted, values bound
            f"ON CONFLICT ({key}) DO UPDATE SET {generation} = {table}.{generation} + 1",
            list(keys),
        )


# The figures -------------------------------------------------------------------------------


def _coverage(topic):
    stats = coverage(topic)
    return {"count": stats["count"], "since": stats["since"].isoformat() if stats["since"] else None}


def topic_coverage(topic, key):
    """``digest.public.coverage(topic)`` (a company, theme or tag), stored under the topic's key."""
    stats = stored_figures(key, coverage=lambda: _coverage(topic))["coverage"]
    return {"count": stats["count"], "since": datetime.date.fromisoformat(stats["since"]) if stats["since"] else None}


def company_page_figures(company, *, alongside_window):
    """What a company's page shows besides its stories, stored under its key.

    Its coverage, its public parent and subsidiaries (by name) and the companies most
    often covered alongside it in its latest ``alongside_window`` stories, each with
    ``shared_stories``. Only ids and counts are stored; the companies are read in one
    query, so their names are current. Whatever changes which companies these are (a
    story, a publication, a parent's or a subsidiary's stories, a rename that reorders
    equal counts) purges this company's key too (``reader.signal_handlers``).
    """

    def relatives():
        public = public_companies()
        parent = public.filter(pk=company.parent_id).values_list("pk", flat=True).first() if company.parent_id else None
        subsidiaries = public.filter(parent=company).order_by("name").values_list("pk", flat=True)
        return {"parent": parent, "subsidiaries": list(subsidiaries)}

    def alongside():
        return [[other.pk, other.shared_stories] for other in covered_alongside(company, window=alongside_window)]

    figures = stored_figures(
        keys.company_key(company.pk),
        coverage=lambda: _coverage(company),
        relatives=relatives,
        **{f"alongside-{alongside_window}": alongside},
    )
    stats, relatives, shared = figures["coverage"], figures["relatives"], figures[f"alongside-{alongside_window}"]
    named = Company.objects.in_bulk(
        [*filter(None, [relatives["parent"]]), *relatives["subsidiaries"], *(pk for pk, _ in shared)]
    )
    for pk, count in shared:
        if pk in named:
            named[pk].shared_stories = count
    return {
        "count": stats["count"],
        "since": datetime.date.fromisoformat(stats["since"]) if stats["since"] else None,
        "parent": named.get(relatives["parent"]),
        "subsidiaries": [named[pk] for pk in relatives["subsidiaries"] if pk in named],
        "alongside": [named[pk] for pk, _ in shared if pk in named],
    }


def search_filter_choices():
    """The search's filters: the years with a published issue (newest first), and (slug, name) of
    each public theme (by name); stored under the issues' and the themes' keys, read in one query."""

    def years():
        return [day.year for day in Issue.objects.published().dates("week_start", "year", order="DESC")]

    def themes():
        return list(public_themes().order_by("name").values_list("slug", "name"))

    figures = stored_figures_of({keys.ISSUES: {"published_years": years}, keys.THEMES: {"public_themes": themes}})
    return figures[keys.ISSUES]["published_years"], [tuple(theme) for theme in figures[keys.THEMES]["public_themes"]]
