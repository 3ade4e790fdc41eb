"""Revision history in the admin: field-by-field differences and one-click restore.

Each revision lists what changed from the one before, in the words of the change form:
field labels, choices by their label, times in the newsroom's zone, names of companies,
themes and tags, and a story's sources as restoring that revision would bring them back.
"""

import datetime
from itertools import pairwise

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils import formats, timezone
from django.utils.text import capfirst
from django.views.decorators.http import require_POST
from simple_history.admin import SimpleHistoryAdmin
from simple_history.template_utils import HistoricalRecordContextHelper

from digest.revisions import children_by_revision, restore_revision
from digest.workflow import TransitionNotAllowed

NOTHING = "—"


def readable(value, field=None):
    """Return ``value`` of ``field`` as the change form would show it, never "None"."""
    if isinstance(value, list):
        return ", ".join(readable(item) for item in value) or NOTHING
    if value is None:
        return NOTHING
    if value == "":
        return "(empty)"
    if field is not None and field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, datetime.datetime):
        return formats.date_format(timezone.localtime(value), "DATETIME_FORMAT")
    if isinstance(value, datetime.date):
        return formats.date_format(value, "DATE_FORMAT")
    return str(value)


class ReadableChanges(HistoricalRecordContextHelper):
    """simple-history's list of changes, with values as the change form shows them."""

    def prepare_delta_change_value(self, change, value):
        return readable(value, self.model._meta.get_field(change.field))


def source_line(source):
    """One source of a revision, as a line: "Title — Publisher <URL>"."""
    publisher = f" — {source.publisher}" if source.publisher else ""
    url = f" <{source.url}>" if source.url else ""
    return f"{source.title}{publisher}{url}"


class RevisionsAdmin(SimpleHistoryAdmin):
    """History with a Restore button per revision (restoring is itself a new revision)."""

    object_history_list_template = "admin/revision_list.html"
    history_list_per_page = 50
    # A story's sources, an issue's placements: shown per revision when labelled here.
    revision_children_label = None

    def get_historical_record_context_helper(self, request, historical_record):
        return ReadableChanges(self.model, historical_record)

    def set_history_delta_changes(self, request, historical_records, foreign_keys_are_objs=True):
        """Give each revision the list of what changed since the one before it on the page.

        simple-history asks the database twice per revision for each many-to-many field;
        here they are read once for the whole page, with tags and sources
        (``revision_extras``), so a page of history is a fixed number of queries.
        """
        records = list(historical_records)  # newest first
        extras = self.revision_extras(records)
        m2m_names = [field.name for field in records[0]._history_m2m_fields] if records else []
        for newer, older in pairwise(records):
            delta = newer.diff_against(older, excluded_fields=m2m_names, foreign_keys_are_objs=foreign_keys_are_objs)
            changes = self.get_historical_record_context_helper(request, newer).context_for_delta_changes(delta)
            for label, new in extras[newer.history_id].items():
                old = extras[older.history_id].get(label)
                if old is not None and new is not None and old != new:
                    changes.append({"field": label, "old": old, "new": new})
            newer.history_delta_changes = changes

    def revision_extras(self, records):
        """Return what each revision had beyond its own columns, by ``history_id``: {label: text}.

        Its companies and themes (simple-history's ``m2m_fields``), its tags, and the
        children labelled by ``revision_children_label``. ``None`` is unknown (a revision
        from before tags were kept) and never shown as a change.
        """
        extras = {record.history_id: {} for record in records}
        if not records:
            return extras
        for field in records[0]._history_m2m_fields:
            label = capfirst(field.verbose_name)
            target = field.m2m_reverse_field_name()
            rows = getattr(type(records[0]), field.name).model.objects.filter(history_id__in=extras)
            pairs = list(rows.values_list("history_id", f"{target}_id"))
            names = {pk: str(obj) for pk, obj in field.related_model.objects.in_bulk({pk for _, pk in pairs}).items()}
            held = {history_id: [] for history_id in extras}
            for history_id, pk in pairs:
                held[history_id].append(names.get(pk, f"(deleted {field.related_model._meta.verbose_name})"))
            for history_id, values in held.items():
                extras[history_id][label] = readable(sorted(values, key=str.casefold))
        if hasattr(records[0], "tag_names"):
            for record in records:
                names = record.tag_names
                extras[record.history_id]["Tags"] = None if names is None else readable(list(names))
        if self.revision_children_label:
            obj = records[0].instance
            for history_id, children in children_by_revision(obj, records).items():
                lines = [source_line(child) for child in children]
                extras[history_id][self.revision_children_label] = "; ".join(lines) or NOTHING
        return extras

    def get_urls(self):
        opts = self.model._meta
        return [
            path(
                "<path:object_id>/history/<int:history_id>/restore/",
                self.admin_site.admin_view(require_POST(self.restore_view)),
                name=f"{opts.app_label}_{opts.model_name}_restore",
            ),
            *super().get_urls(),
        ]

    def revert_disabled(self, request, obj=None):
        # simple-history's own revert form would not bring back sources or placements.
        return True

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        """Show a revision read-only; restoring one goes through ``restore_view`` only.

        simple-history's form saves the revision as it stood, workflow state included, and
        checks permissions against the revision rather than the live row: it would
        unpublish an issue, bring a withdrawn one back to scheduled, or change published
        content with no correction. Hiding its button (``revert_disabled``) is not enough.
        """
        if request.method not in ("GET", "HEAD"):
            return HttpResponseNotAllowed(
                ["GET", "HEAD"],
                "Revisions are read-only here. Use “Restore this revision” on the history page.",
                content_type="text/plain; charset=utf-8",
            )
        return super().history_form_view(request, object_id, version_id, extra_context)

    def restore_view(self, request, object_id, history_id):
        obj = get_object_or_404(self.get_queryset(request), pk=object_id)
        if not self.has_change_permission(request, obj):
            raise PermissionDenied
        # A revision id from another object's history (a tampered URL) is not this object's.
        get_object_or_404(obj.history, history_id=history_id)
        opts = self.model._meta
        try:
            restore_revision(obj=obj, history_id=history_id, by=request.user)
        except (TransitionNotAllowed, PermissionDenied) as error:
            messages.error(request, str(error) or "You may not restore this revision.")
            return redirect(reverse(f"admin:{opts.app_label}_{opts.model_name}_history", args=[obj.pk]))
        messages.success(request, f"Restored “{obj}” to the chosen revision; that is now its newest revision.")
        return redirect(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]))
