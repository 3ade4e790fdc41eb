"""The intake's admin: feeds (with the OPML import) and the inbox of candidates."""

import datetime

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import formats, timezone
from django.utils.functional import cached_property
from django.utils.html import escape, format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

import outbound
from companies.models import Company
from stories.rendering import sanitise_html

from . import candidates, fetching, tasks
from .canonical import NotAWebAddress
from .models import Candidate, CandidateState, Feed
from .opml import MAX_OPML_BYTES, OPMLError, import_opml

EXCERPT_LENGTH = 240
INBOX_COUNT_CAP = 1000


class CappedPaginator(Paginator):
    """Count at most ``cap`` rows, plus one to know there are more.

    An inbox is read from its newest posts; an exact count of 50,000 rows is a scan of the
    table on every page, and the inbox's pages reach the newest thousand (filters reach the rest).
    """

    cap = INBOX_COUNT_CAP

    @cached_property
    def count(self):
        return self.object_list[: self.cap + 1].count()


def shown_text(text):
    """Feed text (plain, hostile) as HTML: escaped, then through the stories' sanitiser as every shown text is."""
    return mark_safe(sanitise_html(escape(text)))  # noqa: S308 - escaped, then sanitised by nh3


def checked_url(url):
    """Return ``url``, or raise the form error the outbound guard gives for it.

    The cheap half of the guard (no lookup): a private address typed literally is refused here.
    """
    try:
        outbound.check_url(url)
    except outbound.OutboundRefused as error:
        raise forms.ValidationError(str(error)) from error
    return url


class FailingFilter(admin.SimpleListFilter):
    title = "health"
    parameter_name = "failing"

    def lookups(self, request, model_admin):
        return [("yes", "Failing"), ("no", "Working")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(failures__gt=0)
        if self.value() == "no":
            return queryset.filter(failures=0)
        return queryset


class OPMLForm(forms.Form):
    file = forms.FileField(help_text=f"An OPML file of at most {MAX_OPML_BYTES // 1024} KB.")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_OPML_BYTES:
            raise forms.ValidationError(f"The file is larger than {MAX_OPML_BYTES // 1024} KB.")
        return upload


class FeedForm(forms.ModelForm):
    class Meta:
        model = Feed
        fields = ["company", "url", "title", "interval", "paused", "next_fetch_at"]

    def clean_url(self):
        return checked_url(self.cleaned_data["url"])


@admin.register(Feed)
class FeedAdmin(admin.ModelAdmin):
    form = FeedForm
    list_display = ["__str__", "company", "paused", "interval", "next_fetch_at", "last_success_at", "failures", "error"]
    list_select_related = ["company"]
    list_filter = ["paused", FailingFilter]
    search_fields = ["url", "title", "company__name"]
    autocomplete_fields = ["company"]
    show_full_result_count = False
    fields = ["company", "url", "title", "interval", "paused", "next_fetch_at"]
    readonly_fields = ["last_fetched_at", "last_success_at", "failures", "last_error"]
    actions = ["fetch_now", "pause", "resume"]
    change_list_template = "admin/intake/feed/change_list.html"

    def get_fields(self, request, obj=None):
        if obj is None:  # a new feed starts at a random point of its first interval
            return [name for name in self.fields if name != "next_fetch_at"]
        return [*self.fields, *self.readonly_fields]

    def get_urls(self):
        opml = self.admin_site.admin_view(self.import_opml_view)
        return [path("import-opml/", opml, name="intake_feed_import_opml"), *super().get_urls()]

    @admin.display(description="Last error")
    def error(self, feed):
        return feed.last_error[:120]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.spread_first_fetch()
        super().save_model(request, obj, form, change)

    @admin.action(description="Fetch the selected feeds now", permissions=["change"])
    def fetch_now(self, request, queryset):
        ids = list(queryset.values_list("pk", flat=True))
        Feed.objects.filter(pk__in=ids).update(
            next_fetch_at=timezone.now() + datetime.timedelta(seconds=60), paused=False
        )
        tasks.fetch_now(ids)
        self.message_user(request, f"{len(ids)} feeds queued (paused ones resumed): new posts reach the inbox shortly.")

    @admin.action(description="Pause the selected feeds", permissions=["change"])
    def pause(self, request, queryset):
        self.message_user(request, f"{queryset.update(paused=True)} feeds paused.")

    @admin.action(description="Resume the selected feeds", permissions=["change"])
    def resume(self, request, queryset):
        self.message_user(request, f"{queryset.update(paused=False, next_fetch_at=timezone.now())} feeds resumed.")

    def import_opml_view(self, request):
        """Add many feeds from an OPML file, matching companies by name or creating them."""
        if not (self.has_add_permission(request) and request.user.has_perm("companies.add_company")):
            raise PermissionDenied
        form = OPMLForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                report = import_opml(form.cleaned_data["file"].read(MAX_OPML_BYTES + 1))
            except OPMLError as error:
                form.add_error("file", str(error))
            else:
                self.message_user(request, f"OPML imported: {report.summary()}")
                for what, why in report.skipped[:20]:
                    self.message_user(request, f"Skipped {what}: {why}", messages.WARNING)
                return HttpResponseRedirect(reverse("admin:intake_feed_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": "Import feeds from OPML",
            "form": form,
            "opts": self.opts,
        }
        return TemplateResponse(request, "admin/intake/feed/import_opml.html", context)


class StateFilter(admin.SimpleListFilter):
    """The inbox opens on what waits for a decision (new and kept); every state is a click away."""

    title = "state"
    parameter_name = "state"
    OPEN, ALL = "open", "all"

    def lookups(self, request, model_admin):
        return [(self.OPEN, "Not yet used (new or kept)"), *CandidateState.choices, (self.ALL, "All")]

    def value(self):
        return super().value() or self.OPEN

    def choices(self, changelist):
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        if self.value() == self.OPEN:
            return queryset.not_yet_used()
        if self.value() in CandidateState.values:
            return queryset.filter(state=self.value())
        return queryset


class CompanyFilter(admin.SimpleListFilter):
    """Filter by one company (``?company=``), reached from a row's company; only the chosen one is listed.

    A list of every company with a feed would grow with the feeds on every page of the inbox.
    """

    title = "company"
    parameter_name = "company"

    def lookups(self, request, model_admin):
        if not (self.value() or "").isdigit():
            return []
        return [(str(pk), name) for pk, name in Company.objects.filter(pk=self.value()).values_list("pk", "name")]

    def queryset(self, request, queryset):
        if (self.value() or "").isdigit():
            return queryset.filter(company=self.value())
        return queryset


class FeedFilter(admin.SimpleListFilter):
    """The chosen company's feeds; without a company, only the chosen feed (reached from a row)."""

    title = "feed"
    parameter_name = "feed"

    def lookups(self, request, model_admin):
        company = request.GET.get("company", "")
        if company.isdigit():
            feeds = Feed.objects.filter(company=company)[:50]
        elif (self.value() or "").isdigit():
            feeds = Feed.objects.filter(pk=self.value())
        else:
            return []
        return [(str(feed.pk), str(feed)[:80]) for feed in feeds]

    def queryset(self, request, queryset):
        if (self.value() or "").isdigit():
            return queryset.filter(feed=self.value())
        return queryset


class WeekFilter(admin.SimpleListFilter):
    """Candidates dated in one issue's week (``?week=2026-04-18_2026-05-01``), from the issue page's panel."""

    title = "week"
    parameter_name = "week"

    def _dates(self):
        try:
            start, end = (datetime.datetime.strptime(part, "%Y-%m-%d").date() for part in self.value().split("_"))
        except (AttributeError, ValueError):
            return None
        return (start, end) if start <= end else None

    def lookups(self, request, model_admin):
        dates = self._dates()
        return [(self.value(), f"{dates[0]:%Y-%m-%d} to {dates[1]:%Y-%m-%d}")] if dates else []

    def queryset(self, request, queryset):
        dates = self._dates()
        return queryset.dated_between(*dates) if dates else queryset


class AddPostForm(forms.Form):
    url = forms.URLField(label="Address of the post", max_length=1000, assume_scheme="https")
    title = forms.CharField(max_length=300, required=False, help_text="Left blank, the title is read from the page.")

    def __init__(self, *args, admin_site, **kwargs):
        super().__init__(*args, **kwargs)
        # The admin's autocomplete: one search box, not a list of every company.
        widget = AutocompleteSelect(Candidate._meta.get_field("company"), admin_site)
        self.fields["company"] = forms.ModelChoiceField(Company.objects.all(), required=False, widget=widget)
        self.order_fields(["url", "company", "title"])

    def clean_url(self):
        return checked_url(self.cleaned_data["url"])


@admin.register(Candidate)
class CandidateAdmin(admin.ModelAdmin):
    """The inbox: posts found in feeds, newest first, one keystroke from a story or the bin."""

    list_display = ["post", "company_link", "feed_link", "dated_at", "state_label", "buttons"]
    list_display_links = None
    list_select_related = ["company", "feed", "story"]
    list_filter = [StateFilter, CompanyFilter, FeedFilter, WeekFilter]
    list_per_page = 50
    paginator = CappedPaginator
    search_fields = ["title"]
    search_help_text = "Words of the title."
    show_full_result_count = False
    actions = ["dismiss_selected", "keep_selected"]
    change_list_template = "admin/intake/candidate/change_list.html"
    fields = [
        "title",
        "link",
        "listed_link",
        "summary_html",
        "author",
        "published_at",
        "found_at",
        "company",
        "feed",
        "state",
        "story",
    ]
    readonly_fields = fields

    class Media:
        js = ["intake/inbox.js"]
        css = {"all": ["intake/inbox.css"]}

    def action_checkbox(self, obj):
        """Django's row checkbox, the same markup written in Python: rendering its widget template
        took about a third of the inbox's time (0.7 ms a row, ``make bench``)."""
        label = format_html(gettext("Select this object for an action - {}"), str(obj))
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            ACTION_CHECKBOX_NAME,
            obj.pk,
            label,
        )

    def row_cells(self, candidate, *, checkbox=True):
        """One row of the inbox's table, cell for cell the markup of Django's changelist for
        ``list_display`` (a test compares them), written without Django's lookups per cell, which
        were most of the inbox's time (``make bench``). Rendered by ``{% inbox_result_list %}``; without
        ``checkbox`` when Django leaves that column out (no action allowed, a popup)."""
        dated = formats.localize(timezone.template_localtime(candidate.dated_at))
        box = [format_html('<td class="action-checkbox">{}</td>', self.action_checkbox(candidate))] if checkbox else []
        return [
            *box,
            format_html('<td class="field-post">{}</td>', self.post(candidate)),
            format_html('<td class="field-company_link">{}</td>', self.company_link(candidate)),
            format_html('<td class="field-feed_link">{}</td>', self.feed_link(candidate)),
            format_html('<td class="field-dated_at nowrap">{}</td>', dated),
            format_html('<td class="field-state_label">{}</td>', self.state_label(candidate)),
            format_html('<td class="field-buttons">{}</td>', self.buttons(candidate) or self.get_empty_value_display()),
        ]

    def get_urls(self):
        def view(function):
            return self.admin_site.admin_view(require_POST(function))

        return [
            path("<int:pk>/make-story/", view(self.make_story_view), name="intake_candidate_make_story"),
            path("<int:pk>/dismiss/", view(self.dismiss_view), name="intake_candidate_dismiss"),
            path("<int:pk>/keep/", view(self.keep_view), name="intake_candidate_keep"),
            *super().get_urls(),
        ]

    def has_change_permission(self, request, obj=None):
        return False if obj is not None else super().has_change_permission(request)  # the detail page is read-only

    def add_view(self, request, form_url="", extra_context=None):
        """Add one post by its address, as if a feed had listed it."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = AddPostForm(request.POST or None, admin_site=self.admin_site)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                candidate = fetching.add_post(
                    url=data["url"], company=data["company"], title=data["title"], by=request.user
                )
            except (outbound.OutboundError, NotAWebAddress) as error:
                form.add_error(
                    "url", f"The page could not be read: {error} Give its title to add it without reading it."
                )
            else:
                self.message_user(
                    request, f"“{candidate.title}” is in the inbox ({candidate.get_state_display().lower()})."
                )
                return HttpResponseRedirect(reverse("admin:intake_candidate_changelist") + "?state=all")
        context = {
            **self.admin_site.each_context(request),
            "title": "Add a post by its address",
            "form": form,
            "media": self.media + form.media,
            "opts": self.opts,
        }
        return TemplateResponse(request, "admin/intake/candidate/add_post.html", context)

    @admin.display(description="Post")
    def post(self, candidate):
        excerpt = candidate.summary[:EXCERPT_LENGTH] + ("…" if len(candidate.summary) > EXCERPT_LENGTH else "")
        return format_html(
            '<a class="candidate-title" href="{}" rel="noopener noreferrer nofollow" target="_blank">{}</a>'
            '<div class="candidate-meta">{}{}</div><div class="candidate-summary">{}</div>',
            candidate.link,
            candidate.title,
            candidate.author,
            format_html(" · {}", candidate.link[:90]) if candidate.author else candidate.link[:90],
            shown_text(excerpt),
        )

    @admin.display(description="Summary")
    def summary_html(self, candidate):
        return shown_text(candidate.summary)

    @admin.display(description="Company", ordering="company__name")
    def company_link(self, candidate):
        if not candidate.company_id:
            return "—"
        return format_html('<a href="?company={}">{}</a>', candidate.company_id, candidate.company.name)

    @admin.display(description="Feed")
    def feed_link(self, candidate):
        if not candidate.feed_id:
            return "added by address"
        return format_html('<a href="?feed={}">{}</a>', candidate.feed_id, str(candidate.feed)[:60])

    @admin.display(description="State")
    def state_label(self, candidate):
        if candidate.story_id:
            url = reverse("admin:stories_story_change", args=[candidate.story_id])
            return format_html('<span class="state">used</span> in <a href="{}">{}</a>', url, candidate.story.title)
        return format_html('<span class="state">{}</span>', candidate.get_state_display().lower())

    @admin.display(description="Decide")
    def buttons(self, candidate):
        if candidate.state == CandidateState.USED:
            return ""
        # Relative to the inbox's own address (…/candidate/), whatever its query: no reverse() per row.
        return format_html(
            '<button type="submit" class="button make-story" formaction="{0}/make-story/" formnovalidate>'
            "Make story</button> "
            '<button type="submit" class="button keep" formaction="{0}/keep/" formnovalidate>Keep</button> '
            '<button type="submit" class="button dismiss" formaction="{0}/dismiss/" formnovalidate>Dismiss</button>',
            candidate.pk,
        )

    @admin.action(description="Dismiss the selected candidates", permissions=["change"])
    def dismiss_selected(self, request, queryset):
        count = candidates.dismiss(candidate_ids=list(queryset.values_list("pk", flat=True)), by=request.user)
        self.message_user(request, f"{count} candidates dismissed.")

    @admin.action(description="Keep the selected candidates for later", permissions=["change"])
    def keep_selected(self, request, queryset):
        count = candidates.keep(candidate_ids=list(queryset.values_list("pk", flat=True)), by=request.user)
        self.message_user(request, f"{count} candidates kept.")

    def make_story_view(self, request, pk):
        """Make a draft story of this candidate and open it."""
        get_object_or_404(Candidate, pk=pk)
        try:
            story = candidates.make_story(candidate_id=pk, by=request.user)
        except candidates.CandidateAlreadyUsed as error:
            self.message_user(request, str(error), messages.ERROR)
            return HttpResponseRedirect(self._back(request))
        self.message_user(request, "Draft story made from the post: write its summary, check its companies.")
        return HttpResponseRedirect(reverse("admin:stories_story_change", args=[story.pk]))

    def dismiss_view(self, request, pk):
        return self._state_view(request, pk, candidates.dismiss, "dismissed")

    def keep_view(self, request, pk):
        return self._state_view(request, pk, candidates.keep, "kept")

    def _state_view(self, request, pk, verb, done):
        candidate = get_object_or_404(Candidate, pk=pk)
        changed = verb(candidate_ids=[pk], by=request.user)
        if request.headers.get("accept", "").startswith("application/json"):
            candidate.refresh_from_db()
            return JsonResponse({"id": pk, "state": candidate.state, "changed": bool(changed)})
        if changed:
            self.message_user(request, f"“{candidate.title}” {done}.")
        else:
            self.message_user(request, f"“{candidate.title}” is already used by a story.", messages.WARNING)
        return HttpResponseRedirect(self._back(request))

    def _back(self, request):
        back = request.POST.get("next", "")
        if url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
            return back
        return reverse("admin:intake_candidate_changelist")
