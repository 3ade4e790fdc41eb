"""Panels that other apps add to the newsroom's pages, without the newsroom importing them.

A channel app (the newsletter's mailing, the webhooks' deliveries) registers a panel from its
``AppConfig.ready()``; the issue's admin page shows every registered panel below its audit
log, in the order registered. The newsroom knows the registry, never the apps.
"""

from dataclasses import dataclass

from django.template.loader import render_to_string


@dataclass(frozen=True)
class IssuePanel:
    name: str
    template: str
    context: object  # context(request, issue) -> dict, or None to hide the panel for this issue


_ISSUE_PANELS = []


def register_issue_panel(name, *, template, context):
    """Show ``template`` on each issue's admin page, rendered with ``context(request, issue)``.

    Registering a name again replaces its panel. The template gets ``issue`` and ``request``
    besides what ``context`` returns; a panel whose ``context`` returns None is not shown.
    """
    unregister_issue_panel(name)
    _ISSUE_PANELS.append(IssuePanel(name, template, context))


def unregister_issue_panel(name):
    _ISSUE_PANELS[:] = [panel for panel in _ISSUE_PANELS if panel.name != name]


def issue_panels(request, issue):
    """The HTML of every panel shown for ``issue``, in the order they were registered."""
    rendered = []
    for panel in _ISSUE_PANELS:
        context = panel.context(request, issue)
        if context is not None:
            rendered.append(render_to_string(panel.template, {**context, "issue": issue}, request=request))
    return rendered


# Sections of the publishing report (Publication runs › Publishing) --------------------------

_REPORT_SECTIONS = []


def register_report_section(name, *, template, context):
    """Show ``template`` in the publishing report, rendered with ``context(request, now)``.

    A channel app lists there what its own work is doing (the newsletter: mailings sending or
    stalled). Registering a name again replaces it; a ``context`` that returns None hides it.
    """
    _REPORT_SECTIONS[:] = [section for section in _REPORT_SECTIONS if section.name != name]
    _REPORT_SECTIONS.append(IssuePanel(name, template, context))


def report_sections(request, now):
    """The HTML of every section of the publishing report, in the order registered."""
    rendered = []
    for section in _REPORT_SECTIONS:
        context = section.context(request, now)
        if context is not None:
            rendered.append(render_to_string(section.template, {**context, "now": now}, request=request))
    return rendered
