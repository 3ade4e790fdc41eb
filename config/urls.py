"""The site's addresses: the newsroom under /admin/, the newsletter's pages, the reader site everywhere else."""

from django.contrib import admin
from django.urls import include, path

from accounts.urls import passkey_urls

# A refusal in the newsroom says, in the admin's look, what the role may not do.
handler403 = "newsroom.refusals.permission_denied"

urlpatterns = [
    # Sign-in in two steps, the Security page and passkeys; /admin/login/ included, so
    # they come before the admin's own addresses.
    path("admin/", include("accounts.urls")),
    path("admin/security/passkeys/", include(passkey_urls)),
    path("admin/", admin.site.urls),
    path("anymail/", include("anymail.urls")),  # the provider's bounce and complaint webhooks
    path("", include("newsletter.urls")),
    path("", include("api.urls")),
    path("", include("reader.urls")),
]
