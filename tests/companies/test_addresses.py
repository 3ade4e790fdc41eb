"""``slug_address`` is ``reverse()`` for slug pages, reversed once and joined after."""

import pytest
from django.urls import NoReverseMatch, clear_script_prefix, reverse, set_script_prefix

from companies.addresses import slug_address


@pytest.mark.parametrize("view_name", ["company_detail", "issue_detail", "theme_detail", "tag_detail"])
@pytest.mark.parametrize("slug", ["netflix", "2026-04-18", "a_b-9", "日本", "café", "a b", "x%2F"])
def test_it_gives_what_reverse_gives(view_name, slug):
    assert _outcome(slug_address, view_name, slug) == _outcome(
        lambda name, value: reverse(name, kwargs={"slug": value}), view_name, slug
    )


def _outcome(address, view_name, slug):
    """The address, or the error: a slug the pattern refuses is refused by both."""
    try:
        return address(view_name, slug)
    except NoReverseMatch:
        return NoReverseMatch


def test_it_follows_the_script_prefix_of_the_request():
    try:
        set_script_prefix("/digest/")
        assert slug_address("company_detail", "netflix") == "/digest/companies/netflix/"
    finally:
        clear_script_prefix()
    assert slug_address("company_detail", "netflix") == "/companies/netflix/"
