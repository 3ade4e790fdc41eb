from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.validators import MaxLengthValidator

from .factors import MAX_CODE_LENGTH


class SignInForm(AdminAuthenticationForm):
    """The admin's login form, refusing a user name longer than any account's before anything looks it up.

    Django's form sets the field's ``max_length`` after the field is made, so without this
    a name of any length went on to ``authenticate()`` and axes, whose record of the failed
    attempt holds 255 characters (a longer name answered 500).
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        username = self.fields["username"]
        username.validators.append(MaxLengthValidator(username.max_length))


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
