"""Panels that other apps add to the newsroom's pages, without the newsroom importing them.

A channel app (the newsletter's mailing, the webhooks' deliveries) registers a panel from its
``AppConfig.ready()``; the issue's admin page shows every registered panel below its audit
log, in the order registered. The newsroom knows the registry, never the apps.
"""

from dataclasses import dataclass

from django.template.loader import render_to_string


@dataclass(frozen=True)
class Panel:
    name: str
    template: str
    context: object  # context(request, subject) -> dict, or None to hide the panel for this subject


class PanelRegistry:
    """Panels by name, in the order registered, each rendered with its subject under ``subject_name``."""

    def __init__(self, subject_name):
        self.subject_name = subject_name
        self.panels = []

    def register(self, name, template, context):
        self.unregister(name)
        self.panels.append(Panel(name, template, context))

    def unregister(self, name):
        self.panels[:] = [panel for panel in self.panels if panel.name != name]

    def render(self, request, subject):
        rendered = []
        for panel in self.panels:
            context = panel.context(request, subject)
            if context is not None:
                context = {**context, self.subject_name: subject}
                rendered.append(render_to_string(panel.template, context, request=request))
        return rendered


_ISSUE_PANELS = PanelRegistry("issue")


def register_issue_panel(name, *, template, context):
    """Show ``template`` on each issue's admin page, rendered with ``context(request, issue)``.

    Registering a name again replaces its panel. The template gets ``issue`` and ``request``
    besides what ``context`` returns; a panel whose ``context`` returns None is not shown.
    """
    _ISSUE_PANELS.register(name, template, context)


def unregister_issue_panel(name):
    _ISSUE_PANELS.unregister(name)


def issue_panels(request, issue):
    """The HTML of every panel shown for ``issue``, in the order they were registered."""
    return _ISSUE_PANELS.render(request, issue)


# Sections of the publishing report (Publication runs › Publishing) --------------------------

_REPORT_SECTIONS = PanelRegistry("now")


def register_report_section(name, *, template, context):
    """Show ``template`` in the publishing report, rendered with ``context(request, now)``.

    A channel app lists there what its own work is doing (the newsletter: mailings sending or
    stalled). Registering a name again replaces it; a ``context`` that returns None hides it.
    """
    _REPORT_SECTIONS.register(name, template, context)


def report_sections(request, now):
    """The HTML of every section of the publishing report, in the order registered."""
    return _REPORT_SECTIONS.render(request, now)
