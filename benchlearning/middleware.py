"""Request-level guards that belong to no single app."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
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
