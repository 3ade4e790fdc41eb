"""The admin side of ``digest.protection``: no delete or rename changes a published issue silently."""

from django import forms
from django.db import transaction

from digest.protection import (
    NAME_FIELDS,
    correcting_renames,
    deletion_refusals,
    ensure_deletable,
    issues_showing,
    listed_numbers,
)


class ProtectPublishedAdmin:
    """ModelAdmin mixin: what a published issue shows cannot be deleted, one by one or selected."""

    def get_deleted_objects(self, objs, request):
        # The delete page and the "delete selected" action both ask this, and delete nothing
        # while anything is listed as protected: the refusals are shown there.
        deleted, model_count, perms_needed, protected = super().get_deleted_objects(objs, request)
        return deleted, model_count, perms_needed, [*protected, *deletion_refusals(objs)]

    def delete_model(self, request, obj):
        with transaction.atomic():
            ensure_deletable([obj])
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            ensure_deletable(queryset)
            super().delete_queryset(request, queryset)


class RenameCorrectionForm(forms.ModelForm):
    correction_note = forms.CharField(
        label="Correction note",
        max_length=500,
        required=False,
        widget=forms.TextInput(attrs={"size": 90}),
        help_text="Published stories name this: if you rename it, say so. Readers see “Corrected on DATE: NOTE”.",
    )
    shown_in = None  # set by RenameCorrectionAdmin.get_form: the published issues naming the object (a query)
    may_correct = False

    def clean(self):
        cleaned_data = super().clean()
        if self.shown_in is None or not any(field in self.changed_data for field in NAME_FIELDS):
            return cleaned_data
        numbers = listed_numbers(self.shown_in.values_list("number", flat=True))
        if not numbers:
            return cleaned_data
        name = self.instance._meta.verbose_name
        if not self.may_correct:
            raise forms.ValidationError(
                f"Published issue {numbers} names this {name}: only publishers may rename it, as a correction."
            )
        if not cleaned_data.get("correction_note", "").strip():
            self.add_error(
                "correction_note",
                f"Published issue {numbers} names this {name}: add a short public note saying what you renamed.",
            )
        return cleaned_data


class RenameCorrectionAdmin(ProtectPublishedAdmin):
    """ModelAdmin mixin for companies, themes and tags: renaming one that published stories name is a correction."""

    form = RenameCorrectionForm

    def _is_shown(self, obj):
        # Whether, not where: the page only needs to know if it asks for a note, and the most
        # covered company is named in thousands of issues (reading them took 200 of its 230 ms).
        if obj is None or obj.pk is None:
            return False
        if not hasattr(obj, "_is_shown"):
            obj._is_shown = issues_showing(obj).exists()
        return obj._is_shown

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        form.shown_in = issues_showing(obj) if obj is not None and obj.pk is not None else None
        form.may_correct = request.user.has_perm("digest.correct_issue")
        return form

    def get_fields(self, request, obj=None):
        fields = [field for field in super().get_fields(request, obj) if field != "correction_note"]
        if self._is_shown(obj) and self.has_change_permission(request, obj):
            return ["correction_note", *fields]
        return fields

    def save_model(self, request, obj, form, change):
        # The form asked for the note; the service checks again on the locked live row.
        with correcting_renames(obj=obj, by=request.user, note=form.cleaned_data.get("correction_note", "")):
            super().save_model(request, obj, form, change)
