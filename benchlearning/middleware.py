"""Request-level guards that belong to no single app."""

from __future__ import annotations

import re
from itertools import chain
from urllib.parse import unquote_plus

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.utils.translation import gettext as _


class RequestSizeLimitMiddleware:
    """Refuse a request whose declared body is larger than ``MAX_REQUEST_BYTES`` (413).

    Django keeps file uploads on disk as they stream in and the forms check each file's size
    afterwards; without this a single request could still fill the disk before any form sees
    it. The answer comes before the body is read. (A body without Content-Length is not read by
    Django at all.) The proxy in front should have the same limit (nginx ``client_max_body_size``).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        limit = settings.MAX_REQUEST_BYTES
        if declared > limit:
            message = _("The upload is too large: at most %(max)d MB can be sent at once.") % {
                "max": limit // (1024 * 1024)
            }
            return HttpResponse(message, status=413, content_type="text/plain; charset=utf-8")
        return self.get_response(request)


# C0 control characters and DEL. An address (path or query string) has no use for any of them;
# a form's text may hold tab and line ends (a textarea), nothing else.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_IN_FORM_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


class ControlCharacterMiddleware:
    """Refuse (400) a request whose path, query string or form fields hold control characters.

    PostgreSQL refuses a NUL in any text parameter with an exception, so a NUL in a code in the
    address (``/networks/T%00/``), in an API filter (``?network=T%00``) or in a form field would
    be a server error wherever it reaches a query; the other control characters are never
    meant either. One check here instead of one in every view and form.

    The query string is checked decoded (``%00`` is a NUL): decoding it whole finds what its
    decoded keys and values hold, since ``&``, ``=`` and ``+`` decode to no control character.
    Form fields are checked for POSTs of forms (urlencoded or multipart): their keys and values,
    not the contents of uploaded files (the upload's own checks read those; Django already
    removes control characters from uploaded file names). Cheap: a regular expression over the
    path, and over the query string only when it has one; the form is parsed only for a form
    POST, which CSRF checking parses anyway.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        query = request.META.get("QUERY_STRING", "")
        if (
            _CONTROL.search(request.path)
            or (query and _CONTROL.search(unquote_plus(query)))
            or (request.method == "POST" and request.content_type in _FORM_TYPES and self._form_has_control(request))
        ):
            message = _(
                "The address or a form field contains a control character (such as a NUL byte), which "
                "the portal does not accept. Remove it and try again."
            )
            return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
        return self.get_response(request)

    @staticmethod
    def _form_has_control(request: HttpRequest) -> bool:
        form = request.POST
        return (
            _CONTROL_IN_FORM_TEXT.search("".join(chain.from_iterable((key, *values) for key, values in form.lists())))
            is not None
        )
