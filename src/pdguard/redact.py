"""The one place URLs are made safe to show: log lines, error messages, CLI output.

:func:`redact_url` removes what can be a credential in a URL:

* userinfo (``https://user:password@host`` → ``https://***@host``), on every scheme;
* the query string and fragment (``?token=…`` → ``?***``), on every scheme (a ``sqlite`` URL's query
  is masked too, its fragment dropped);
* path segments that may be tokens, on http(s): only short lowercase words (up to 20 letters:
  ``services``, ``hooks``, ``api``, ``v2``) are kept, anything else becomes ``***``, so Slack's
  ``/services/T0…/B0…/secret``, Discord's ``/api/webhooks/<id>/<token>`` or a random token in
  a generic receiver's path never appear. PagerDuty's API hosts keep their path and query (they
  carry no credential: the key travels in a header), so ``-v`` request logs stay useful.

Database URLs keep their path (a database name or a SQLite file path is not a secret).
:func:`redact_text` applies :func:`redact_url` to every URL inside a free text (an exception
message, a log line); :class:`pdguard.logs.Formatter` runs it over every log line.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

MASK = "***"

# Hosts whose path and query are not secret (the PagerDuty REST API: the key is a header).
PUBLIC_PATH_HOSTS = frozenset({"api.pagerduty.com", "api.eu.pagerduty.com"})

_KEEP_SEGMENT = re.compile(r"^(?:[a-z][a-z_.-]{0,19}|v\d{1,2})$")
_URL_IN_TEXT = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]{1,20}://[^\s\"'<>`]+")


def _redact_path(path: str) -> str:
    return "/".join(seg if (not seg or _KEEP_SEGMENT.match(seg)) else MASK for seg in path.split("/"))


def redact_url(url: str) -> str:
    """`url` without credentials: userinfo, query/fragment and (http) path tokens masked."""
    text = str(url).strip()
    try:
        parts = urlsplit(text)
    except ValueError:
        return "<url>"
    if not parts.scheme or "://" not in text:
        return text if "@" not in text and "?" not in text else "<url>"
    scheme = parts.scheme.lower()
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{MASK}@{netloc.rsplit('@', 1)[1]}"
    host = (parts.hostname or "").lower()
    if scheme.startswith("sqlite"):
        return f"{parts.scheme}://{netloc}{parts.path}" + (f"?{MASK}" if parts.query else "")
    path = parts.path
    public = host in PUBLIC_PATH_HOSTS
    if scheme in ("http", "https") and not public:
        path = _redact_path(path)
    out = f"{parts.scheme}://{netloc}{path}"
    if parts.query:
        out += f"?{parts.query}" if public else f"?{MASK}"
    if parts.fragment:
        out += f"#{MASK}"
    return out


def redact_text(text: str) -> str:
    """`text` with every URL in it passed through :func:`redact_url`."""
    if "://" not in text:
        return text
    return _URL_IN_TEXT.sub(lambda m: redact_url(m.group(0)), text)
