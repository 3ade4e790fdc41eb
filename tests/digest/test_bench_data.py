import pytest
from django.core.management import call_command
from django.db.models import Count

from companies.models import Company
from digest.models import Issue
from stories.models import Story

pytestmark = pytest.mark.django_db


def snapshot():
    return (
        list(Issue.objects.order_by("number").values_list("slug", "state", "week_in_review")[:20]),
        list(Story.objects.order_by("slug").values_list("slug", "title", "summary")[:50]),
        list(Company.objects.order_by("slug").values_list("slug", "name")[:50]),
        sorted(Story.companies.through.objects.values_list("story__slug", "company__slug")),
    )


def test_bench_data_is_deterministic_and_shaped_like_an_archive(capsys):
    call_command("generate_bench_data", "--scale", "0.1")
    out = capsys.readouterr().out
    assert "Created 53 issues" in out and "150 companies" in out
    assert Issue.objects.published().count() == 52 and Issue.objects.filter(state="draft").count() == 1
    assert 400 < Story.objects.count() < 650
    # A long tail: the most covered company appears in most issues, the median one rarely.
    counts = sorted(Company.objects.annotate(n=Count("stories")).values_list("n", flat=True), reverse=True)
    assert counts[0] > 40 and counts[len(counts) // 2] < 5
    first = snapshot()
    call_command("generate_bench_data", "--scale", "0.1", "--reset")
    assert snapshot() == first


def test_bench_data_refuses_to_double_up_without_reset():
    call_command("generate_bench_data", "--scale", "0.02")
    with pytest.raises(SystemExit):
        call_command("generate_bench_data", "--scale", "0.02")


def test_bench_stories_are_found_by_search(request):
    from digest.search import full_text_available, search_stories

    call_command("generate_bench_data", "--scale", "0.02")
    story = Story.objects.filter(slug__startswith="bench-").order_by("pk").first()
    word = story.title.split()[0]
    if not full_text_available():
        request.getfixturevalue("postgresql")  # skipped on SQLite, a failure in CI without PostgreSQL
    assert Story.objects.filter(search_vector__isnull=True).count() == 0
    assert story in search_stories(word)
