import datetime

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import flatten_fieldsets, unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.forms.models import BaseInlineFormSet
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.views.decorators.http import require_POST

from digest import previews, publishing, workflow
from digest.approval import settle_content_edit
from digest.checklist import check_story, run_checklist
from digest.issue_page import issue_page
from digest.models import Issue, Placement
from digest.next_issue import next_issue_initial
from newsroom.panels import issue_panels

from .approval import ApprovedContentAdmin
from .corrections import CorrectionAdmin
from .edition import IssuePDFAdminMixin
from .presence import PresenceAdmin
from .protection import ProtectPublishedAdmin
from .revisions import RevisionsAdmin


class PlacementFormSet(BaseInlineFormSet):
    """Label each row's story from the rows already loaded.

    The autocomplete widget would otherwise run one query per row to show the chosen
    story's title: 40 queries for a 40-story issue. A page shown (GET) passes the rows it
    loaded for the checklist (``placements``), so they are loaded once.
    """

    def __init__(self, *args, placements=None, **kwargs):
        self._placements = placements
        super().__init__(*args, **kwargs)

    def get_queryset(self):
        if self._placements is not None:
            return self._placements
        return super().get_queryset()

    def _construct_form(self, i, **kwargs):
        form = super()._construct_form(i, **kwargs)
        if not hasattr(self, "_story_labels"):
            self._story_labels = {str(placement.story_id): str(placement.story) for placement in self.get_queryset()}
        form.fields["story"].widget.widget.known_labels = self._story_labels
        return form


class KnownLabelAutocompleteSelect(admin.widgets.AutocompleteSelect):
    known_labels = {}

    def optgroups(self, name, value, attr=None):
        selected = [str(v) for v in value if str(v) not in self.choices.field.empty_values]
        if not selected or not all(v in self.known_labels for v in selected):
            return super().optgroups(name, value, attr)
        options = [self.create_option(name, "", "", False, 0)] if not self.is_required else []
        options += [
            self.create_option(name, v, self.known_labels[v], True, index)
            for index, v in enumerate(selected, start=len(options))
        ]
        return [(None, options, 0)]


class PlacementInline(admin.TabularInline):
    model = Placement
    formset = PlacementFormSet
    fields = ["section", "position", "story", "story_state"]
    readonly_fields = ["story_state"]
    autocomplete_fields = ["story"]
    ordering = ["section", "position", "id"]
    extra = 1
    verbose_name = "story"
    verbose_name_plural = "Stories, by section and position"

    def get_queryset(self, request):
        # Prefetched for the rows' companies and checklist state: three queries for the whole issue.
        return (
            super()
            .get_queryset(request)
            .select_related("issue", "story")
            .prefetch_related("story__companies", "story__sources", "story__themes")
        )

    @admin.display(description="Companies and checklist")
    def story_state(self, placement):
        """The story's companies, and what its checklist asks for, each linked to the field to fix."""
        story = placement.story
        companies = ", ".join(company.name for company in story.companies.all())
        checklist = check_story(story)
        problems = [(item, "blocking") for item in checklist.blocking] + [
            (item, "warning") for item in checklist.warnings
        ]
        if not problems:
            state = format_html('<span class="story-ready">{}</span>', "✓ ready")
        else:
            state = format_html_join(
                " ",
                '<a class="story-problem story-{}" href="{}" title="{}">{}</a>',
                (
                    (kind, _where_to_fix(item, editable=True), item, _SHORT_PROBLEMS.get((item.field, kind), item))
                    for item, kind in problems
                ),
            )
        return format_html('<span class="story-companies">{}</span> {}', companies or "—", state)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "story":
            kwargs["widget"] = KnownLabelAutocompleteSelect(db_field, self.admin_site, using=kwargs.get("using"))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def _issue_editable(self, request, obj):
        return obj is None or workflow.can_edit_issue(request.user, obj)

    def has_add_permission(self, request, obj=None):
        return super().has_add_permission(request, obj) and self._issue_editable(request, obj)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._issue_editable(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._issue_editable(request, obj)


@admin.register(Issue)
class IssueAdmin(
    PresenceAdmin, ApprovedContentAdmin, ProtectPublishedAdmin, IssuePDFAdminMixin, CorrectionAdmin, RevisionsAdmin
):
    list_display = ["number", "title", "week_start", "week_end", "state", "publish_at", "published_at", "story_count"]
    list_display_links = ["number", "title"]
    list_filter = ["state"]
    search_fields = ["title", "slug", "=number"]
    date_hierarchy = "week_start"
    prepopulated_fields = {"slug": ["week_start"]}
    readonly_fields = ["state", "publish_at", "published_at", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["number", "title", "slug", ("week_start", "week_end"), "seen_version"]}),
        ("Texts", {"fields": ["week_in_review", "patterns"]}),
        ("Publication", {"fields": ["state", "publish_at", "published_at", "created_at", "updated_at"]}),
    ]
    inlines = [PlacementInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(story_count=Count("placements")).order_by(*Issue._meta.ordering)

    def get_changeform_initial_data(self, request):
        """Fill "Start next issue" from the latest issue; values in the address still win."""
        initial = super().get_changeform_initial_data(request)
        if START_NEXT_PARAM in request.GET:
            initial = {**next_issue_initial(), **{k: v for k, v in initial.items() if k != START_NEXT_PARAM}}
        return initial

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "start_next_param": START_NEXT_PARAM}
        return super().changelist_view(request, extra_context)

    @admin.display(description="Stories", ordering="story_count")
    def story_count(self, issue):
        return issue.story_count

    def issue_of(self, issue):
        return issue

    def why_not_edit(self, user, issue):
        return workflow.why_not_edit_issue(user, issue)

    def ensure_can_edit(self, user, issue):
        workflow.ensure_can_edit_issue(user, issue)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and (
            obj is None or workflow.can_edit_issue(request.user, obj)
        )

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and (
            obj is None or workflow.can_edit_issue(request.user, obj)
        )

    def delete_view(self, request, object_id, extra_context=None):
        issue = self.get_object(request, unquote(object_id))
        extra_context = {**(extra_context or {}), "readers_issues": [issue] if issue else []}
        return super().delete_view(request, object_id, extra_context)

    # Workflow -----------------------------------------------------------------------------

    def get_urls(self):
        def view(function, post_only=True):
            wrapped = require_POST(function) if post_only else function
            return self.admin_site.admin_view(wrapped)

        return [
            path("<int:object_id>/transition/<str:name>/", view(self.transition_view), name="digest_issue_transition"),
            path("<int:object_id>/preview/", view(self.preview_view, post_only=False), name="digest_issue_preview"),
            path("<int:object_id>/share/", view(self.share_view), name="digest_issue_share"),
            path("<int:object_id>/revoke-links/", view(self.revoke_links_view), name="digest_issue_revoke_links"),
            path(
                "<int:object_id>/share-links/<int:link_id>/revoke/",
                view(self.revoke_link_view),
                name="digest_issue_revoke_link",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        issue = self.get_object(request, object_id)
        if issue is not None:
            typed = self._typed_workflow_input(request, issue)
            placements = self._shown_placements(request, issue)
            checklist = run_checklist(issue, placements=placements)
            editable = self.has_change_permission(request, issue)
            extra_context = {
                **(extra_context or {}),
                "start_next_param": START_NEXT_PARAM,
                "checklist": checklist,
                "checklist_blocking": [(item, _where_to_fix(item, editable)) for item in checklist.blocking],
                "checklist_warnings": [(item, _where_to_fix(item, editable)) for item in checklist.warnings],
                # A button the checklist blocks is shown disabled; the service refuses it anyway.
                "transitions": [
                    (
                        transition,
                        typed["comments"].get(transition.name, ""),
                        transition.runs_checklist and not checklist.passed,
                    )
                    for transition in workflow.available_transitions(issue, request.user)
                ],
                "typed_publish_at": typed["publish_at"],
                "events": issue.events.select_related("actor")[:50],
                "corrections": issue.corrections.all(),
                "runs": issue.publication_runs.prefetch_related("steps")[:5],
                "overdue": issue.state == "scheduled" and issue.publish_at and issue.publish_at <= timezone.now(),
                "site_time_zone": settings.TIME_ZONE,
                "can_share": request.user.has_perm("digest.publish_issue"),
                "share_days": previews.DEFAULT_DAYS,
                "share_links": self._share_links(request, issue)
                if request.user.has_perm("digest.publish_issue")
                else [],
                "panels": issue_panels(request, issue),
            }
        return super().change_view(request, object_id, form_url, extra_context)

    def _shown_placements(self, request, issue):
        """The issue's rows as its stories' inline shows them, loaded once for the inline and the checklist.

        Only for a page shown (GET): a save validates against the rows as they are when it runs.
        """
        if request.method != "GET":
            return None
        inline = PlacementInline(self.model, self.admin_site)
        request.newsroom_placements = list(inline.get_queryset(request).filter(issue=issue))
        return request.newsroom_placements

    def get_formset_kwargs(self, request, obj, inline, prefix):
        kwargs = super().get_formset_kwargs(request, obj, inline, prefix)
        placements = getattr(request, "newsroom_placements", None)
        if isinstance(inline, PlacementInline) and placements is not None and "data" not in kwargs:
            kwargs["placements"] = placements
        return kwargs

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        """Take a workflow button of the change form: save what was typed first, then move the issue.

        The buttons belong to the change form, so one POST carries the edits and the
        transition. A changed form is saved as the Save button would (same validation, same
        version check); a refused save shows the form again with everything typed, and the
        issue does not move. A page the user may only view, or a form with nothing changed,
        moves the issue without saving.
        """
        name = request.POST.get(TRANSITION_FIELD) if request.method == "POST" and object_id else None
        if name is None:
            return super().changeform_view(request, object_id, form_url, extra_context)
        issue = self.get_object(request, unquote(object_id))
        if issue is None:
            return super().changeform_view(request, object_id, form_url, extra_context)
        if not self.has_view_permission(request, issue):
            raise PermissionDenied
        if self._needs_confirmation(request, issue, name):
            # Asked on the page itself: the form keeps what was typed, and the confirming button submits it.
            return self.render_typed(request, object_id, request.POST, {"confirming": self._confirmation(issue, name)})
        if self.has_change_permission(request, issue) and self._typed_changes(request, issue):
            return super().changeform_view(request, object_id, form_url, extra_context)
        self._take_transition(request, issue, name, **self._posted_transition_input(request, name))
        return self._back(issue)

    def response_change(self, request, obj):
        name = request.POST.get(TRANSITION_FIELD)
        if name is None:
            return super().response_change(request, obj)
        # Saved inside the admin's transaction: the transition sees what was just typed, and a
        # refused transition (its own savepoint) leaves the save in place. A save that changed
        # approved content sends the issue back to review first, so the button cannot approve,
        # schedule or publish what nobody approved.
        messages.success(request, f"Saved your changes to issue #{obj.number}.")
        settle_content_edit()
        obj.refresh_from_db(fields=["state", "publish_at"])
        self._take_transition(request, obj, name, **self._posted_transition_input(request, name))
        return self._back(obj)

    def _typed_changes(self, request, issue):
        """Whether the posted change form differs from the issue as stored, inlines included."""
        fields = flatten_fieldsets(self.get_fieldsets(request, issue))
        form = self.get_form(request, issue, change=True, fields=fields)(request.POST, request.FILES, instance=issue)
        if any(_differs(form[name]) for name in form.changed_data if name != "seen_version"):
            return True
        formsets, _ = self._create_formsets(request, issue, change=True)
        return any(formset.has_changed() for formset in formsets)

    def _posted_transition_input(self, request, name):
        return {
            "comment": request.POST.get(f"_comment_{name}", ""),
            "publish_at": request.POST.get("_publish_at", ""),
        }

    def _needs_confirmation(self, request, issue, name):
        """Whether ``name`` is a guarded action the user may take and has not confirmed yet."""
        return (
            name in CONFIRM_FIRST
            and request.POST.get(CONFIRM_FIELD) != name
            and any(transition.name == name for transition in workflow.available_transitions(issue, request.user))
        )

    def _confirmation(self, issue, name):
        return {
            "name": name,
            "title": f"{workflow.TRANSITIONS[name].label} issue #{issue.number}?",
            "consequences": CONFIRM_FIRST[name](issue),
            "confirm_label": f"Yes, {workflow.TRANSITIONS[name].label.lower()} it",
        }

    def _typed_workflow_input(self, request, issue):
        """What was typed into the workflow boxes, to show again: a refused save or transition keeps it."""
        typed = getattr(request, "typed_data", None)
        if request.method == "POST" or typed is not None:
            post = request.POST if typed is None else typed
            comments = {
                key.removeprefix("_comment_"): value for key, value in post.items() if key.startswith("_comment_")
            }
            return {"comments": comments, "publish_at": post.get("_publish_at", "")}
        return request.session.pop(_kept_key(issue), None) or {"comments": {}, "publish_at": ""}

    def _issue_or_404(self, request, object_id):
        issue = get_object_or_404(Issue, pk=object_id)
        if not self.has_view_permission(request, issue):
            raise PermissionDenied
        return issue

    def _back(self, issue):
        return redirect(reverse("admin:digest_issue_change", args=[issue.pk]))

    def transition_view(self, request, object_id, name):
        issue = self._issue_or_404(request, object_id)
        post = request.POST
        if self._needs_confirmation(request, issue, name):
            hidden = [
                ("comment", post.get("comment", "")),
                ("publish_at", post.get("publish_at", "")),
                (CONFIRM_FIELD, name),
            ]
            return self._confirm_page(request, issue, **self._confirmation(issue, name), hidden=hidden)
        self._take_transition(
            request, issue, name, comment=post.get("comment", ""), publish_at=post.get("publish_at", "")
        )
        return self._back(issue)

    def _take_transition(self, request, issue, name, *, comment, publish_at):
        """Call the workflow action ``name`` and say how it went; return whether the issue moved.

        A refused action keeps its comment and time for the page shown next.
        """
        action = publishing.ACTIONS.get(name)
        if action is None:
            messages.error(request, "Unknown workflow action.")
            return False
        kwargs = {"issue": issue, "by": request.user, "comment": comment}
        try:
            if name == "schedule":
                kwargs["publish_at"] = _parse_local_datetime(publish_at)
            action(**kwargs)
        except workflow.ChecklistFailed as error:
            messages.error(request, f"“{workflow.TRANSITIONS[name].label}” is blocked until these are fixed:")
            for item in error.checklist.blocking:
                messages.error(request, item)
        except (workflow.TransitionNotAllowed, PermissionDenied, ValueError) as error:
            messages.error(request, str(error) or "You may not do that.")
        else:
            if name == "publish":
                messages.success(
                    request,
                    f"Issue #{issue.number} is queued for publication. It goes live when a worker runs it: "
                    "within seconds, or at the scheduler's next check (every minute) once the task queue "
                    "answers if it is down. The Publishing report shows where it is.",
                )
            else:
                messages.success(request, f"Issue #{issue.number} is now {issue.get_state_display().lower()}.")
            return True
        if comment.strip() or publish_at:
            request.session[_kept_key(issue)] = {"comments": {name: comment}, "publish_at": publish_at}
        return False

    def preview_view(self, request, object_id):
        issue = self._issue_or_404(request, object_id)
        return issue_page(request, issue, preview=True)

    def share_view(self, request, object_id):
        issue = self._issue_or_404(request, object_id)
        try:
            days = int(request.POST.get("days", previews.DEFAULT_DAYS))
            link = previews.make_share_link(issue=issue, by=request.user, days=days)
        except (PermissionDenied, ValueError) as error:
            messages.error(request, str(error) or "You may not share previews.")
        else:
            url = _share_url(request, link)
            messages.success(request, f"Share link, valid until {_local(link.expires_at)}: {url}")
        return self._back(issue)

    def revoke_links_view(self, request, object_id):
        issue = self._issue_or_404(request, object_id)
        if not request.user.has_perm("digest.publish_issue"):
            messages.error(request, "Only publishers may revoke share links.")
            return self._back(issue)
        if request.POST.get(CONFIRM_FIELD) != "yes":
            live = issue.share_links.live().count()
            return self._confirm_page(
                request, issue,
                title=f"Revoke every share link of issue #{issue.number}?",
                consequences=[
                    f"{_links(live)} still working will answer “This link has expired or is invalid”: "
                    "reviewers who open them no longer see the issue.",
                    "Links you make afterwards work as usual.",
                ],
                confirm_label="Yes, revoke them all",
                hidden=[(CONFIRM_FIELD, "yes")],
            )  # fmt: skip
        revoked = previews.revoke_share_links(issue=issue, by=request.user)
        messages.success(request, f"Revoked {_links(revoked)}: they now answer “expired or invalid”.")
        return self._back(issue)

    def revoke_link_view(self, request, object_id, link_id):
        issue = self._issue_or_404(request, object_id)
        link = get_object_or_404(issue.share_links.select_related("created_by"), pk=link_id)
        if not request.user.has_perm("digest.publish_issue"):
            messages.error(request, "Only publishers may revoke share links.")
            return self._back(issue)
        if request.POST.get(CONFIRM_FIELD) != "yes":
            return self._confirm_page(
                request, issue,
                title=f"Revoke this share link of issue #{issue.number}?",
                consequences=[
                    f"The link {_share_url(request, link)}, made by {_who(link.created_by)} on "
                    f"{_local(link.created_at)}, will answer “This link has expired or is invalid”.",
                    "The other share links of the issue keep working.",
                ],
                confirm_label="Yes, revoke this link",
                hidden=[(CONFIRM_FIELD, "yes")],
            )  # fmt: skip
        if previews.revoke_share_link(link=link, by=request.user):
            messages.success(request, f"Revoked the share link made on {_local(link.created_at)}.")
        else:
            messages.info(request, "That share link was already revoked.")
        return self._back(issue)

    def _confirm_page(self, request, issue, *, title, consequences, confirm_label, hidden, name=None):
        """A page asking to confirm a guarded action: what readers will see, and a button that posts it again."""
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": issue,
            "title": title,
            "consequences": consequences,
            "confirm_label": confirm_label,
            "hidden": hidden,
            "action_url": request.path,
            "back_url": reverse("admin:digest_issue_change", args=[issue.pk]),
        }
        return TemplateResponse(request, "admin/digest/issue/confirm_action.html", context)

    def _share_links(self, request, issue):
        links = issue.share_links.select_related("created_by")[:MAX_LISTED_LINKS]
        return [(link, _share_url(request, link)) for link in links]


def withdrawal_consequences(issue):
    """What readers see once the issue is withdrawn."""
    page, pdf = issue.get_absolute_url(), reverse("issue_pdf", kwargs={"slug": issue.slug})
    consequences = [
        f"The page {page} will answer 410 Gone: “This issue has been withdrawn”, without its content.",
        f"The PDF {pdf} too.",
        "The home page, the archive, the feeds, the sitemap, search and the company, theme and tag pages "
        "drop it and its stories.",
    ]
    live = issue.share_links.live().count()
    if live:
        consequences.append(f"Its {_links(live)} still working will answer “expired or invalid”.")
    consequences.append("You can bring it back only as a draft, to review and publish again.")
    return consequences


# The workflow actions asked twice, with what readers will see.
CONFIRM_FIRST = {"withdraw": withdrawal_consequences}
CONFIRM_FIELD = "confirm"
MAX_LISTED_LINKS = 50


def _share_url(request, link):
    return request.build_absolute_uri(reverse("issue_share_preview", args=[previews.share_token(link)]))


def _links(count):
    return f"{count} share link{'' if count == 1 else 's'}"


def _who(user):
    return user.get_username() if user else "someone no longer here"


def _local(moment):
    return f"{timezone.localtime(moment):%d %b %Y %H:%M %Z}"


TRANSITION_FIELD = "_transition"
# What a story's checklist item says in its row on the issue page, by (field, kind).
_SHORT_PROBLEMS = {
    ("companies", "blocking"): "no company",
    ("sources", "blocking"): "no source",
    ("sources", "warning"): "source without URL",
    ("themes", "warning"): "no theme",
    ("slug", "blocking"): "slug clashes with a section",
}
# The add form's address with this parameter starts the issue after the latest one.
START_NEXT_PARAM = "next_issue"
# Inline groups are anchored by their prefix; other fields by their widget's id.
_GROUP_FIELDS = {"placements", "sources"}


def _where_to_fix(item, editable):
    """The address of what a checklist item is about: the story's page, or this form's field.

    A field of this form is linked only if the form is editable: a read-only page has no
    field to go to.
    """
    anchor = f"#{item.field}-group" if item.field in _GROUP_FIELDS else f"#id_{item.field}"
    if item.story_id is not None:
        return reverse("admin:stories_story_change", args=[item.story_id]) + (anchor if item.field else "")
    return anchor if item.field and editable else None


def _kept_key(issue):
    return f"newsroom.issue.{issue.pk}.workflow_input"


def _differs(bound_field):
    """Whether a changed field really differs, not only in the line ends a browser sends (CRLF)."""
    initial, data = bound_field.initial, bound_field.data
    if isinstance(initial, str) and isinstance(data, str):
        return initial.replace("\r\n", "\n").strip() != data.replace("\r\n", "\n").strip()
    return True


def _parse_local_datetime(value):
    """Read an <input type=datetime-local> value as a time in the site's time zone; None when empty."""
    if not value.strip():
        return None
    try:
        naive = datetime.datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"“{value}” is not a date and time; use the picker or YYYY-MM-DD HH:MM.") from None
    return timezone.make_aware(naive) if timezone.is_naive(naive) else naive
