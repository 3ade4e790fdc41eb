from django import forms

from .factors import MAX_CODE_LENGTH


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Code",
        max_length=MAX_CODE_LENGTH + 8,  # room for the spaces and dashes people type
        help_text="The six digits your authenticator app shows, or one of your recovery codes.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True, "spellcheck": "false"}),
    )


class ConfirmAppForm(forms.Form):
    device = forms.IntegerField(widget=forms.HiddenInput)
    code = forms.CharField(
        label="Code from the app",
        max_length=12,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )
