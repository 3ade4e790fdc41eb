"""The site's addresses: the newsroom under /admin/, the reader site everywhere else."""

from django.contrib import admin
from django.urls import include, path

# A refusal in the newsroom says, in the admin's look, what the role may not do.
handler403 = "newsroom.refusals.permission_denied"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("api.urls")),
    path("", include("reader.urls")),
]
