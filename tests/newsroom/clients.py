"""What the newsroom's tests share: a logged-in test client and the admin's addresses."""

from django.test import Client
from django.urls import reverse


def logged_in(user):
    client = Client()
    client.force_login(user)
    return client


def change_url(obj):
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
