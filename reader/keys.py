"""The keys public responses are filed under, and purged by: one per thing a page shows.

Made of ids, never slugs, so a rename keeps its key. A page carries the key of each object
whose own page it is or whose content it shows beside its own, and a list page carries the
key of its list, not one per item, so the ``xkey`` header stays small. An issue has two: its
own (its page and PDF: everything in it) and its link's (the previous and next issues'
pages, which show its title), so that a change inside an issue (a company renamed on one of
its stories) does not purge the pages that only link to it. What else shows an object is found when it
changes (``reader.signal_handlers``): the issues whose stories name a company, say.
"""

ISSUES = "issues"  # the published issues: home page, archive, site feeds, sitemap
COMPANIES = "companies"  # the company index (names and counts), the sitemap
THEMES = "themes"  # the sitemap's themes
TAGS = "tags"  # the sitemap's tags
LISTS = (ISSUES, COMPANIES, THEMES, TAGS)


def issue_key(issue_id):
    return f"issue-{issue_id}"


def issue_link_key(issue_id):
    """The pages that link to the issue by its title: its neighbours in reading order."""
    return f"issue-link-{issue_id}"


def company_key(company_id):
    return f"company-{company_id}"


def theme_key(theme_id):
    return f"theme-{theme_id}"


def tag_key(tag_id):
    return f"tag-{tag_id}"


def issue_ids(keys):
    """Return the ids of the issues ``keys`` name: their own (``issue-<id>``), linked to (``issue-link-<id>``)."""
    own, linked = set(), set()
    for key in keys:
        kind, _, number = key.rpartition("-")
        if number.isdigit():
            if kind == "issue":
                own.add(int(number))
            elif kind == "issue-link":
                linked.add(int(number))
    return own, linked
