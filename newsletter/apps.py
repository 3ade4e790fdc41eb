from django.apps import AppConfig


class NewsletterConfig(AppConfig):
    """Each issue by email: subscribers, double opt-in, mailings sent by workers, one-click unsubscribe."""

    name = "newsletter"
    verbose_name = "Newsletter"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from anymail.signals import tracking

        from digest.publishing import register_step
        from digest.roles import EDITOR, PUBLISHER, grant
        from digest.signals import issue_transitioned
        from newsroom.panels import register_issue_panel, register_report_section

        from . import checks, panels, sending, tasks, tracking_events  # noqa: F401 - checks and tasks register

        # Editors set an issue's subject and preheader; publishers also see subscribers and
        # mailings, change a subscriber's status, import, export, erase, pause and resume.
        issue_options = ["newsletter.view_issuenewsletter", "newsletter.change_issuenewsletter"]
        grant(EDITOR, *issue_options, "newsletter.view_mailing")
        grant(PUBLISHER, *issue_options, "newsletter.view_mailing", "newsletter.view_subscriber",
              "newsletter.change_subscriber", "newsletter.view_subscriberevent", "newsletter.view_notice",
              "newsletter.view_erasedaddress")  # fmt: skip
        # After the page and the PDF are live (mark_published, render_pdf), before the run announces it.
        register_step("send_newsletter", sending.publication_step, before="notify")
        issue_transitioned.connect(sending.stop_mailings_on_withdrawal, dispatch_uid="newsletter.stop_on_withdrawal")
        tracking.connect(tracking_events.record_bounce_or_complaint, dispatch_uid="newsletter.tracking")
        register_issue_panel("newsletter", template="newsletter/issue_panel.html", context=panels.issue_panel)
        register_report_section("newsletter", template="newsletter/report_section.html", context=panels.report_section)
