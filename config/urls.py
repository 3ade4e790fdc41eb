"""The site's addresses: the newsroom under /admin/, the reader site everywhere else."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("reader.urls")),
]
