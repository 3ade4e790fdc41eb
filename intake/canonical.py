"""One address per post: what makes two links to the same post compare equal.

Tracking parameters (``utm_*``, click ids, mailing ids) are removed, the scheme and host
are lower-cased, a default port and the fragment are dropped. The path and the remaining
query are kept as they are: a server may treat ``/Post`` and ``/post`` as different pages.
"""

import re
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

TRACKING_PARAMETERS = {
    "fbclid", "gclid", "dclid", "msclkid", "yclid", "igshid", "mc_cid", "mc_eid", "_hsenc", "_hsmi",
    "mkt_tok", "ref_src", "ref", "source", "sr_share", "spm", "vero_id", "oly_anon_id", "oly_enc_id",
}  # fmt: skip
TRACKING_PREFIXES = ("utm_", "pk_", "hsa_")
DEFAULT_PORTS = {"http": 80, "https": 443}
# Characters a path may carry that show nothing, or turn the text around it (a right-to-left
# override shows ".../\u202egnp.exe" as ".../exe.png"): percent-encoded, as browsers show them.
_INVISIBLE = re.compile("[\x00-\x20\x7f\u061c\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


class NotAWebAddress(ValueError):
    pass


def canonical_url(url):
    """Return ``url`` without tracking parameters, fragment or default port; raise NotAWebAddress unless http(s)."""
    url = (url or "").strip()
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        raise NotAWebAddress(f"Not an http(s) address: {url[:200]!r}")
    try:
        port = parts.port
    except ValueError as error:
        raise NotAWebAddress(f"Bad port in {url[:200]!r}") from error
    host = parts.hostname.lower().rstrip(".")
    if ":" in host:
        host = f"[{host}]"  # an IPv6 literal keeps its brackets
    if port is not None and port != DEFAULT_PORTS[scheme]:
        host = f"{host}:{port}"
    query = [
        (name, value)
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
        if name.lower() not in TRACKING_PARAMETERS and not name.lower().startswith(TRACKING_PREFIXES)
    ]
    path = _INVISIBLE.sub(lambda match: quote(match.group(), safe=""), parts.path) or "/"
    return urlunsplit((scheme, host, path, urlencode(query, doseq=True), ""))
