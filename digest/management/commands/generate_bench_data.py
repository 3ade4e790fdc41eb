"""A deterministic ten-year archive for benchmarks: the same seed gives the same data."""

import datetime
import random
import sys
import time

from django.contrib.contenttypes.models import ContentType
from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.utils import timezone
from taggit.models import Tag, TaggedItem

from companies.models import Company
from digest.models import Issue, IssueState, Placement, Section
from stories.models import Source, Story, Theme
from stories.rendering import render_markdown
from stories.search_vector import story_search_vector

SLUG_PREFIX = "bench-"
FIRST_WEEK = datetime.date(2016, 1, 2)
SYLLABLES = (
    "ab ac al am an ar as at ba be bi bo ca ce ci co da de di do fa fe fi fo ga ge go ka ke ki ko la le li lo "
    "ma me mi mo na ne ni no pa pe pi po ra re ri ro sa se si so ta te ti to va ve vi vo xa za ze zi zo"
).split()
WORDS = (
    "latency throughput queue shard replica cache index schema stream batch pipeline workflow agent model "
    "inference training cluster region failover consensus ledger storage compute network edge runtime "
    "compiler scheduler autoscaler observability tracing logging metrics incident rollout canary migration "
    "kernel database transaction isolation durability encryption identity policy gateway proxy mesh"
).split()
THEMES = [
    "Durable execution", "Agent infrastructure", "Deterministic AI pipelines", "Control and data plane separation",
    "Database internals", "Observability", "Developer productivity", "Edge computing", "Security engineering",
    "Cost efficiency", "Incident response", "Storage systems", "Streaming", "Search", "Machine learning platforms",
    "Networking", "Reliability", "Privacy", "Compilers and runtimes", "Mobile engineering",
]  # fmt: skip


class Command(BaseCommand):
    help = "Create a deterministic archive for benchmarks: by default 520 published issues (ten years)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--scale", type=float, default=1, help="Multiply every count: 10 gives 52,000 stories, 0.02 a smoke test."
        )
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--reset", action="store_true", help="Delete benchmark data made before first.")

    def handle(self, *, scale, seed, reset, **options):
        if not 0 < scale <= 100:
            self.stderr.write("--scale must be more than 0 and at most 100.")
            sys.exit(2)
        started = time.perf_counter()
        with transaction.atomic():
            if reset:
                self._progress("deleting earlier benchmark data")
                Issue.objects.filter(slug__startswith=SLUG_PREFIX).delete()
                Story.objects.filter(slug__startswith=SLUG_PREFIX).delete()
                Company.objects.filter(slug__startswith=SLUG_PREFIX).delete()
            elif Issue.objects.filter(slug__startswith=SLUG_PREFIX).exists():
                self.stderr.write("Benchmark data exists already; use --reset to make it again.")
                sys.exit(2)
            rng = random.Random(seed)  # noqa: S311 - repeatable data, not secrets
            counts = Generator(rng, scale, self._progress).run()
        if connection.vendor == "postgresql":
            # Fresh statistics and visibility maps, as autovacuum keeps them on a running
            # site; without them the planner takes the new tables for empty ones and
            # index-only scans read the table too: the benchmark would measure that.
            self._progress("vacuuming and analyzing the tables")
            with connection.cursor() as cursor:
                # VACUUM cannot run inside a caller's transaction (a test's): statistics then.
                cursor.execute("ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE")
        elapsed = time.perf_counter() - started
        summary = ", ".join(f"{count:,} {name}" for name, count in counts.items())
        self.stdout.write(f"Created {summary} in {elapsed:.1f} s.")

    def _progress(self, message):
        self.stderr.write(f"  … {message}")


class Generator:
    def __init__(self, rng, scale, progress):
        self.rng, self.scale, self.progress = rng, scale, progress

    def count(self, base):
        return max(1, round(base * self.scale))

    def run(self):
        companies = self.companies(self.count(1500))
        themes = self.themes()
        tags = self.tags(200)
        issues = self.issues(self.count(520), drafts=self.count(5))
        stories = self.stories(issues, companies, themes, tags)
        return {
            "issues": len(issues),
            "stories": len(stories),
            "companies": len(companies),
            "themes": len(themes),
            "tags": len(tags),
        }

    def name(self, syllables):
        return "".join(self.rng.choice(SYLLABLES) for _ in range(syllables)).capitalize()

    def companies(self, count):
        self.progress(f"{count:,} companies")
        names, companies = set(), []
        while len(companies) < count:
            name = f"{self.name(self.rng.randint(2, 3))} {self.rng.choice(['Labs', 'Cloud', 'Systems', 'Pay', ''])}"
            name = name.strip()
            if name in names:
                continue
            names.add(name)
            slug = f"{SLUG_PREFIX}{len(companies)}"
            companies.append(Company(name=name, slug=slug, website=f"https://{slug}.example.com/", description=name))
        Company.objects.bulk_create(companies, batch_size=2000)
        # A long tail: the first few companies are covered nearly every week, most rarely.
        self.company_weights = [1 / (rank + 1) ** 1.1 for rank in range(count)]
        return companies

    def themes(self):
        themes = []
        for name in THEMES:
            slug = name.lower().replace(" ", "-")
            theme, _ = Theme.objects.get_or_create(slug=slug, defaults={"name": name})
            themes.append(theme)
        return themes

    def tags(self, count):
        names = sorted({f"{self.rng.choice(WORDS)}-{self.rng.choice(WORDS)}" for _ in range(count * 2)})[:count]
        existing = set(Tag.objects.filter(name__in=names).values_list("name", flat=True))
        Tag.objects.bulk_create([Tag(name=name, slug=name) for name in names if name not in existing])
        return list(Tag.objects.filter(name__in=names))

    def issues(self, published, *, drafts):
        self.progress(f"{published:,} published issues and {drafts} drafts")
        now = timezone.now()
        issues = []
        for index in range(published + drafts):
            start = FIRST_WEEK + datetime.timedelta(weeks=index)
            draft = index >= published
            issues.append(
                Issue(
                    number=100_000 + index,
                    title=f"Engineering @ Scale — Week of {start.isoformat()}",
                    slug=f"{SLUG_PREFIX}{start.isoformat()}",
                    week_start=start,
                    week_end=start + datetime.timedelta(days=6),
                    week_in_review=self.paragraph(5),
                    patterns=self.paragraph(4),
                    state=IssueState.DRAFT if draft else IssueState.PUBLISHED,
                    published_at=None if draft else min(now, self.morning(start)),
                )
            )
        for issue in issues:
            issue.week_in_review_html = render_markdown(issue.week_in_review)
            issue.patterns_html = render_markdown(issue.patterns)
        Issue.objects.bulk_create(issues, batch_size=1000)
        return issues

    @staticmethod
    def morning(day):
        return timezone.make_aware(datetime.datetime.combine(day, datetime.time(9)))

    def paragraph(self, sentences):
        return " ".join(self.sentence() for _ in range(sentences))

    def sentence(self):
        words = [self.rng.choice(WORDS) for _ in range(self.rng.randint(8, 16))]
        return " ".join(words).capitalize() + "."

    def stories(self, issues, companies, themes, tags):
        self.progress("stories, sources and placements")
        stories, placements = [], []
        for issue in issues:
            for position in range(self.rng.randint(8, 12)):
                index = len(stories)
                summary = self.paragraph(self.rng.randint(3, 6))
                stories.append(
                    Story(
                        title=f"{self.sentence()[:-1][:90]}",
                        slug=f"{SLUG_PREFIX}{index}",
                        summary=summary,
                        summary_html=render_markdown(summary),
                    )
                )
                section = Section.TOP_STORIES if position < 4 else Section.DEVELOPING_THREADS
                placements.append((issue, section, position))
        Story.objects.bulk_create(stories, batch_size=2000)
        Placement.objects.bulk_create(
            [
                Placement(issue=issue, story=story, section=section, position=position)
                for story, (issue, section, position) in zip(stories, placements, strict=True)
            ],
            batch_size=5000,
        )
        self.progress(f"{len(stories):,} stories: companies, themes, tags, sources")
        company_links, theme_links, tag_links, sources = [], [], [], []
        story_type = ContentType.objects.get_for_model(Story)
        for story in stories:
            for company in dict.fromkeys(
                self.rng.choices(companies, weights=self.company_weights, k=self.rng.randint(1, 3))
            ):
                company_links.append(Story.companies.through(story=story, company=company))
            for theme in self.rng.sample(themes, self.rng.randint(0, 2)):
                theme_links.append(Story.themes.through(story=story, theme=theme))
            for tag in self.rng.sample(tags, self.rng.randint(0, 3)):
                tag_links.append(TaggedItem(tag=tag, content_type=story_type, object_id=story.pk))
            for position in range(self.rng.randint(1, 3)):
                sources.append(
                    Source(
                        story=story,
                        position=position,
                        title=f"{self.sentence()[:-1][:80]}",
                        publisher=f"{self.name(2)} Engineering",
                        url=f"https://blog.example.com/{story.slug}/{position}",
                    )
                )
        Story.companies.through.objects.bulk_create(company_links, batch_size=10000)
        Story.themes.through.objects.bulk_create(theme_links, batch_size=10000)
        TaggedItem.objects.bulk_create(tag_links, batch_size=10000)
        Source.objects.bulk_create(sources, batch_size=10000)
        # bulk_create sends no signals, so the vectors the receivers keep current are
        # filled here, in one UPDATE, from the same definition the search code uses
        # (filtered by slug: 52,000 ids would come near PostgreSQL's limit of parameters).
        if connection.vendor == "postgresql":
            self.progress(f"{len(stories):,} stories: search vectors")
            Story.objects.filter(slug__startswith=SLUG_PREFIX).update(search_vector=story_search_vector())
        return stories
