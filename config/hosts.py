"""Refuse a request whose Host header is not one of ``ALLOWED_HOSTS``, before anything answers it.

Django checks the Host header only when something asks for it (``request.get_host()``), and
what asks first decides how a forged one is refused. WhiteNoise serves static files without
asking, and a page built from the host (canonical links, feeds, the sitemap) asks while it
is being rendered. Asked here, first in the stack, a forged host is a 400 for every URL.
"""


class AllowedHostMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.get_host()  # raises DisallowedHost, which Django answers with its 400 page
        return self.get_response(request)
