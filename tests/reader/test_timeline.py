"""A timeline entry and a search result are written in Python (``reader.templatetags.reader``)
for speed: each must be the markup its template wrote, entity for entity, whatever editors typed."""

import re

import pytest
from django.template import Context, Template

from digest.public import newest, public_stories
from digest.search import highlighted, ranked_page, search_stories
from tests.factories import CompanyFactory, IssueFactory, PlacementFactory

pytestmark = pytest.mark.django_db

# The entry as templates/includes/timeline.html wrote it before it moved to Python.
TEMPLATE_ENTRY = Template(
    """{% load reader %}{% for story in stories %}
  {% with issue=story.placement.issue issue_url=story.placement.issue.get_absolute_url %}
  <li class="timeline-entry">
    <p class="timeline-issue"><a href="{{ issue_url }}">Issue {{ issue.number }}</a> · <time datetime="{{ issue.week_start|date:'Y-m-d' }}">{{ issue.week_start|date:"j M Y" }}</time></p>
    <h3 class="timeline-title"><a href="{{ issue_url }}#{{ story.slug }}">{{ story.title }}</a></h3>
    <p class="timeline-summary">{{ story.summary_html|plain_text|truncatewords:40 }}</p>
    {% with companies=story.companies.all %}{% if companies %}<p class="story-meta">{% for company in companies %}<a href="{{ company.get_absolute_url }}">{{ company.name }}</a>{% if not forloop.last %}<span aria-hidden="true"> · </span>{% endif %}{% endfor %}</p>{% endif %}{% endwith %}
  </li>
  {% endwith %}
{% endfor %}"""  # noqa: E501
)
PYTHON_ENTRY = Template("{% load reader %}{% for story in stories %}{% timeline_entry story %}{% endfor %}")


def entries(html):
    return re.findall(r'<li class="timeline-entry">.*?</li>', html, flags=re.DOTALL)


def test_each_entry_is_the_templates_markup_with_every_text_escaped_once():
    hostile = CompanyFactory(name='<script>alert("co")</script> & Sons', slug="sons")
    plain = CompanyFactory(name="Netflix", slug="netflix")
    issue = IssueFactory(published=True)
    PlacementFactory(issue=issue, position=1, story__title="Plain story", story__companies=[plain])
    PlacementFactory(
        issue=issue,
        position=2,
        story__title='Quotes " and <b>tags</b> & ampersands',
        story__summary="AT&T's **R&D** on `a < b` with [a link](https://example.com/?a=1&b=2).",
        story__companies=[hostile, plain],
    )
    PlacementFactory(issue=issue, position=3, story__title="No companies", story__companies=[])
    PlacementFactory(issue=issue, position=4, story__summary=" ".join(f"word{n}" for n in range(60)))
    stories = newest(public_stories(), limit=10)
    expected = entries(TEMPLATE_ENTRY.render(Context({"stories": stories})))
    written = entries(PYTHON_ENTRY.render(Context({"stories": stories})))
    assert len(expected) == 4 and written == expected
    assert "&lt;script&gt;alert(&quot;co&quot;)&lt;/script&gt; &amp; Sons" in written[1]
    assert "AT&amp;T&#x27;s R&amp;D on a &lt; b" in written[1] and "word39 …" in written[3]


# A search result as templates/digest/search.html wrote it before it moved to Python (reading
# a ``SearchResult``'s issue and companies where it read a story's placement and relation).
TEMPLATE_RESULT = Template(
    """{% for story in stories %}
        {% with issue=story.issue %}
        <li class="result">
          <p class="kicker"><a href="{{ issue.get_absolute_url }}">Issue {{ issue.number }}</a> · <time datetime="{{ issue.week_start|date:'Y-m-d' }}">{{ issue.week_start|date:"j M Y" }}</time></p>
          <h3><a href="{{ issue.get_absolute_url }}#{{ story.slug }}">{{ story.title_html }}</a></h3>
          {% if story.snippet_html %}<p class="snippet">{{ story.snippet_html }}</p>{% endif %}
          {% with companies=story.companies %}{% if companies %}<p class="story-meta">{% for company in companies %}<a href="{{ company.get_absolute_url }}">{{ company.name }}</a>{% if not forloop.last %}<span aria-hidden="true"> · </span>{% endif %}{% endfor %}</p>{% endif %}{% endwith %}
        </li>
        {% endwith %}
{% endfor %}"""  # noqa: E501
)
PYTHON_RESULT = Template("{% load reader %}{% for story in stories %}{% search_result story %}{% endfor %}")


def test_each_search_result_is_the_templates_markup_with_the_matches_marked():
    hostile = CompanyFactory(name='<script>alert("co")</script> & Sons', slug="sons")
    issue = IssueFactory(published=True)
    PlacementFactory(
        issue=issue,
        position=1,
        story__title='Routing " <b>quoted</b> & co',
        story__summary="AT&T's routing of `a < b` through [a link](https://example.com/?a=1&b=2).",
        story__companies=[hostile, CompanyFactory(name="Netflix", slug="netflix")],
    )
    PlacementFactory(issue=issue, position=2, story__title="Routing alone", story__summary="", story__companies=[])
    found = highlighted(ranked_page(search_stories("routing"), offset=0, limit=20)[1], "routing")
    found[1].snippet_html = ""  # a story with no snippet to show
    expected = re.findall(r'<li class="result">.*?</li>', TEMPLATE_RESULT.render(Context({"stories": found})), re.S)
    written = re.findall(r'<li class="result">.*?</li>', PYTHON_RESULT.render(Context({"stories": found})), re.S)
    assert len(expected) == 2 and written == expected
    assert "&lt;script&gt;alert(&quot;co&quot;)&lt;/script&gt; &amp; Sons" in written[0]
    assert "<mark>" in written[0] + written[1]
