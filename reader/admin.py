from django.contrib import admin

from .models import PagePurge


@admin.register(PagePurge)
class PagePurgeAdmin(admin.ModelAdmin):
    """Purges of cached pages not done yet: the beat retries each until the page cache and every
    front cache (Varnish) answer; ``last_error`` says which did not, and why."""

    list_display = ["created_at", "key_count", "attempts", "last_tried_at", "last_error"]
    readonly_fields = ["keys", "created_at", "attempts", "last_tried_at", "last_error"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # deleting one would leave stale pages: the beat deletes it once purged

    def has_view_permission(self, request, obj=None):
        # Whoever follows publication runs follows the purges they leave behind.
        return request.user.has_perm("digest.view_publicationrun")

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    @admin.display(description="Keys")
    def key_count(self, purge):
        return len(purge.keys)
