"""Refusals that explain themselves: the admin's 403 page says what the role may not do, and who may.

A ``PermissionDenied`` with a message (the workflow's "Issue #12 is published: corrections
go through a publisher") is shown as it is. The admin's own bare refusals are put in words
from the page refused: which model, which view, the object's own reason where the model
admin has one (``why_not_edit``), and the roles that hold the permission it needs.
"""

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.shortcuts import render
from django.urls import reverse
from django.utils.text import get_text_list
from django.views import defaults

from digest.roles import ROLE_PERMISSIONS

# What each admin view does to a model, and the permission it needs.
VIEWS = {
    "add": ("add", "add"),
    "change": ("change", "change"),
    "delete": ("delete", "delete"),
    "changelist": ("see the list of", "view"),
    "history": ("see the history of", "view"),
}


def permission_denied(request, exception):
    """Answer a refusal under /admin/ with a page in the admin's look; elsewhere as Django does."""
    if not request.path.startswith(reverse("admin:index")):
        return defaults.permission_denied(request, exception)
    reason, who_may = _explained(request, exception)
    context = {
        **admin.site.each_context(request),
        "title": "Not allowed",
        "reason": reason,
        "who_may": who_may,
    }
    return render(request, "admin/403.html", context, status=403)


def _explained(request, exception):
    """Return what was refused and who may do it, in words for the person refused."""
    message = str(exception or "").strip()
    model_admin, view = _refused_view(request)
    if message or model_admin is None:
        return message or "Your role may not do this.", ""
    opts = model_admin.model._meta
    obj_reason = _object_reason(request, model_admin, view)
    if obj_reason:
        return obj_reason, ""
    verb, action = VIEWS.get(view, ("do this to", None))
    reason = f"{_role_phrase(request.user)} may not {verb} {opts.verbose_name_plural}."
    if action is None:
        return reason, ""
    permission = f"{opts.app_label}.{action}_{opts.model_name}"
    roles = [f"{role}s" for role, permissions in ROLE_PERMISSIONS.items() if permission in permissions]
    who_may = f"{get_text_list(roles, 'and')} may." if roles else "Only an administrator may."
    return reason, who_may


def _refused_view(request):
    """The model admin and the view name (add, change…) of the admin URL refused, if it is one."""
    match = request.resolver_match
    if match is None or not match.url_name:
        return None, ""
    for model, model_admin in admin.site._registry.items():
        prefix = f"{model._meta.app_label}_{model._meta.model_name}_"
        if match.url_name.startswith(prefix):
            return model_admin, match.url_name.removeprefix(prefix)
    return None, ""


def _object_reason(request, model_admin, view):
    object_id = request.resolver_match.kwargs.get("object_id")
    why_not_edit = getattr(model_admin, "why_not_edit", None)
    if object_id is None or why_not_edit is None or view not in ("change", "delete"):
        return ""
    obj = model_admin.get_object(request, unquote(str(object_id)))
    return why_not_edit(request.user, obj) if obj is not None else ""


def _role_phrase(user):
    roles = [group.name for group in user.groups.all() if group.name in ROLE_PERMISSIONS]
    return get_text_list([f"{role}s" for role in roles], "and") if roles else "Your account"
