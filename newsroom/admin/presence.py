"""The admin side of ``newsroom.presence``: a change page says who else has it open."""

from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from newsroom import presence


class PresenceAdmin:
    """ModelAdmin mixin: opening a change page is a beat, and its script beats while it stays open."""

    def get_urls(self):
        opts = self.model._meta
        view = self.admin_site.admin_view(require_POST(self.presence_view))
        name = f"{opts.app_label}_{opts.model_name}_presence"
        return [path("<path:object_id>/presence/", view, name=name), *super().get_urls()]

    def presence_view(self, request, object_id):
        """Record the requesting user's beat on the object; answer with the others present (JSON).

        A page being left posts ``leaving``, so the others see it go at once rather than
        when its beats stop counting.
        """
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404
        if not self.has_view_permission(request, obj):
            raise PermissionDenied
        if request.POST.get("leaving"):
            presence.leave(obj, request.user)
            return JsonResponse({"others": []})
        return JsonResponse({"others": [_shown(other) for other in presence.beat(obj, request.user)]})

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        # The page is rendered lazily: the beat is added only to a change page actually shown,
        # opened or shown again after a refused save.
        context = getattr(response, "context_data", None)
        if response.status_code == 200 and context and context.get("original") is not None:
            opts = self.model._meta
            context["present_others"] = [_shown(other) for other in presence.beat(context["original"], request.user)]
            context["presence_url"] = reverse(
                f"admin:{opts.app_label}_{opts.model_name}_presence", args=[context["original"].pk]
            )
            context["presence_beat_seconds"] = presence.BEAT_SECONDS
        return response


def _shown(other):
    return {"name": other["name"], "since": f"{timezone.localtime(other['since']):%H:%M}"}
