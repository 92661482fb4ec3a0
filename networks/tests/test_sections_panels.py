"""The landing page draws the panels the higher apps register, in order, and skips empty ones."""

from __future__ import annotations

import pytest
from django.urls import reverse

from networks import sections
from networks.tests.factories import UserFactory


@pytest.fixture
def panels(monkeypatch):
    monkeypatch.setattr(sections, "_workspace_panels", {})
    sections.workspace_panel_register(
        name="second", template="networks/tests/panel.html", build=lambda r: {"text": "Second panel"}, order=20
    )
    sections.workspace_panel_register(
        name="first", template="networks/tests/panel.html", build=lambda r: {"text": "First panel"}, order=10
    )
    sections.workspace_panel_register(name="empty", template="networks/tests/panel.html", build=lambda r: None)


@pytest.mark.django_db
def test_panels_are_drawn_in_order_and_empty_ones_skipped(panels, client, settings, tmp_path):
    (tmp_path / "networks" / "tests").mkdir(parents=True)
    (tmp_path / "networks" / "tests" / "panel.html").write_text("<p>{{ panel.text }}</p>")
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}]
    client.force_login(UserFactory())
    html = client.get(reverse("networks:my_work")).content.decode()
    assert html.index("First panel") < html.index("Second panel")
    assert 'data-panel="empty"' not in html
