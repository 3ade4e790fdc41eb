from django.contrib import admin
from django.db import transaction

from .. import notifications
from ..models import NewsroomMail


@admin.register(NewsroomMail)
class NewsroomMailAdmin(admin.ModelAdmin):
    """Workflow mail not sent yet: the beat retries each until the mail server takes it;
    ``last_error`` says why it did not. Superusers only: the rows carry people's addresses."""

    list_display = ["created_at", "to", "subject", "attempts", "last_tried_at", "last_error"]
    actions = ["try_again"]
    readonly_fields = ["to", "subject", "body", "created_at", "attempts", "last_tried_at", "last_error"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser  # a mail to an address that will never take it

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_retry_permission(self, request):
        return request.user.is_superuser

    @admin.action(description="Try the selected mails again", permissions=["retry"])
    def try_again(self, request, queryset):
        """After the address or the server is fixed: the mails go back to the outbox, tried at once."""
        count = queryset.update(attempts=0, last_error="")
        transaction.on_commit(notifications.wake_worker, robust=True)
        self.message_user(request, f"{count} mails will be tried again now.")
