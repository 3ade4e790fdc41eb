"""Benchmark the PDF edition: warm render time, peak memory, pages and bytes, against budgets.

Renders the demo issue and a 40-story issue several times each, the way the publishing
run does (HTML from the database, then a render in a child process forked from a warm
server), and reports the median wall time, the renderer's CPU time and its peak resident
memory. Runs on a throwaway SQLite database: the database is not what is measured.

    .venv/bin/python bench/pdf.py [--runs N]

Exits with status 1 when a figure is over its budget. Writes bench/results/pdf.json.
"""

import argparse
import datetime
import json
import os
import platform
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "pdf.json"
BUDGETS = {"demo_seconds": 1.0, "forty_stories_seconds": 4.0, "peak_rss_mb": 300}
PUBLISHED_AT = datetime.datetime(2026, 4, 18, 8, 0, tzinfo=datetime.UTC)


def set_up_django(database_dir):
    sys.path.insert(0, str(ROOT))
    os.environ["DATABASE_URL"] = f"sqlite:///{database_dir}/bench.sqlite3"
    os.environ["REDIS_URL"] = ""
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def demo_issue():
    from digest.interchange import import_issue
    from digest.management.commands.load_demo import DEMO_ISSUE
    from digest.models import IssueState

    issue = import_issue(DEMO_ISSUE.read_text(encoding="utf-8"), replace=True)
    issue.state, issue.published_at = IssueState.PUBLISHED, PUBLISHED_AT
    issue.save()
    return issue


def forty_story_issue(demo):
    """40 stories written like the demo's, each with a source: 28 top stories, 12 developing threads."""
    from companies.models import Company
    from digest.models import Issue, IssueState, Placement, Section
    from stories.models import Source, Story, Theme

    summaries = [placement.story.summary for placement in demo.placements.all()]
    companies = list(Company.objects.all())
    themes = list(Theme.objects.all())
    issue = Issue.objects.create(
        number=40,
        title="Engineering @ Scale — Week of 2026-05-02 to 2026-05-08",
        slug="2026-05-02",
        week_start=datetime.date(2026, 5, 2),
        week_end=datetime.date(2026, 5, 8),
        week_in_review=demo.week_in_review,
        patterns=demo.patterns,
        state=IssueState.PUBLISHED,
        published_at=PUBLISHED_AT,
    )
    for n in range(40):
        story = Story.objects.create(
            title=f"Story {n + 1}: how a large company rebuilt a critical system for scale",
            slug=f"bench-story-{n + 1}",
            summary=summaries[n % len(summaries)],
        )
        story.companies.set([companies[n % len(companies)], companies[(n + 3) % len(companies)]])
        story.themes.set([themes[n % len(themes)]])
        Source.objects.create(
            story=story,
            title=f"How we rebuilt it: the engineering blog post behind story {n + 1}",
            publisher="Engineering blog",
            url=f"https://engineering.example.com/2026/05/how-we-rebuilt-it-story-{n + 1}",
        )
        section = Section.TOP_STORIES if n < 28 else Section.DEVELOPING_THREADS
        Placement.objects.create(issue=issue, story=story, section=section, position=n)
    return issue


def measure(issue, runs):
    from digest.edition import render_edition

    render_edition(issue)  # warm-up: starts the fork server the measured renders fork from
    renders = [render_edition(issue) for _ in range(runs)]
    return {
        "wall_seconds_median": round(statistics.median(r.seconds for r in renders), 3),
        "wall_seconds_all": [round(r.seconds, 3) for r in renders],
        "cpu_seconds_median": round(statistics.median(r.cpu_seconds for r in renders), 3),
        "peak_rss_mb": round(max(r.peak_rss for r in renders) / 2**20, 1),
        "pages": renders[-1].pages,
        "bytes": len(renders[-1].data),
        "identical_bytes": len({r.data for r in renders}) == 1,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="measured renders of each issue (default 5)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-pdf-") as database_dir:
        set_up_django(database_dir)
        import weasyprint

        demo = demo_issue()
        forty = forty_story_issue(demo)
        results = {"demo": measure(demo, args.runs), "forty_stories": measure(forty, args.runs)}

    peak = max(results["demo"]["peak_rss_mb"], results["forty_stories"]["peak_rss_mb"])
    checks = [
        ("demo issue, warm render", results["demo"]["wall_seconds_median"], BUDGETS["demo_seconds"], "s"),
        (
            "40 stories, warm render",
            results["forty_stories"]["wall_seconds_median"],
            BUDGETS["forty_stories_seconds"],
            "s",
        ),
        ("peak memory of the renderer (RSS)", peak, BUDGETS["peak_rss_mb"], "MB"),
    ]
    within = all(value < budget for _, value, budget, _ in checks)

    print(
        f"PDF edition benchmark: median of {args.runs} warm renders, "
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}"
    )
    for name in ("demo", "forty_stories"):
        r = results[name]
        print(
            f"  {name:<14} {r['wall_seconds_median']:6.3f} s wall (cpu {r['cpu_seconds_median']:.3f} s)"
            f"  {r['peak_rss_mb']:6.1f} MB peak  {r['pages']:3d} pages  {r['bytes']:8d} bytes"
            f"  runs {r['wall_seconds_all']}  identical bytes: {'yes' if r['identical_bytes'] else 'NO'}"
        )
    for label, value, budget, unit in checks:
        print(f"  {'ok  ' if value < budget else 'OVER'} {label}: {value} {unit} (budget < {budget} {unit})")
    print(f"Verdict: {'within budget' if within else 'OVER BUDGET'}")

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "benchmark": "pdf",
        "measured_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": {"cores": os.cpu_count(), "python": platform.python_version(), "load_1min": os.getloadavg()[0]},
        "weasyprint": weasyprint.__version__,
        "runs": args.runs,
        "budgets": BUDGETS,
        "results": results,
        "within_budget": within,
    }
    temporary = RESULTS.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(record, indent=2) + "\n")
    temporary.replace(RESULTS)
    print(f"Figures written to {RESULTS.relative_to(ROOT)}")
    return 0 if within else 1


if __name__ == "__main__":
    sys.exit(main())
