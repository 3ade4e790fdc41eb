"""Optimistic locking for admin forms: a later save never silently overwrites an earlier one."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from .typed import ShowsTypedAdmin


class VersionCheckedForm(forms.ModelForm):
    """Refuse a save when someone else saved the object after this form was opened.

    The form carries the version it was opened at. On save the row is locked (the admin
    saves inside a transaction) and the version compared. On a conflict everything typed is
    shown again with the newer version, so saving once more deliberately replaces theirs.
    """

    seen_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["seen_version"].initial = self.instance.version
            self.fields["seen_version"].required = True

    def clean(self):
        cleaned_data = super().clean()
        if not self.instance.pk or "seen_version" not in cleaned_data:
            return cleaned_data
        model = type(self.instance)
        current = model.objects.select_for_update().filter(pk=self.instance.pk).values_list("version", flat=True)[0]
        if cleaned_data["seen_version"] != current:
            self.data = self.data.copy()
            self.data[self.add_prefix("seen_version")] = current
            raise ValidationError(self._conflict_message(), code="conflict")
        return cleaned_data

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
