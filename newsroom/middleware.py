from newsroom import kept_forms
from newsroom.admin.typed import RESTORE_PARAMETER, ShowsTypedAdmin


class KeepTypedWhenSignedOutMiddleware:
    """Keep an admin form posted without a session (it expired), instead of dropping what was typed.

    Placed after the CSRF and authentication middleware: only a form that passed the CSRF
    check is kept, and only when the admin would refuse it for want of a login.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.method != "POST":
            return None
        model_admin = getattr(view_func, "model_admin", None)
        if not isinstance(model_admin, ShowsTypedAdmin):
            return None
        if not request.resolver_match.url_name.endswith(("_change", "_add")):
            return None
        if model_admin.admin_site.has_permission(request):
            return None
        return kept_forms.keep(request, restore_parameter=RESTORE_PARAMETER)
