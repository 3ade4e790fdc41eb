"""Deployment checks (``manage.py check --deploy``): a newsletter that would land in spam or nowhere."""

from django.conf import settings
from django.core.checks import Tags, Warning, register

_LOCAL_BACKENDS = ("console", "filebased", "locmem", "dummy")


@register(Tags.security, deploy=True)
def check_newsletter_sending(app_configs, **kwargs):
    warnings = []
    sender = settings.NEWSLETTER_FROM_EMAIL.lower()
    domain = sender.rsplit("@", 1)[-1].rstrip(">")
    if domain in ("localhost", "example.com", "example.org") or "." not in domain:
        warnings.append(
            Warning(
                f"The newsletter is sent from {settings.NEWSLETTER_FROM_EMAIL!r}, a default address.",
                hint="Set NEWSLETTER_FROM_EMAIL to an address of a domain with SPF, DKIM and DMARC "
                "(README, 'Newsletter').",
                id="newsletter.W001",
            )
        )
    if any(name in settings.EMAIL_BACKEND for name in _LOCAL_BACKENDS):
        warnings.append(
            Warning(
                f"EMAIL_BACKEND is {settings.EMAIL_BACKEND}: no message leaves this machine.",
                hint="Use the SMTP backend or an anymail backend in production.",
                id="newsletter.W002",
            )
        )
    if not settings.NEWSLETTER_POSTAL_ADDRESS:
        warnings.append(
            Warning(
                "NEWSLETTER_POSTAL_ADDRESS is empty: bulk mail must name the sender's postal address (CAN-SPAM).",
                id="newsletter.W003",
            )
        )
    if not settings.SITE_URL.startswith("https://"):
        warnings.append(
            Warning(
                f"SITE_URL is {settings.SITE_URL!r}: List-Unsubscribe links must be HTTPS (RFC 8058).",
                id="newsletter.W004",
            )
        )
    if f"newsletter-erasure:{settings.SECRET_KEY}" == settings.NEWSLETTER_HASH_KEY:
        warnings.append(
            Warning(
                "NEWSLETTER_HASH_KEY is derived from SECRET_KEY: rotating SECRET_KEY would forget erased addresses.",
                hint="Set NEWSLETTER_HASH_KEY to a secret of its own, and keep it.",
                id="newsletter.W005",
            )
        )
    return warnings
