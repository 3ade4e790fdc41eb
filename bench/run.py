"""The benchmark: every figure of the digest against its budget, in one table.

    .venv/bin/python bench/run.py [--scale N]     # make bench (BENCH_SCALE=N)
    .venv/bin/python bench/run.py --smoke         # make bench-smoke: tiny data, one round
    .venv/bin/python bench/run.py --admin         # make bench-admin: the admin pages' medians only
    .venv/bin/python bench/run.py --reader        # make bench-reader: the reader pages' medians only

Creates (or reuses) the benchmark database on PostgreSQL (BENCH_DATABASE_URL, default
``digest_bench``; Redis database 5, or BENCH_REDIS_URL), loads ``generate_bench_data`` at
the requested scale unless that scale is loaded already, starts the site under gunicorn
with its production settings, and measures over HTTP:

- the floor: a bare Django template render of the issue page's own HTML (``bench/floor.py``),
  served by the same gunicorn workers through the same middleware, with no query;
- uncached page medians, one request at a time (``?uncached=1`` is a query string the page
  cache never stores, so the page is made from the database each time): the issue,
  archive, company, theme and search pages, and the admin pages editors work in (newsroom
  home, story changelist, story, issue with 40 stories, company, a story's history), with a
  superuser's session. Each budget is a multiple of the floor's median measured in the same
  run, so a slower or busier machine moves both; the milliseconds are shown as information;
- requests per second of the cached and uncached issue page against a trivial view and
  against the floor, with wrk, interleaved in one run so the ratios hold on a noisy machine;
- queries per page, in this process, on a large and a small instance of each page: the
  counts must be equal, whatever the size;
- the PDF figures (bench/pdf.py) and the publish latency (bench/publish.py).

Prints one table, writes it to bench/results/scale-<N>.json and bench/results/latest.json
(a smoke run to bench/results/smoke.json, an admin-only or reader-only run to
bench/results/admin-scale-<N>.json or reader-scale-<N>.json),
and exits 1 when a budget is missed. A smoke
run fails only on errors: its figures come from tiny data and one round.
"""

import argparse
import datetime
import json
import math
import os
import platform
import subprocess
import sys
from urllib.parse import quote_plus

from harness import (
    RESULTS,
    ROOT,
    gunicorn,
    prepare_database,
    production_environment,
    row,
    sequential_median_ms,
    set_up_django,
    status,
    wrk,
)

GENERATED_ISSUE_NUMBERS = 100_000  # generate_bench_data numbers its issues from here
FORTY_STORIES_SLUG = "bench-forty-stories"
WORKERS = 4  # README: gunicorn config.wsgi --workers 4
CACHED_SHARE_BUDGET = 0.80
FLOOR_PATH = "/bench/floor/"
# Multiples of the floor's median (a bare template render of the issue page's HTML, about
# 2.5 ms on a quiet 2-core machine of this kind), at 5,200 stories (scale 1) and at 52,000
# (scale 10). Issue 7's millisecond budgets divided by that floor, rounded; issue 17 asks
# for search and the company page at no more than 70% of theirs at scale 10.
LATENCY_BUDGETS = {
    1: {"issue": 12, "listing": 20, "search": 20, "admin_changelist": 60, "admin_page": 60, "admin_issue": 120},
    10: {"issue": 12, "listing": 32, "search": 40, "admin_changelist": 120, "admin_page": 120, "admin_issue": 120},
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=float(os.environ.get("BENCH_SCALE", "1")))
    parser.add_argument("--smoke", action="store_true", help="scale 0.02, one round each; fail only on errors")
    parser.add_argument("--admin", action="store_true", help="only the admin pages' medians (before/after a change)")
    parser.add_argument("--reader", action="store_true", help="only the reader pages' medians (before/after a change)")
    args = parser.parse_args()
    scale = 0.02 if args.smoke else args.scale
    rounds = Rounds.smoke() if args.smoke else Rounds.full()

    # The production settings, plus the floor's address (bench/settings.py).
    env = production_environment(DJANGO_SETTINGS_MODULE="bench.settings")
    prepare_database(env)
    set_up_django(env)
    targets = prepare(scale)
    write_floor_template(targets["issues"][0])
    if args.admin or args.reader:
        only = "admin" if args.admin else "reader"
        with gunicorn(env, workers=WORKERS) as base_url:
            rows = latency_rows(base_url, targets, scale, rounds, only=only)
        return report(rows, scale=scale, smoke=args.smoke, rounds=rounds, name=f"{only}-scale-{scale:g}.json")
    rows = query_count_rows(targets)
    with gunicorn(env, workers=WORKERS) as base_url:
        rows = latency_rows(base_url, targets, scale, rounds) + throughput_rows(base_url, targets, rounds) + rows
    rows += pdf_rows(rounds) + publish_rows(rounds)
    # The front cache (bench/frontcache.py): Varnish against nginx, and the purge latency.
    issue, corrected = (issue.slug for issue in targets["issues"])
    smoke = ["--smoke"] if args.smoke else []
    rows += run_script("frontcache", "--prepared", "--issue", issue, "--correct", corrected, *smoke)["rows"]
    rows += newsletter_rows(run_script("newsletter", *(["--smoke"] if args.smoke else [])))  # bench/newsletter.py
    rows += run_script("api", *(["--smoke"] if args.smoke else []))["rows"]  # the API's and webhooks' (bench/api.py)
    rows += run_script("intake", *(["--smoke"] if args.smoke else []))  # bench/intake.py: the feeds and the inbox
    return report(rows, scale=scale, smoke=args.smoke, rounds=rounds)


class Rounds:
    def __init__(self, *, requests, wrk_rounds, wrk_duration, pdf_runs, publish_runs):
        self.requests, self.wrk_rounds, self.wrk_duration = requests, wrk_rounds, wrk_duration
        self.pdf_runs, self.publish_runs = pdf_runs, publish_runs

    @classmethod
    def full(cls):
        return cls(requests=30, wrk_rounds=3, wrk_duration="4s", pdf_runs=5, publish_runs=7)

    @classmethod
    def smoke(cls):
        return cls(requests=1, wrk_rounds=1, wrk_duration="1s", pdf_runs=1, publish_runs=1)

    def as_dict(self):
        return dict(vars(self))


def prepare(scale):
    """Load the archive at ``scale`` unless it is loaded; return the pages to measure."""
    from django.core.management import call_command
    from django.db.models import Count
    from taggit.models import Tag

    from companies.models import Company
    from digest.models import Issue, IssueState
    from reader.models import StoredFigures
    from reader.views import ARCHIVE_PAGE_SIZE
    from stories.models import Story, Theme

    generated = Issue.objects.filter(number__gte=GENERATED_ISSUE_NUMBERS, state=IssueState.PUBLISHED)
    if generated.count() != max(1, round(520 * scale)):
        call_command("generate_bench_data", "--scale", str(scale), "--reset")
        # The loader writes in bulk, without the signals whose purges mark stored figures stale.
        StoredFigures.objects.all().delete()
    # The issue pages' stored bodies, as the workers build them after a publication.
    call_command("build_issue_bodies", stdout=open(os.devnull, "w"))  # noqa: SIM115
    forty = forty_story_issue()
    by_size = generated.annotate(n=Count("placements")).order_by("-n", "number")
    companies = Company.objects.filter(slug__startswith="bench-", stories__placement__issue__in=generated)
    companies = companies.annotate(n=Count("stories")).order_by("-n", "pk")
    # Only what the generated (published) issues show: the publish benchmark leaves other issues behind.
    themes = Theme.objects.filter(stories__placement__issue__in=generated)
    themes = themes.annotate(n=Count("stories")).order_by("-n", "pk")
    public_story_ids = Story.objects.filter(placement__issue__in=generated).values("pk")
    tags = Tag.objects.filter(taggit_taggeditem_items__object_id__in=public_story_ids)
    tags = tags.annotate(n=Count("taggit_taggeditem_items")).order_by("-n", "pk")
    # Readers search for a company or a product by name. (Any word of the generator's
    # small vocabulary is in most stories, which no real query is.)
    searched = (list(companies.filter(name__contains=" ")[:11]) or [companies.first()])[-1]
    return {
        "queries": (searched.name.split()[0], searched.name),
        "issues": (by_size.first(), by_size.last()),
        "companies": (companies.first(), companies.last()),
        "themes": (themes.first(), themes.last()),
        "tags": (tags.first(), tags.last()),
        "forty": forty,
        "story": by_size.first().placements.order_by("section", "position").first().story,
        "revised": revised_story(),
        "archive_pages": max(1, math.ceil(Issue.objects.published().count() / ARCHIVE_PAGE_SIZE)),
        "session": admin_session_cookie(),
    }


def forty_story_issue():
    """Return a draft issue with 40 stories placed, made once: the admin's heaviest change page."""
    from companies.models import Company
    from digest.models import Issue, Placement, Section
    from stories.models import Story

    issue = Issue.objects.filter(slug=FORTY_STORIES_SLUG).first()
    if issue is not None:
        return issue
    week = datetime.date(2026, 12, 5)
    issue = Issue.objects.create(
        number=99_000, title="Forty stories", slug=FORTY_STORIES_SLUG, week_start=week, week_end=week
    )
    stories = Story.objects.bulk_create(
        Story(title=f"Forty-story issue, story {n + 1}", slug=f"{FORTY_STORIES_SLUG}-{n}", summary="A story.")
        for n in range(40)
    )
    company = Company.objects.filter(slug__startswith="bench-").first()
    Story.companies.through.objects.bulk_create(
        Story.companies.through(story=story, company=company) for story in stories
    )
    Placement.objects.bulk_create(
        Placement(issue=issue, story=story, section=Section.TOP_STORIES if n < 28 else Section.DEVELOPING_THREADS,
                  position=n)
        for n, story in enumerate(stories)
    )  # fmt: skip
    return issue


def revised_story():
    """Return a story with 30 revisions, made once: the history page of a story edited all week."""
    from companies.models import Company
    from stories.models import Story

    story = Story.objects.filter(slug="bench-revised-story").first()
    if story is not None:
        return story
    story = Story.objects.create(title="Revised story", slug="bench-revised-story", summary="Draft 0.")
    story.companies.set(Company.objects.filter(slug__startswith="bench-")[:2])
    for n in range(1, 30):
        story.summary = f"Draft {n}: " + "a sentence the editor keeps rewriting. " * n
        story.save()
    return story


def admin_session_cookie():
    """Log the bench superuser in as the login view would, and return the session cookie."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model

    user = get_user_model().objects.filter(username="bench-admin").first()
    if user is None:
        user = get_user_model().objects.create_superuser("bench-admin", "bench@example.com", None)
    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


def write_floor_template(issue):
    """Write the issue page's HTML, as the site renders it, for the floor view to render as a template."""
    from django.test import Client

    response = Client(HTTP_HOST="127.0.0.1").get(f"/issues/{issue.slug}/?uncached=1")
    if response.status_code != 200:
        raise RuntimeError(f"the issue page answered {response.status_code}")
    from floor import FLOOR_TEMPLATE

    FLOOR_TEMPLATE.parent.mkdir(exist_ok=True)
    FLOOR_TEMPLATE.write_bytes(response.content)


def latency_rows(base_url, targets, scale, rounds, only=None):
    budgets = LATENCY_BUDGETS[10 if scale >= 10 else 1]
    issue, company, theme = targets["issues"][0], targets["companies"][0], targets["themes"][0]
    one_word, two_words = targets["queries"]
    admin = {"Cookie": targets["session"]}
    reader_pages = [
        ("issue page, uncached", f"/issues/{issue.slug}/?uncached=1", None, "issue"),
        ("archive page, uncached", "/issues/?uncached=1", None, "listing"),
        ("company page (most covered), uncached", f"/companies/{company.slug}/?uncached=1", None, "listing"),
        ("theme page, uncached", f"/themes/{theme.slug}/?uncached=1", None, "listing"),
        (f"search, one word ({one_word})", f"/search/?q={quote_plus(one_word)}", None, "search"),
        (f"search, two words ({two_words})", f"/search/?q={quote_plus(two_words)}", None, "search"),
    ]
    admin_pages = [
        ("admin newsroom home", "/admin/", admin, "admin_page"),
        (
            "admin story changelist, search + company",
            f"/admin/stories/story/?q={quote_plus(one_word)}&company={company.pk}",
            admin,
            "admin_changelist",
        ),
        ("admin story changelist, unfiltered", "/admin/stories/story/", admin, "admin_changelist"),
        (
            "admin issue change page, 40 stories inline",
            f"/admin/digest/issue/{targets['forty'].pk}/change/",
            admin,
            "admin_issue",
        ),
        ("admin story change page", f"/admin/stories/story/{targets['story'].pk}/change/", admin, "admin_page"),
        ("admin company change page (most covered)", f"/admin/companies/company/{company.pk}/change/", admin,
         "admin_page"),
        ("admin story history, 30 revisions", f"/admin/stories/story/{targets['revised'].pk}/history/", admin,
         "admin_page"),
    ]  # fmt: skip
    pages = {"admin": admin_pages, "reader": reader_pages}.get(only, reader_pages + admin_pages)
    for path in [FLOOR_PATH, *(page[1] for page in pages)]:  # warm each worker's connections
        for _ in range(WORKERS):
            headers = next((page[2] for page in pages if page[1] == path), None)
            if status(base_url + path, headers) != 200:
                raise RuntimeError(f"{path} does not answer 200")
    # The floor is measured before and after the pages, and the lower median kept: a burst of
    # other work during one of its turns would otherwise loosen every budget.
    floor = sequential_median_ms(base_url + FLOOR_PATH, requests=rounds.requests)
    medians = [sequential_median_ms(base_url + p[1], requests=rounds.requests, headers=p[2]) for p in pages]
    floor = min(floor, sequential_median_ms(base_url + FLOOR_PATH, requests=rounds.requests))
    rows = [row("floor: bare template render of the issue page's HTML", f"{floor:.1f} ms", "", None, value=floor)]
    for (name, path, _, budget_name), median in zip(pages, medians, strict=True):
        ratio, budget = median / floor, budgets[budget_name]
        measured, limit = f"{median:.1f} ms ({ratio:.1f}× floor)", f"< {budget}× floor ({budget * floor:.0f} ms)"
        rows.append(row(name, measured, limit, ratio < budget, path=path, value=median, floor_ratio=ratio,
                        share_of_budget=ratio / budget))  # fmt: skip
    return rows


def throughput_rows(base_url, targets, rounds):
    """Requests per second of the issue page, cached and uncached, against the trivial view and the floor."""
    issue = targets["issues"][0]
    endpoints = {
        "trivial view (floor)": "/healthz",
        "bare template render of the same HTML": FLOOR_PATH,
        "issue page, cached": f"/issues/{issue.slug}/",
        "issue page, uncached": f"/issues/{issue.slug}/?uncached=1",
    }
    for path in endpoints.values():
        status(base_url + path)  # fills the page cache
    # Other work on the machine comes and goes: each endpoint is measured in interleaved
    # rounds and its best round kept, so one endpoint's turn does not decide a ratio.
    best = {}
    for _ in range(rounds.wrk_rounds):
        for name, path in endpoints.items():
            figures = wrk(base_url + path, threads=2, connections=8, duration=rounds.wrk_duration)
            if name not in best or figures["requests_per_second"] > best[name]["requests_per_second"]:
                best[name] = figures
    floor = best["trivial view (floor)"]["requests_per_second"]
    rows = []
    for name, figures in best.items():
        share = figures["requests_per_second"] / floor
        measured = f"{figures['requests_per_second']:.0f} req/s ({share:.0%} of floor)"
        if name == "issue page, cached":
            rows.append(row(f"wrk: {name}", measured, f"≥ {CACHED_SHARE_BUDGET:.0%} of floor",
                            share >= CACHED_SHARE_BUDGET, **figures))  # fmt: skip
        else:
            rows.append(row(f"wrk: {name}", measured, "", None, **figures))
    # Issue 17's figure: the uncached page against a bare render of its own HTML (no Wagtail peer here).
    bare = best["bare template render of the same HTML"]["requests_per_second"]
    uncached = best["issue page, uncached"]["requests_per_second"]
    rows.append(row("wrk: issue page uncached / bare render of its HTML", f"{uncached / bare:.0%}", "", None,
                    ratio=uncached / bare))  # fmt: skip
    return rows


def query_count_rows(targets):
    """Count the queries of a large and a small instance of each page: they must be equal."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    reader = Client(HTTP_HOST="127.0.0.1")
    admin = Client(HTTP_HOST="127.0.0.1")
    admin.force_login(get_user_model().objects.get(username="bench-admin"))
    (big_issue, small_issue), (big_company, small_company) = targets["issues"], targets["companies"]
    (big_theme, small_theme), (big_tag, small_tag) = targets["themes"], targets["tags"]
    pages = {
        "issue page": (f"/issues/{big_issue.slug}/", f"/issues/{small_issue.slug}/"),
        "archive page, first = last page": ("/issues/", f"/issues/?page={targets['archive_pages']}"),
        "company page": (f"/companies/{big_company.slug}/", f"/companies/{small_company.slug}/"),
        "theme page": (f"/themes/{big_theme.slug}/", f"/themes/{small_theme.slug}/"),
        "tag page": (f"/tags/{big_tag.slug}/", f"/tags/{small_tag.slug}/"),
        "search page, one word = two words": tuple(f"/search/?q={quote_plus(q)}" for q in targets["queries"]),
        "company feed": (f"/companies/{big_company.slug}/feed/", f"/companies/{small_company.slug}/feed/"),
        "admin story changelist by company": (
            f"/admin/stories/story/?company={big_company.pk}",
            f"/admin/stories/story/?company={small_company.pk}",
        ),
    }
    rows = []
    for name, paths in pages.items():
        in_admin = paths[0].startswith("/admin/")
        client = admin if in_admin else reader
        counts = []
        for path in paths:
            # A public page with an extra query string is never cached: it is rendered afresh.
            url = path if in_admin else path + ("&" if "?" in path else "?") + "uncached=1"
            client.get(url)  # fills this process's caches (content types, sites) first
            with CaptureQueriesContext(connection) as queries:
                response = client.get(url)
            if response.status_code != 200:
                raise RuntimeError(f"{url} answered {response.status_code}")
            counts.append(len(queries))
        rows.append(row(f"queries: {name}, large = small", f"{counts[0]} = {counts[1]}", "equal",
                        counts[0] == counts[1], paths=paths, counts=counts))  # fmt: skip
    return rows


def run_script(name, *args, env=None):
    """Run a sibling benchmark script; return the JSON it wrote."""
    result_file = RESULTS / f"{name}.json"
    before = result_file.stat().st_mtime if result_file.exists() else 0
    subprocess.run([sys.executable, f"bench/{name}.py", *args], cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    # The scripts exit 1 when over budget, with their figures written: a stale file is an error.
    if not result_file.exists() or result_file.stat().st_mtime <= before:
        raise RuntimeError(f"bench/{name}.py wrote no figures")
    return json.loads(result_file.read_text())


def pdf_rows(rounds):
    record = run_script("pdf", "--runs", str(rounds.pdf_runs))
    budgets, results = record["budgets"], record["results"]
    peak = max(results["demo"]["peak_rss_mb"], results["forty_stories"]["peak_rss_mb"])
    return [
        row("PDF: demo issue, warm render, median", f"{results['demo']['wall_seconds_median']:.3f} s",
            f"< {budgets['demo_seconds']} s", results["demo"]["wall_seconds_median"] < budgets["demo_seconds"]),
        row("PDF: 40 stories, warm render, median", f"{results['forty_stories']['wall_seconds_median']:.3f} s",
            f"< {budgets['forty_stories_seconds']} s",
            results["forty_stories"]["wall_seconds_median"] < budgets["forty_stories_seconds"]),
        row("PDF: renderer peak memory", f"{peak:.0f} MB", f"< {budgets['peak_rss_mb']} MB",
            peak < budgets["peak_rss_mb"]),
    ]  # fmt: skip


def publish_rows(rounds):
    (record,) = run_script("publish", env={**os.environ, "BENCH_PUBLISH_RUNS": str(rounds.publish_runs)})
    return [row("publish latency, median", f"{record['value']:.3f} s", record["budget"], record["verdict"] == "pass")]


def newsletter_rows(record):
    (small, large), budgets, checks = record["runs"], record["budgets"], record["checks"]
    n = f"{large['recipients']:,}"
    return [
        row(f"newsletter: {n} recipients, messages/s", f"{large['messages_per_second']:.0f} msg/s",
            f"≥ {budgets['messages_per_second']:.0f} msg/s", checks["messages_per_second"]),
        row(f"newsletter: {n} recipients, total", f"{large['seconds']:.1f} s",
            f"< {budgets['total_seconds_10000']:.0f} s", checks["total_seconds_10000"]),
        row(f"newsletter: worker peak memory, {small['recipients']:,} vs {n}",
            f"{small['peak_worker_memory_mb']:.0f} MB vs {large['peak_worker_memory_mb']:.0f} MB",
            f"+ < {budgets['memory_growth_mb']:.0f} MB", checks["memory_growth_mb"]),
        row("newsletter: message size; render once; per message",
            f"{large['message_bytes'] / 1024:.1f} KB; {record['render']['render_once_ms']:.0f} ms; "
            f"{record['render']['per_message_ms']:.1f} ms", "", None),
        row(f"newsletter: claim of {record['render']['claim']['batch']} at {n} pending",
            f"{record['render']['claim']['claim_ms']:.1f} ms", "", None),
    ]  # fmt: skip


def report(rows, *, scale, smoke, rounds, name=None):
    from stories.models import Story

    stories = Story.objects.count()
    load = os.getloadavg()
    title = (
        f"Benchmark at scale {scale:g} ({stories:,} stories), PostgreSQL + Redis, gunicorn {WORKERS} workers, "
        f"{os.cpu_count()} cores, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
        + (" — SMOKE RUN, figures not comparable" if smoke else "")
    )
    width = max(len(r["figure"]) for r in rows)
    m_width = max(28, *(len(r["measured"]) for r in rows))
    b_width = max(18, *(len(r["budget"]) for r in rows))
    lines = [
        title,
        "",
        f"| {'figure':<{width}} | {'measured':<{m_width}} | {'budget':<{b_width}} | verdict |",
    ]
    lines.append(f"|{'-' * (width + 2)}|{'-' * (m_width + 2)}|{'-' * (b_width + 2)}|---------|")
    for r in rows:
        verdict = {True: "pass", False: "OVER", None: ""}[r["met"]]
        lines.append(
            f"| {r['figure']:<{width}} | {r['measured']:<{m_width}} | {r['budget']:<{b_width}} | {verdict:<7} |"
        )
    print("\n".join(lines))

    RESULTS.mkdir(parents=True, exist_ok=True)
    record = {
        "measured_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "scale": scale,
        "stories": stories,
        "smoke": smoke,
        "machine": {"cores": os.cpu_count(), "python": platform.python_version(), "load_average": load},
        "rounds": rounds.as_dict(),
        "rows": rows,
        "table": lines,
    }
    text = json.dumps(record, indent=2, ensure_ascii=False, default=str) + "\n"
    names = [name] if name else ["smoke.json"] if smoke else [f"scale-{scale:g}.json", "latest.json"]
    for name in names:
        (RESULTS / name).write_text(text)
    print(f"\nwritten: {', '.join(f'bench/results/{name}' for name in names)}")
    missed = [r["figure"] for r in rows if r["met"] is False]
    return 0 if smoke or not missed else 1


if __name__ == "__main__":
    sys.exit(main())
