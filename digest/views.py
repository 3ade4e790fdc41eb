from django.http import Http404
from django.shortcuts import get_object_or_404, render

from companies.models import Company
from stories.models import Story, Theme

from .models import Issue, Placement, Section
from .previews import InvalidShareLink, issue_for_share_token


def render_issue_page(request, issue, *, preview=False):
    """Render an issue as readers see it; ``preview`` marks an unpublished view as a draft."""
    placements = list(
        Placement.objects.filter(issue=issue)
        .select_related("story")
        .prefetch_related("story__companies", "story__themes", "story__tags", "story__sources")
        .order_by("section", "position", "id")
    )
    sections = [
        (section, [placement.story for placement in placements if placement.section == section]) for section in Section
    ]
    context = {"issue": issue, "sections": sections, "corrections": issue.corrections.all(), "preview": preview}
    response = render(request, "digest/issue_detail.html", context)
    if preview:
        response["X-Robots-Tag"] = "noindex, nofollow"
        response["Cache-Control"] = "private, no-store"
    return response


def home(request):
    issue = Issue.objects.latest_published()
    if issue is None:
        return render(request, "digest/issue_none.html")
    return render_issue_page(request, issue)


def issue_detail(request, slug):
    return render_issue_page(request, get_object_or_404(Issue.objects.published(), slug=slug))


def issue_share_preview(request, token):
    try:
        issue = issue_for_share_token(token)
    except InvalidShareLink:
        return render(request, "digest/share_link_invalid.html", status=403)
    return render_issue_page(request, issue, preview=True)


def _published_stories():
    return Story.objects.filter(placement__issue__in=Issue.objects.published()).select_related("placement__issue")


def company_detail(request, slug):
    company = get_object_or_404(Company.objects.with_parent(), slug=slug)
    stories = (
        _published_stories().filter(companies=company).order_by("-placement__issue__week_start", "placement__position")
    )
    if not stories.exists():
        raise Http404("No published story involves this company.")
    return render(request, "companies/company_detail.html", {"company": company, "stories": stories})


def theme_detail(request, slug):
    theme = get_object_or_404(Theme, slug=slug)
    stories = _published_stories().filter(themes=theme).order_by("-placement__issue__week_start", "placement__position")
    return render(request, "stories/theme_detail.html", {"theme": theme, "stories": stories})
