"""The admin side of ``digest.approval``: an edit after approval sends the issue back to review."""

from django.contrib import messages

from digest.approval import content_edit


class ApprovedContentAdmin:
    """ModelAdmin mixin: every edit made here is checked against what approved issues stand for.

    Each view that saves runs its whole edit (the object, its links and its inline rows) in
    ``content_edit``, which names the editor in the audit log and compares each approved
    or scheduled issue it touched once, when the edit is complete.
    """

    def _edit(self, request, view, *args, **kwargs):
        if request.method != "POST":
            return view(request, *args, **kwargs)
        with content_edit(by=request.user, via="the newsroom") as edit:
            response = view(request, *args, **kwargs)
        for issue, state in edit.returned:
            messages.warning(
                request,
                f"Issue #{issue.number} was {state}: this change sent it back to "
                "review, and whoever approved it was told. It needs approving again before it goes out.",
            )
        return response

    def changeform_view(self, request, *args, **kwargs):
        return self._edit(request, super().changeform_view, *args, **kwargs)

    def delete_view(self, request, *args, **kwargs):
        return self._edit(request, super().delete_view, *args, **kwargs)

    def changelist_view(self, request, *args, **kwargs):
        # Actions ("delete selected") and list-editable rows save from here.
        return self._edit(request, super().changelist_view, *args, **kwargs)
