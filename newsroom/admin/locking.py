"""Optimistic locking for admin forms: a later save never silently overwrites an earlier one."""

import difflib
import re

from django import forms
from django.contrib.admin.widgets import RelatedFieldWidgetWrapper
from django.core.exceptions import ValidationError
from django.db.models import Model
from django.forms.models import model_to_dict
from django.utils import timezone

from .typed import ShowsTypedAdmin


class VersionCheckedForm(forms.ModelForm):
    """Refuse a save when someone else saved the object after this form was opened.

    The form carries the version it was opened at. On save the row is locked (the admin
    saves inside a transaction) and the version compared. On a conflict everything typed is
    shown again with the newer version, so saving once more deliberately replaces theirs;
    ``conflicts`` lists the fields where theirs and yours differ, for the page to offer
    "take theirs" or "keep yours" on each (``templates/admin/includes/conflict.html``).
    A field posted with "take theirs" is saved with the stored value instead of the typed one.
    """

    seen_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Filled on a refused save: each field where their version and what was typed differ.
        self.conflicts = []
        if self.instance.pk:
            self.fields["seen_version"].initial = self.instance.version
            self.fields["seen_version"].required = True
            if self.is_bound:
                self._take_theirs_where_chosen()

    def _take_theirs_where_chosen(self):
        """Replace what was typed with the stored value in each field the conflict page chose "theirs" for."""
        chosen = [name for name in self._compared_fields() if self.data.get(choice_name(self, name)) == THEIRS]
        if not chosen:
            return
        stored = model_to_dict(self.instance, fields=chosen)
        self.data = self.data.copy()
        for name in chosen:
            self.data.setlist(self.add_prefix(name), _as_data(self.fields[name], stored.get(name)))

    def clean(self):
        cleaned_data = super().clean()
        if not self.instance.pk or "seen_version" not in cleaned_data:
            return cleaned_data
        model = type(self.instance)
        current = model.objects.select_for_update().filter(pk=self.instance.pk).values_list("version", flat=True)[0]
        if cleaned_data["seen_version"] != current:
            self.data = self.data.copy()
            self.data[self.add_prefix("seen_version")] = current
            self.conflicts = self._differences(model.objects.get(pk=self.instance.pk), cleaned_data)
            raise ValidationError(self._conflict_message(), code="conflict")
        return cleaned_data

    def _compared_fields(self):
        return [name for name in self.fields if name != "seen_version" and not self.fields[name].disabled]

    def _differences(self, theirs, cleaned_data):
        """Each field whose stored value differs from what was typed: name, label, theirs, yours (as text)."""
        stored = model_to_dict(theirs, fields=self._compared_fields())
        differences = []
        for name in self._compared_fields():
            field = self.fields[name]
            if not field.has_changed(stored.get(name), self[name].data):
                continue
            yours = cleaned_data[name] if name in cleaned_data else self[name].data
            theirs_marked, yours_marked = _marked(_as_text(stored.get(name)), _as_text(yours))
            differences.append(
                {
                    "name": name,
                    "label": field.label or name,
                    "choice_name": choice_name(self, name),
                    "theirs": theirs_marked,
                    "yours": yours_marked,
                }
            )
        return differences

    def _conflict_message(self):
        record = self.instance.history.select_related("history_user").order_by("-history_date").first()
        who = (record.history_user.get_username() if record and record.history_user else None) or "Someone"
        when = f" at {timezone.localtime(record.history_date):%H:%M:%S on %d %b %Y}" if record else ""
        name = self.instance._meta.verbose_name
        return (
            f"{who} saved this {name}{when}, after you opened it. Nothing of yours was saved: "
            f"your changes are still below. Open the {name} in a new tab to see theirs, then save again "
            "here to replace their version with yours, or copy what you need and reload."
        )


THEIRS, YOURS = "theirs", "yours"


def choice_name(form, name):
    """The POST key of the conflict page's "take theirs / keep yours" choice for a field."""
    return f"_conflict_{form.add_prefix(name)}"


def _as_data(field, value):
    """A stored value as a browser would post it for ``field`` (a list of strings)."""
    widget = field.widget.widget if isinstance(field.widget, RelatedFieldWidgetWrapper) else field.widget
    value = field.prepare_value(value)
    if isinstance(widget, forms.CheckboxInput):
        return ["on"] if value else []
    formatted = widget.format_value(value)
    if isinstance(formatted, list | tuple):
        return [str(item) for item in formatted]
    return ["" if formatted is None else str(formatted)]


def _as_text(value):
    if value is None:
        return ""
    if hasattr(value, "all") and not isinstance(value, Model):  # a queryset
        value = list(value)
    if isinstance(value, list | tuple):
        return ", ".join(sorted(str(item) for item in value))
    return str(value)


# Beyond this many words a side, the two texts are shown whole, unmarked: marking costs
# up to the product of their lengths.
MARKED_WORDS = 4000


def _marked(theirs, yours):
    """Both texts as (text, differs) pieces, the words that differ from the other text marked."""
    theirs_words, yours_words = _words(theirs), _words(yours)
    if max(len(theirs_words), len(yours_words)) > MARKED_WORDS:
        return [(theirs, False)], [(yours, False)]
    theirs_pieces, yours_pieces = [], []
    matcher = difflib.SequenceMatcher(None, theirs_words, yours_words, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        differs = tag != "equal"
        if i2 > i1:
            theirs_pieces.append(("".join(theirs_words[i1:i2]), differs))
        if j2 > j1:
            yours_pieces.append(("".join(yours_words[j1:j2]), differs))
    return theirs_pieces, yours_pieces


def _words(text):
    return [piece for piece in re.split(r"(\s+)", text) if piece]


class VersionLockedAdmin(ShowsTypedAdmin):
    """ModelAdmin mixin: version-checked forms, and a version bump on each save.

    A save posted after the session expired is kept and shown again after logging in
    (``ShowsTypedAdmin``, ``newsroom.kept_forms``).
    """

    form = VersionCheckedForm

    class Media:
        # Leaving the form with unsaved changes asks first.
        js = ["newsroom/unsaved-changes.js"]

    def save_model(self, request, obj, form, change):
        if change:
            obj.version += 1
        super().save_model(request, obj, form, change)
