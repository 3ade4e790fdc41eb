"""An XSS corpus planted in every text field an editor can write, for the browser and output tests.

Each payload, if it ever ran, would call ``__xss(n)`` (a function the browser test exposes)
or open a dialog with ``alert(n)``: ``n`` names the payload that got through.
"""

import datetime

from django.core.exceptions import ValidationError
from taggit.models import Tag

from digest.corrections import record_correction
from digest.edition import store_issue_pdf
from digest.models import IssueEvent, Section
from tests.factories import CompanyFactory, IssueFactory, PlacementFactory, SourceFactory, ThemeFactory, user_in_role

PAYLOAD_TEMPLATES = [
    # Script tags, plain and disguised.
    "<script>__xss({n})</script>",
    "<SCRIPT SRC=data:text/javascript,__xss({n})></SCRIPT>",
    "<scr<script>ipt>__xss({n})</scr</script>ipt>",
    "<<script>__xss({n})//<</script>",
    "<script\x0c>__xss({n})</script>",
    "<svg><script>__xss({n})</script></svg>",
    "<!--><script>__xss({n})</script>-->",
    "<![CDATA[<script>__xss({n})</script>]]>",
    # Event handlers.
    "<img src=x onerror=__xss({n})>",
    '<img src="x" onerror="alert({n})">',
    "<img src=x onerror=&#95;&#95;xss({n})>",
    "<img src=`x`onerror=__xss({n})>",
    "<svg onload=__xss({n})>",
    "<svg/onload=__xss({n})>",
    "<body onload=__xss({n})>",
    "<details open ontoggle=__xss({n})>",
    "<input autofocus onfocus=__xss({n})>",
    "<video><source onerror=__xss({n})></video>",
    "<audio src=x onerror=__xss({n})>",
    "<marquee onstart=__xss({n})>m</marquee>",
    "<svg><animate onbegin=__xss({n}) attributeName=x dur=1s>",
    "<x onclick=__xss({n})>x</x>",
    "<img src=x onerror=__xss({n}) ",
    # javascript: and data: URLs.
    '<a href="javascript:__xss({n})">a</a>',
    '<a href="&#106;avascript:__xss({n})">a</a>',
    '<a href="  javascript:__xss({n})">a</a>',
    '<a href="java\tscript:__xss({n})">a</a>',
    '<iframe src="javascript:__xss({n})"></iframe>',
    '<iframe srcdoc="<script>parent.__xss({n})</script>"></iframe>',
    '<object data="javascript:__xss({n})"></object>',
    '<embed src="javascript:__xss({n})">',
    '<form action="javascript:__xss({n})"><button>go</button></form>',
    '<meta http-equiv="refresh" content="0;url=javascript:__xss({n})">',
    '<base href="javascript:__xss({n})//">',
    '<a href="data:text/html,<script>__xss({n})</script>">d</a>',
    '<svg><a xlink:href="javascript:__xss({n})"><text y="20">x</text></a></svg>',
    '<div style="background:url(javascript:__xss({n}))">s</div>',
    # Malformed tags and parser confusion.
    "<math><mtext><table><mglyph><style><img src=x onerror=__xss({n})>",
    '<noscript><p title="</noscript><img src=x onerror=__xss({n})>">',
    '<img """><script>__xss({n})</script>">',
    "</title><script>__xss({n})</script>",
    "</textarea><script>__xss({n})</script>",
    "</style><script>__xss({n})</script>",
    "</script><img src=x onerror=__xss({n})>",
    # Markdown link and image tricks.
    "[link](javascript:__xss({n}))",
    "[link](JaVaScRiPt:__xss({n}))",
    "[link](<javascript:__xss({n})>)",
    "[link](java&#x73;cript:__xss({n}))",
    '![image](x" onerror="__xss({n}))',
    "![image](javascript:__xss({n}))",
    "[ref][r{n}]\n\n[r{n}]: javascript:__xss({n})",
    '<https://example.com/"onmouseover="__xss({n})>',
    "`<script>__xss({n})</script>`",
    "```\n</code><script>__xss({n})</script>\n```",
    # Attribute and string breakouts (HTML attributes, JSON-LD, feeds).
    '"><script>__xss({n})</script>',
    "'><img src=x onerror=__xss({n})>",
    '" onmouseover="__xss({n})" x="',
    "' autofocus onfocus='__xss({n})' x='",
    '"-__xss({n})-"',
    "\\u003c/script\\u003e<script>__xss({n})</script>",
    "]]></description><script>__xss({n})</script>",
    "{{{{ 7*7 }}}}{{% debug %}}${{__xss({n})}}",
    # Unicode tricks.
    "\u202e<script>__xss({n})</script>",
    "\uff1cscript\uff1e__xss({n})\uff1c/script\uff1e",
    "<scr\u0130pt>__xss({n})</scr\u0130pt>",
    "<img src=x one\u200brror=__xss({n})>",
    "\u2028<script>__xss({n})</script>\u2029",
]
PAYLOADS = [template.format(n=n) for n, template in enumerate(PAYLOAD_TEMPLATES)]

# Source URLs that pass the http/https validator yet carry a payload; the others are refused.
URL_PAYLOADS = [
    'https://example.com/?q="><script>__xss(900)</script>',
    "https://example.com/#'onmouseover='__xss(901)",
    "https://example.com/%22%3E%3Cscript%3E__xss(902)%3C/script%3E",
    "javascript:__xss(903)",
    "data:text/html,<script>__xss(904)</script>",
    "https://example.com/\u202e/__xss(905)",
]


def packed(payloads, limit, separator=" "):
    """Group ``payloads`` into as few strings of at most ``limit`` characters as they fit in."""
    groups, current = [], ""
    for payload in payloads:
        candidate = f"{current}{separator}{payload}" if current else payload
        if len(candidate) <= limit:
            current = candidate
        else:
            groups.append(current)
            current = payload[:limit]
    return [*groups, current] if current else groups


def _saved(instance):
    instance.full_clean()  # what an editor's form would accept, no more
    instance.save()
    return instance


def plant_xss_corpus(*, with_pdf=True):
    """Store every payload in every editor-writable text field of a published issue; return what was made.

    Long fields hold the whole corpus; short ones (titles, names, tags, notes) hold it spread
    over a few objects, so each page is loaded a bounded number of times.
    """
    everything = "\n\n".join(PAYLOADS)
    issue = _saved(
        IssueFactory.build(
            published=True,
            number=700,
            slug="xss-issue",
            title=PAYLOADS[0],
            week_start=datetime.date(2031, 1, 4),
            week_end=datetime.date(2031, 1, 10),
            week_in_review=everything,
            patterns=everything,
        )
    )
    companies = [
        _saved(CompanyFactory.build(name=name, slug=f"xss-company-{index}", description=description))
        for index, (name, description) in enumerate(
            zip(packed(PAYLOADS, 120), packed(PAYLOADS, 500) * 10, strict=False)
        )
    ]
    themes = [
        _saved(ThemeFactory.build(name=name, slug=f"xss-theme-{index}", description=everything))
        for index, name in enumerate(packed(PAYLOADS, 120))
    ]
    tags = [Tag.objects.create(name=name, slug=f"xss-tag-{index}") for index, name in enumerate(packed(PAYLOADS, 100))]
    titles = packed(PAYLOADS, 300)
    stories = []
    for index, title in enumerate(titles):
        story = PlacementFactory(
            issue=issue,
            section=Section.TOP_STORIES if index % 2 == 0 else Section.DEVELOPING_THREADS,
            position=index,
            story__title=title,
            story__slug=f"xss-story-{index}",
            story__summary=everything,
            story__companies=companies[index :: len(titles)],
            story__themes=themes[index :: len(titles)],
            story__sources=[],
        ).story
        story.full_clean()
        story.tags.add(*tags[index :: len(titles)])
        stories.append(story)
    source_titles = packed(PAYLOADS, 300)
    for index, title in enumerate(source_titles):
        SourceFactory(story=stories[index % len(stories)], title=title, publisher=PAYLOADS[index % len(PAYLOADS)][:120])
    stored_urls = []
    for index, url in enumerate(URL_PAYLOADS):
        source = SourceFactory.build(story=stories[index % len(stories)], title=f"URL payload {index}", url=url)
        try:
            _saved(source)
        except ValidationError:
            continue
        stored_urls.append(url)
    for company, url in zip(companies, URL_PAYLOADS, strict=False):
        company.website = url
        try:
            _saved(company)
        except ValidationError:
            company.refresh_from_db()
    # A second revision of each object, so the History pages show field differences.
    for obj in (issue, *stories[:2], *companies[:2]):
        obj.save()
    publisher = user_in_role("Publisher", "xss-publisher")
    for note in packed(PAYLOADS, 500):
        record_correction(issue=issue, by=publisher, note=note)
    IssueEvent.objects.create(
        issue=issue, actor=publisher, action="request_changes", from_state="in_review", to_state="draft",
        comment=everything[:5000],
    )  # fmt: skip
    if with_pdf:
        store_issue_pdf(issue)
        issue.refresh_from_db()
    return {"issue": issue, "stories": stories, "companies": companies, "themes": themes, "tags": tags,
            "stored_urls": stored_urls}  # fmt: skip
