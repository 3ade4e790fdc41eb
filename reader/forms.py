from django import forms
from django.forms.utils import flatatt

from companies.models import Company
from digest.public import public_companies
from stories.models import Theme

from .figures import search_filter_choices
from .markup import format_html, format_html_join

MAX_QUERY_LENGTH = 200


class PlainSelect(forms.Select):
    """A flat ``<select>`` written in Python.

    Django renders each option through its own template, about 0.14 ms apiece: the year
    filter of a long archive (a century of weeks at the benchmark's scale 10) cost 14 ms
    of every search. The filters need no option groups, so one format string does.
    """

    def render(self, name, value, attrs=None, renderer=None):
        chosen = {str(item) for item in self.format_value(value)}
        options = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            ((key, " selected" if str(key) in chosen else "", label) for key, label in self.choices),
        )
        return format_html(
            '<select name="{}"{}>{}</select>', name, flatatt(self.build_attrs(self.attrs, attrs)), options
        )


class SearchForm(forms.Form):
    """The reader's search: words, and optional filters by company, theme and year.

    The filters offer only what is public, so an unpublished company cannot be chosen
    (or discovered by trying its slug).
    """

    q = forms.CharField(
        label="Search for",
        required=False,
        max_length=MAX_QUERY_LENGTH,
        error_messages={"max_length": f"Searches are limited to {MAX_QUERY_LENGTH} characters: try fewer words."},
    )
    # A text box, not a list: a list of every public company is thousands of options to
    # query and render on each search. Company pages link here with ?company=<slug>.
    company = forms.CharField(
        required=False,
        max_length=Company._meta.get_field("slug").max_length,
        label="Company",
        widget=forms.TextInput(attrs={"placeholder": "as in its address, e.g. netflix"}),
    )
    # The public themes and years, as stored figures (``reader.figures``): they change with
    # publications, not with each search.
    theme = forms.ChoiceField(required=False, label="Theme", widget=PlainSelect)
    year = forms.TypedChoiceField(coerce=int, required=False, empty_value=None, label="Year", widget=PlainSelect)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        years, themes = search_filter_choices()
        self.fields["theme"].choices = [("", "Any"), *themes]
        self.fields["year"].choices = [("", "Any"), *((year, year) for year in years)]
        for name in ("company", "theme", "year"):
            self.fields[name].error_messages["invalid_choice"] = f"There is no such {name} to search in."

    def clean_company(self):
        slug = self.cleaned_data["company"]
        return self._chosen(public_companies().filter(slug=slug).first() if slug else None, "company", slug)

    def clean_theme(self):
        # Among the stored public themes (the field's choices); one deleted since is not found.
        slug = self.cleaned_data["theme"]
        return self._chosen(Theme.objects.filter(slug=slug).first() if slug else None, "theme", slug)

    def _chosen(self, found, name, slug):
        if slug and found is None:
            raise forms.ValidationError(self.fields[name].error_messages["invalid_choice"], code="invalid_choice")
        return found

    @property
    def has_criteria(self):
        data = self.cleaned_data
        return bool(data.get("q") or data.get("company") or data.get("theme") or data.get("year"))
