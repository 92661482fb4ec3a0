"""Path converters shared by every app's URLs (registered in `NetworksConfig.ready`)."""

from __future__ import annotations


class IdConverter:
    """`<id:pk>`: a database id, at most 18 digits (bigint ends at 9 223 372 036 854 775 807).

    A longer number is no match (404) before any view sees it, so no id from an address can
    overflow a column, whatever a view does with it. Django's `<int:…>` takes any length.
    """

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)
