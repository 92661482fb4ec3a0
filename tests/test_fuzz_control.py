"""Control characters and huge numbers in every URL: never a server error.

Walks the URL conf and, for every pattern with path parameters, puts values with NUL and other
control characters into each text parameter and integers beyond any database column into each
integer parameter (the other parameters keep valid values from the permission matrix, so the
request reaches as deep into the view as it can). Every query parameter the open-data API
declares in its OpenAPI schema gets the same values. Anonymous and a signed-in coordinator send
them, as GET and as POST; the answer must be below 500 (PostgreSQL refuses a NUL in a string
parameter with an exception, so CI, which runs on PostgreSQL, is where this matters).
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.exceptions import NoReverseMatch
from django.urls.resolvers import RoutePattern
from drf_spectacular.generators import SchemaGenerator

TEXT_VALUES = ["T\x00", "\x00", "LV\x0100", "a\x1fb\x7f", "a\r\nb", "a\tb"]
# Beyond PostgreSQL's bigint (2**63 - 1) and far beyond.
HUGE_INTEGERS = [2**63, 10**30]
SENTINEL = 987654321
QUERY_VALUES = [*TEXT_VALUES, str(10**30), "-" + str(10**30)]
# Valid values for parameters of pages not in the permission matrix (POST-only pages).
FALLBACK_KWARGS = {"code": "T", "period": "2024", "action": "publish", "token": "x", "uidb64": "MQ", "fmt": "csv"}


def url_patterns(resolver=None, namespace: str = "", converters: dict | None = None):
    """(reverse name, converters of every path parameter) of every named pattern."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        found = dict(converters or {})
        found.update(getattr(entry.pattern, "converters", {}))
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from url_patterns(entry, inner, found)
        elif isinstance(entry, URLPattern) and entry.name:
            names = set(found) | set(entry.pattern.regex.groupindex)
            if names:
                yield namespace + entry.name, names, isinstance(entry.pattern, RoutePattern) and found


def valid_kwargs(world, name: str, params: set[str]) -> dict:
    from networks.tests.test_pages import PAGES

    kwargs_for = PAGES.get(name, (None, None))[0]
    kwargs = kwargs_for(world) if kwargs_for else {}
    for param in params - set(kwargs):
        kwargs[param] = FALLBACK_KWARGS.get(param, "1")
    return kwargs


def bad_urls(world):
    """Every URL pattern with one parameter replaced by a hostile value."""
    for name, params, converters in url_patterns():
        base = valid_kwargs(world, name, params)
        for param in sorted(params):
            converter = (converters or {}).get(param)
            if converter is not None and converter.regex.startswith("[0-9]"):
                # A number too long for the converter cannot be reversed: put it in by hand,
                # the way someone types it into the address bar.
                path = reverse(name, kwargs={**base, param: SENTINEL})
                yield from (path.replace(f"/{SENTINEL}", f"/{value}", 1) for value in HUGE_INTEGERS)
                continue
            for value in TEXT_VALUES:
                try:
                    yield reverse(name, kwargs={**base, param: value})
                except NoReverseMatch:
                    # The value cannot match this pattern (a regex of fixed choices in the admin):
                    # such a URL never reaches the view.
                    continue


def api_query_parameters():
    """(path, parameter name) of every query parameter in the open-data API's OpenAPI schema."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    for path, operations in schema["paths"].items():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "query":
                    yield path, parameter["name"]


def client_for(world, persona: str) -> Client:
    # Server errors come back as responses, so one run lists every failing URL.
    client = Client(raise_request_exception=False)
    user = world.users.get(persona)
    if user is not None:
        client.force_login(user)
    return client


@pytest.mark.parametrize("persona", ["anonymous", "coordinator"])
def test_control_characters_and_huge_integers_in_path_parameters_are_not_server_errors(world, persona):
    client = client_for(world, persona)
    urls = list(bad_urls(world))
    assert len(urls) > 100  # the walk found the URL conf
    failures = []
    for url in urls:
        for method in (client.get, client.post):
            status = method(url).status_code
            if status >= 500:
                failures.append(f"{method.__name__.upper()} {url} -> {status}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("persona", ["anonymous", "coordinator"])
def test_control_characters_and_huge_integers_in_api_query_parameters_are_not_server_errors(world, persona):
    client = client_for(world, persona)
    parameters = list(api_query_parameters())
    assert {name for _path, name in parameters} >= {"network", "period", "indicator", "page", "page_size"}
    failures = []
    for path, name in parameters:
        for value in QUERY_VALUES:
            status = client.get(path, {name: value}).status_code
            if status >= 500:
                failures.append(f"GET {path}?{name}={value!r} -> {status}")
    assert not failures, "\n".join(failures)
