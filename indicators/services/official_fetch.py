"""`fetch_official`: ask a statistics database (PxWeb) for a table and import the answer.

A PxWeb v1 query (the JSON the database's "Make this table available in your application" shows:
`{"query": [...], "response": {"format": "json-stat2"}}`) is POSTed to the table's URL; without
a query, the URL is a PxWeb v2 address (`…/api/v2/tables/IRS031/data?lang=en&outputFormat=csv`)
and is fetched with GET. The answer is then read as any downloaded file (`official_tables`:
JSON-stat 2.0 or 1.x, PxWeb `json`, CSV, XLSX, PC-Axis) and imported by `official_import`
(docs/official.md). Installations without internet keep using downloaded files.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from django.utils.translation import gettext as _

from .official import OfficialError
from .official_tables import MAX_FILE_BYTES, table_code

DEFAULT_TIMEOUT = 60.0
USER_AGENT = "benchlearning-portal (fetch_official)"


@dataclass(frozen=True)
class Answer:
    content: bytes
    name: str  # a file name for the answer: the table code and the format's suffix


def read_query(path: Path) -> bytes:
    """The PxWeb v1 query in FILE, checked to be a JSON object; the bytes to POST."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise OfficialError(_("cannot read the query %(file)s: %(error)s") % {"file": path, "error": exc}) from exc
    try:
        query = json.loads(text)
    except json.JSONDecodeError as exc:
        raise OfficialError(
            _("the query %(file)s is not JSON (line %(line)d: %(error)s)")
            % {"file": path, "line": exc.lineno, "error": exc.msg}
        ) from exc
    if not isinstance(query, dict) or not isinstance(query.get("query"), list):
        raise OfficialError(
            _('the query %(file)s is not a PxWeb query: a JSON object with a "query" list is expected') % {"file": path}
        )
    return json.dumps(query).encode()


def fetch(url: str, *, query: bytes | None = None, timeout: float = DEFAULT_TIMEOUT) -> Answer:
    """POST `query` to `url` (PxWeb v1), or GET `url` (PxWeb v2); the answer's bytes and a name.

    Raises OfficialError for an address that is not http(s), an HTTP error, a timeout, a network
    failure, or an answer larger than the files `import_official` reads.
    """
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise OfficialError(_("%(url)s is not an http:// or https:// address") % {"url": repr(url)})
    headers = {"User-Agent": USER_AGENT, "Accept": "*/*"}
    if query is not None:
        headers["Content-Type"] = "application/json"
    # Only http(s) addresses reach urllib (the scheme is checked above), never file:// or others.
    method = "POST" if query is not None else "GET"
    request = urllib.request.Request(url, data=query, headers=headers, method=method)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310  # nosec B310
            content = response.read(MAX_FILE_BYTES + 1)
            content_type = response.headers.get_content_type()
    except urllib.error.HTTPError as exc:
        detail = _snippet(exc.read(2000) if exc.fp else b"")
        raise OfficialError(
            _("the database answered HTTP %(code)d %(reason)s%(detail)s")
            % {"code": exc.code, "reason": exc.reason, "detail": f": {detail}" if detail else ""}
        ) from None
    except TimeoutError:
        raise OfficialError(_("no answer within %(seconds)g seconds") % {"seconds": timeout}) from None
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError):
            raise OfficialError(_("no answer within %(seconds)g seconds") % {"seconds": timeout}) from None
        raise OfficialError(_("cannot reach %(url)s: %(error)s") % {"url": url, "error": exc.reason}) from None
    except (OSError, ValueError) as exc:  # a connection reset, a malformed answer
        raise OfficialError(_("cannot reach %(url)s: %(error)s") % {"url": url, "error": exc}) from None
    if len(content) > MAX_FILE_BYTES:
        raise OfficialError(_("the answer is larger than %(max)d MB") % {"max": MAX_FILE_BYTES // (1024 * 1024)})
    if content_type == "text/html" or content.lstrip()[:1] == b"<":
        raise OfficialError(
            _("the answer is a web page, not a table: %(text)s (is the address the table's API address?)")
            % {"text": _snippet(content)}
        )
    return Answer(content, _name(parts.path, content, content_type))


def _name(path: str, content: bytes, content_type: str) -> str:
    """A file name for the answer: the table code from the address, the suffix from the content."""
    code = ""
    for segment in reversed([s for s in path.split("/") if s]):
        code = table_code(urllib.parse.unquote(segment))
        if code:
            break
    stripped = content.lstrip(b"\xef\xbb\xbf \t\r\n")
    if content[:4] == b"PK\x03\x04":
        suffix = ".xlsx"
    elif stripped[:1] in (b"{", b"[") or content_type.endswith("json"):
        suffix = ".json"
    elif re.match(rb"(CHARSET|AXIS-VERSION|CODEPAGE|LANGUAGE|MATRIX)\s*=", stripped):
        suffix = ".px"
    else:
        suffix = ".csv"
    return f"{code or 'answer'}{suffix}"


def _snippet(content: bytes) -> str:
    """The start of an answer in words: a web page's title, else its text without markup."""
    text = content.decode("utf-8", "replace")
    title = re.search(r"<title[^>]*>(.*?)</title>", text, re.IGNORECASE | re.DOTALL)
    if title and title.group(1).strip():
        text = title.group(1)
    else:
        text = re.sub(r"<(style|script)\b.*?</\1\s*>", " ", text, flags=re.IGNORECASE | re.DOTALL)
    text = re.sub(r"<[^>]*>", " ", text)
    return " ".join(text.split())[:200]
