"""The subscriber's pages: subscribe, confirm, unsubscribe (one click), resubscribe, data, erasure.

None of them sets a cookie, so the footer's form never stops the page cache from storing a
page: the subscribe endpoint takes no CSRF token (a honeypot, rate limits per client and per
address, and double opt-in protect it), and the token pages are authorised by their token.
A GET never changes anything: mail scanners that follow links unsubscribe and confirm no one.
"""

import logging

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from accounts.records import client_address

from . import sending, subscriptions
from .forms import SubscribeForm
from .models import SubscriberStatus

logger = logging.getLogger(__name__)

RATE_WINDOW_SECONDS = 3600


def _private(response, status=None):
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex"
    return response


def _over_client_limit(request):
    """Count this request against its client's hourly allowance; True when it is over."""
    key = f"newsletter:subscribe:{client_address(request)}"
    try:
        cache.add(key, 0, RATE_WINDOW_SECONDS)
        return cache.incr(key) > settings.NEWSLETTER_SUBSCRIBES_PER_HOUR
    except Exception:  # the cache is down: the per-address limit (in the database) still holds
        logger.warning("Subscribe rate limit unavailable (cache down)", exc_info=True)
        return False


@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def subscribe(request):
    if request.method != "POST":
        return _private(render(request, "newsletter/subscribe.html", {"form": SubscribeForm()}))
    if _over_client_limit(request):
        response = render(request, "newsletter/subscribe.html", {"form": SubscribeForm(), "limited": True}, status=429)
        response["Retry-After"] = str(RATE_WINDOW_SECONDS)
        return _private(response)
    form = SubscribeForm(request.POST)
    if not form.is_valid():
        return _private(render(request, "newsletter/subscribe.html", {"form": form}, status=400))
    if not form.cleaned_data["website"]:  # the honeypot: people leave it empty; bots get the same answer
        try:
            subscriptions.subscribe(email=form.cleaned_data["email"])
        except ValidationError:
            return _private(render(request, "newsletter/subscribe.html", {"form": form}, status=400))
    return _private(render(request, "newsletter/subscribe_done.html", {}))


@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def confirm(request, token):
    if request.method != "POST":  # a link scanner's GET confirms nothing
        return _private(render(request, "newsletter/confirm.html", {"token": token}))
    try:
        subscriber = subscriptions.confirm(token=token)
    except subscriptions.InvalidLink as error:
        return _private(render(request, "newsletter/confirm.html", {"error": str(error)}, status=400))
    return _private(render(request, "newsletter/confirm.html", {"confirmed": True, "subscriber": subscriber}))


def _subscriber_or_404(token):
    subscriber = subscriptions.subscriber_for_token(token)
    if subscriber is None:
        raise Http404("No such subscription.")
    return subscriber


@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request, token):
    """GET: a page with one button. POST (the button, or a mail client's RFC 8058 one-click): unsubscribe."""
    if token == sending.TEST_SEND_TOKEN:  # a publisher trying the link of a test: nothing to unsubscribe
        return _private(render(request, "newsletter/unsubscribe_test.html", {}))
    subscriber = _subscriber_or_404(token)
    if request.method == "POST":
        subscriber = subscriptions.unsubscribe(subscriber=subscriber)
    return _private(render(request, "newsletter/unsubscribe.html", _manage_context(subscriber, token)))


def _manage_context(subscriber, token, **extra):
    return {
        "subscriber": subscriber,
        "token": token,
        "subscribed": subscriber.status in (SubscriberStatus.CONFIRMED, SubscriberStatus.PENDING),
        "can_resubscribe": subscriber.status == SubscriberStatus.UNSUBSCRIBED,
        **extra,
    }


@csrf_exempt
@require_POST
def resubscribe(request, token):
    subscriber = subscriptions.resubscribe(subscriber=_subscriber_or_404(token))
    context = _manage_context(subscriber, token, resubscribed=subscriber.status == SubscriberStatus.CONFIRMED)
    return _private(render(request, "newsletter/unsubscribe.html", context))


@csrf_exempt
@require_POST
def request_data(request, token):
    subscriber = _subscriber_or_404(token)
    subscriptions.request_data(subscriber=subscriber)
    return _private(render(request, "newsletter/unsubscribe.html", _manage_context(subscriber, token, data_sent=True)))


@csrf_exempt
@require_POST
def erase(request, token):
    subscriptions.erase(subscriber=_subscriber_or_404(token))
    return _private(render(request, "newsletter/erased.html", {}))
