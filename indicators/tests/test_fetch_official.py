"""fetch_official (docs/official.md): a PxWeb query POSTed, or a v2 address fetched, from a local
HTTP server in a thread that serves the real files of `data/csb/` — no network."""

from __future__ import annotations

import io
import json
import threading
import time
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from indicators.models import Value
from indicators.tests.test_import_official import IRS031, IRS050, snapshot, value
from indicators.tests.test_import_official import portal as portal

DATA = Path(__file__).parent / "data" / "csb"
# path -> (status, content type, file or bytes)
ROUTES = {
    "/api/v1/en/OSP_PUB/START/POP/IR/IRS/IRS050": (200, "application/json", IRS050),
    "/api/v2/tables/IRS031/data": (200, "text/csv", IRS031),
    "/api/v2/tables/TRS020/data": (200, "application/json", DATA / "handmade_TRS020_jsonstat2.json"),
    "/api/v2/tables/IRS031PX/data": (200, "application/octet-stream", DATA / "handmade_IRS031.px"),
    "/api/v2/tables/MISSING/data": (404, "application/json", b'{"error": "table MISSING not found"}'),
    "/api/v2/tables/BROKEN/data": (500, "text/plain", b"internal error"),
    "/api/v2/tables/PAGE/data": (200, "text/html", b"<html><body><h1>Welcome</h1></body></html>"),
    "/api/v2/tables/GONE/data": (
        410,
        "text/html",
        b"<html><head><style>body { color: red }</style><title>Table withdrawn</title></head><body>x</body></html>",
    ),
    "/api/v2/tables/EMPTY/data": (200, "application/json", b'{"note": "no table here"}'),
}


class Handler(BaseHTTPRequestHandler):
    posted: list[tuple[str, dict]] = []

    def _answer(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/slow":
            time.sleep(2)
        status, kind, body = ROUTES.get(path, (404, "text/plain", b"not found"))
        content = body.read_bytes() if isinstance(body, Path) else body
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        Handler.posted.append((self.headers.get("Content-Type"), json.loads(self.rfile.read(length))))
        self._answer()

    def log_message(self, *args) -> None:  # quiet
        pass


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    Handler.posted.clear()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def fetch(url: str, item: str, *args: str) -> str:
    out = io.StringIO()
    call_command("fetch_official", url, "--item", item, *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def failing(url: str, *args: str) -> str:
    with pytest.raises(CommandError) as failure:
        call_command("fetch_official", url, *args, stdout=io.StringIO(), stderr=io.StringIO())
    assert "nothing was imported" in str(failure.value)
    return str(failure.value)


def test_pxweb_v1_query_is_posted_and_the_answer_imported(portal, server, tmp_path):
    query = {
        "query": [{"code": "AREA", "selection": {"filter": "item", "values": ["LV0010000"]}}],
        "response": {"format": "json"},
    }
    file = tmp_path / "query.json"
    file.write_text(json.dumps(query), encoding="utf-8")
    out = fetch(f"{server}/api/v1/en/OSP_PUB/START/POP/IR/IRS/IRS050", "POPULATION", "--query", str(file))
    assert "9 created" in out
    assert Handler.posted == [("application/json", query)]
    riga = value("LV0010000", "2022")
    assert riga.number == 605802  # as in the file
    assert "IRS050" in riga.explanation
    # Fetching again changes nothing.
    before = snapshot()
    assert "0 created, 0 updated, 9 unchanged" in fetch(
        f"{server}/api/v1/en/OSP_PUB/START/POP/IR/IRS/IRS050", "POPULATION", "--query", str(file)
    )
    assert snapshot() == before


def test_pxweb_v2_get_csv_jsonstat_and_px_answers(portal, server):
    out = fetch(f"{server}/api/v2/tables/IRS031/data?lang=en&outputFormat=csv", "POPULATION")
    assert "504 created" in out
    assert value("LV0020000", "2020").number == Decimal(29558)
    assert "IRS031" in value("LV0020000", "2020").explanation
    out = fetch(
        f"{server}/api/v2/tables/TRS020/data?outputFormat=json-stat2", "ROADS_KM", "--select", "INDICATOR=Total"
    )
    assert "6 created" in out
    assert value("LV0020000", "2023", "ROADS_KM").missing_status == "…"
    out = fetch(f"{server}/api/v2/tables/IRS031PX/data?outputFormat=px", "POPULATION", "--dry-run")
    assert "dry run" in out and Handler.posted == []


def test_http_errors_timeouts_and_non_tables_are_clear_errors(portal, server, tmp_path):
    before = snapshot()
    assert "HTTP 404" in failing(f"{server}/api/v2/tables/MISSING/data", "--item", "POPULATION")
    assert "table MISSING not found" in failing(f"{server}/api/v2/tables/MISSING/data", "--item", "POPULATION")
    gone = failing(f"{server}/api/v2/tables/GONE/data", "--item", "POPULATION")
    assert "HTTP 410 Gone: Table withdrawn;" in gone and "color" not in gone
    assert "HTTP 500" in failing(f"{server}/api/v2/tables/BROKEN/data", "--item", "POPULATION")
    assert "web page, not a table" in failing(f"{server}/api/v2/tables/PAGE/data", "--item", "POPULATION")
    assert "problem" in failing(f"{server}/api/v2/tables/EMPTY/data", "--item", "POPULATION")
    assert "no answer within 0.5 seconds" in failing(f"{server}/slow", "--item", "POPULATION", "--timeout", "0.5")
    assert "not an http" in failing("file:///etc/passwd", "--item", "POPULATION")
    assert "cannot reach" in failing("http://127.0.0.1:1/IRS031", "--item", "POPULATION")
    bad = tmp_path / "query.json"
    bad.write_text('{"query": [', encoding="utf-8")
    assert "is not JSON" in failing(f"{server}/x", "--item", "POPULATION", "--query", str(bad))
    bad.write_text('{"table": "IRS031"}', encoding="utf-8")
    assert "not a PxWeb query" in failing(f"{server}/x", "--item", "POPULATION", "--query", str(bad))
    assert snapshot() == before
    assert not Value.objects.exists()
