from django import forms


class SubscribeForm(forms.Form):
    email = forms.EmailField(max_length=254, label="Email address")
    # The honeypot: hidden from people by the stylesheet, filled in by simple bots.
    website = forms.CharField(required=False, max_length=200, label="Leave this empty")
