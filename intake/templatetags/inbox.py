"""The inbox's result list: Django's table, its rows written by the inbox's admin in one pass."""

from django import template
from django.contrib.admin.templatetags.admin_list import ResultList, result_headers, result_hidden_fields
from django.contrib.admin.templatetags.base import InclusionAdminNode
from django.contrib.admin.views.main import ChangeList

register = template.Library()


def inbox_result_list(cl: ChangeList):
    """What Django's ``{% result_list %}`` gives its template, with ``CandidateAdmin.row_cells`` for
    each row instead of Django's per-cell lookups, which were most of the inbox's time (``make bench``)."""
    headers = list(result_headers(cl))
    rows, checkbox = cl.result_list, "action_checkbox" in cl.list_display
    return {
        "cl": cl,
        "result_hidden_fields": list(result_hidden_fields(cl)),
        "result_headers": headers,
        "num_sorted_fields": sum(1 for header in headers if header["sortable"] and header["sorted"]),
        "results": [ResultList(None, cl.model_admin.row_cells(candidate, checkbox=checkbox)) for candidate in rows],
    }


@register.tag(name="inbox_result_list")
def inbox_result_list_tag(parser, token):
    return InclusionAdminNode(
        parser, token, func=inbox_result_list, template_name="change_list_results.html", takes_context=False
    )
