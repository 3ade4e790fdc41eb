"""Edits to published content are corrections: they need a public note and a publisher."""

from django import forms

from digest.corrections import record_correction
from digest.workflow import is_correction

from .locking import VersionCheckedForm, VersionLockedAdmin


class CorrectionForm(VersionCheckedForm):
    correction_note = forms.CharField(
        label="Correction note",
        max_length=500,
        required=False,
        widget=forms.TextInput(attrs={"size": 90}),
        help_text="This issue is published: say what you corrected. Readers see “Corrected on DATE: NOTE”.",
    )
    correction_issue = None  # set by CorrectionAdmin.get_form when the edit is a correction

    def clean_correction_note(self):
        note = self.cleaned_data["correction_note"].strip()
        if self.correction_issue is not None and not note:
            raise forms.ValidationError("This issue is published: add a short public note saying what you corrected.")
        return note


class CorrectionAdmin(VersionLockedAdmin):
    """ModelAdmin mixin for issues and stories: permission per object, corrections when published."""

    form = CorrectionForm

    def issue_of(self, obj):
        raise NotImplementedError

    def why_not_edit(self, user, obj):
        """Say why ``user`` may not edit ``obj``; "" if they may."""
        raise NotImplementedError

    def ensure_can_edit(self, user, obj):
        raise NotImplementedError

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        # A page shown read-only says why, in the workflow's words.
        if change and obj is not None and not self.has_change_permission(request, obj):
            context["read_only_reason"] = (
                self.why_not_edit(request.user, obj) or "Your role may read this, not change it."
            )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def correction_issue(self, obj):
        issue = self.issue_of(obj) if obj is not None and obj.pk else None
        return issue if is_correction(issue) else None

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if self.correction_issue(obj) is not None and self.has_change_permission(request, obj):
            return [("Correction", {"fields": ["correction_note"]}), *fieldsets]
        return fieldsets

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        form.correction_issue = self.correction_issue(obj)
        return form

    def save_model(self, request, obj, form, change):
        self.ensure_can_edit(request.user, obj)
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # Recorded once the links and inline rows are saved too: the correction's record
        # of the content (its fingerprint) and its PDF rebuild take in the whole edit.
        if form.correction_issue is not None:
            note = form.cleaned_data["correction_note"]
            record_correction(issue=form.correction_issue, by=request.user, note=note)
