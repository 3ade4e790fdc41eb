vcl 4.1;
# The front cache of Engineering @ Scale: Debian's varnish (7.1) with xkey from varnish-modules.
#
# It keeps what the site says it may keep, and nothing else: a response is cached only when it
# carries its keys (the xkey header, reader/keys.py) AND s-maxage, which the site sends only
# for pages its page cache holds as current, feeds, the sitemap and PDFs, and only with
# FRONT_CACHE=varnish (reader/front_cache.py). Everything else (an unsubscribe page, the admin,
# an error, a page for an editor) is fetched from the site each time: no default TTL applies.
#
# The site purges by key (PURGE with an xkey-purge header, from the durable PagePurge rows),
# on the listener named "purge" only, from the addresses in the purgers ACL. Start it with
# two listeners, e.g.:  varnishd -a http=:6081 -a purge=10.0.0.5:6091 -f default.vcl -s malloc,1G
# and set FRONT_CACHE_PURGE_URLS=http://10.0.0.5:6091 on every web and worker node.

import std;
import xkey;

# One gunicorn; with several web nodes, a directors.round_robin() over one backend each.
backend default {
    .host = "127.0.0.1";
    .port = "8000";
    .connect_timeout = 1s;
    .first_byte_timeout = 30s;  # gunicorn's worker timeout (gunicorn.conf.py)
    .between_bytes_timeout = 10s;
}

# Who may purge: the web and worker nodes (a worker carries out the retried purges).
acl purgers {
    "127.0.0.1";
    "::1";
}

sub vcl_recv {
    if (req.method == "PURGE") {
        if (local.socket != "purge" || client.ip !~ purgers) {
            return (synth(403, "Forbidden"));
        }
        if (!req.http.xkey-purge) {
            return (synth(400, "No keys to purge: send them in xkey-purge"));
        }
        # A hard purge: the next request renders the page anew (a soft purge would serve the
        # stale page once more, from grace).
        set req.http.purged = xkey.purge(req.http.xkey-purge);
        return (synth(200, "Purged " + req.http.purged));
    }
    if (local.socket == "purge") {
        return (synth(405, "This listener only purges"));
    }
    # The site spells hosts in lower case (reader.page_cache): one object per host, not per spelling.
    if (req.http.Host) {
        set req.http.Host = std.tolower(req.http.Host);
    }
    if (req.method != "GET" && req.method != "HEAD") {
        return (pass);
    }
    # The newsroom, share-link previews and searches are never kept, whoever asks.
    if (req.url ~ "^/admin(/|\?|$)" || req.url ~ "^/preview/" || req.url ~ "^/search/?\?") {
        return (pass);
    }
    # Anyone with a session (an editor), a CSRF token (a form in use) or messages is served
    # by the site itself, and never fills the cache. (Django's default cookie names.)
    if (req.http.Authorization || req.http.Cookie ~ "(^|;\s*)(sessionid|csrftoken|messages)=") {
        return (pass);
    }
    # Any other cookie is no reader's business of the site's: keep pages shared.
    unset req.http.Cookie;
    return (hash);
}

sub vcl_hash {
    # A page shows its own address (canonical link, feeds): https and http are two pages.
    hash_data(req.http.X-Forwarded-Proto);
    # The built-in vcl_hash adds the URL and the host.
}

sub vcl_backend_response {
    if (beresp.status == 200 && beresp.http.xkey && beresp.http.Cache-Control ~ "s-maxage=[1-9]"
            && !beresp.http.Set-Cookie) {
        # The TTL is s-maxage (FRONT_CACHE_MAX_AGE); purges by key make pages fresh sooner.
        # Grace: if the site is down when the TTL ends, readers get the last good page for a day.
        set beresp.grace = 24h;
        return (deliver);
    }
    # Without keys and s-maxage, never kept: fetched anew for each request (hit-for-miss, so
    # a later response that may be kept still is).
    set beresp.uncacheable = true;
    set beresp.ttl = 120s;
    return (deliver);
}

sub vcl_deliver {
    # The keys are for this cache only; s-maxage too: no cache further on is purged by the site.
    unset resp.http.xkey;
    if (resp.http.Cache-Control ~ "s-maxage") {
        set resp.http.Cache-Control = regsub(resp.http.Cache-Control, ",\s*s-maxage=[0-9]+", "");
    }
    if (obj.uncacheable) {
        set resp.http.X-Cache = "pass";
    } elsif (obj.hits > 0) {
        set resp.http.X-Cache = "hit";
    } else {
        set resp.http.X-Cache = "miss";
    }
}
