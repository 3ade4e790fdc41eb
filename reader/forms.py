from django import forms
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join

from digest.models import Issue
from digest.public import public_companies, public_themes

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
    company = forms.ModelChoiceField(
        queryset=None,
        to_field_name="slug",
        required=False,
        label="Company",
        widget=forms.TextInput(attrs={"placeholder": "as in its address, e.g. netflix"}),
    )
    theme = forms.ModelChoiceField(
        queryset=None, to_field_name="slug", required=False, empty_label="Any", label="Theme", widget=PlainSelect
    )
    year = forms.TypedChoiceField(coerce=int, required=False, empty_value=None, label="Year", widget=PlainSelect)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["company"].queryset = public_companies().order_by("name")
        self.fields["theme"].queryset = public_themes().order_by("name")
        years = [day.year for day in Issue.objects.published().dates("week_start", "year", order="DESC")]
        self.fields["year"].choices = [("", "Any"), *((year, year) for year in years)]
        for name in ("company", "theme", "year"):
            self.fields[name].error_messages["invalid_choice"] = f"There is no such {name} to search in."

    @property
    def has_criteria(self):
        data = self.cleaned_data
        return bool(data.get("q") or data.get("company") or data.get("theme") or data.get("year"))
