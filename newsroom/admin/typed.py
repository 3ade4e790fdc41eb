"""Show an admin form filled with what someone typed, without saving it.

Two moments need it: a guarded workflow action (withdraw) asks for confirmation on the page
itself, with the form still holding what was typed; and a save that arrived after the
session expired is shown again once its author has logged in (``newsroom.kept_forms``).
"""

import copy

from django.contrib import messages
from django.db import router, transaction
from django.http import QueryDict

from newsroom import kept_forms

RESTORE_PARAMETER = "_restore"


class ShowsTypedAdmin:
    """ModelAdmin mixin: ``render_typed`` fills the change (or add) form with posted data, saving nothing.

    The form and its inlines are bound to the data, so they show it as typed, with any
    error it has (a version conflict, a missing correction note); the next Save is an
    ordinary save.
    """

    def render_typed(self, request, object_id, data, extra_context=None):
        shown = copy.copy(request)
        shown.method = "GET"  # the admin's GET path renders and never saves
        shown.GET = request.GET.copy()
        shown.GET.pop(RESTORE_PARAMETER, None)
        shown.typed_data = data
        # Checking the typed data locks the row (the version check), as a save would.
        with transaction.atomic(using=router.db_for_write(self.model)):
            if object_id is None:
                return self.add_view(shown, extra_context=extra_context)
            return self.change_view(shown, object_id, extra_context=extra_context)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        key = request.GET.get(RESTORE_PARAMETER) if request.method == "GET" else None
        if key is None:
            return super().changeform_view(request, object_id, form_url, extra_context)
        data = kept_forms.restore(request, key)
        if data is None:
            messages.warning(request, "What you typed before logging in is no longer kept here (it expired).")
            return super().changeform_view(request, object_id, form_url, extra_context)
        messages.warning(
            request,
            "Your session had expired, so nothing was saved. Everything you typed is below: check it and save again.",
        )
        return self.render_typed(request, object_id, _query_dict(data), extra_context)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        data = getattr(request, "typed_data", None)
        if data is None:
            return form

        class TypedForm(form):
            def __init__(self, *args, **kwargs):
                if not args and "data" not in kwargs:
                    kwargs["data"] = data
                super().__init__(*args, **kwargs)

        TypedForm.__name__ = form.__name__
        return TypedForm

    def get_formset_kwargs(self, request, obj, inline, prefix):
        kwargs = super().get_formset_kwargs(request, obj, inline, prefix)
        data = getattr(request, "typed_data", None)
        if data is not None:
            kwargs.update(data=data, files={})
        return kwargs


def _query_dict(lists):
    data = QueryDict(mutable=True)
    for key, values in lists.items():
        data.setlist(key, values)
    return data
