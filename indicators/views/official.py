"""Official statistics from the coordinator workspace: upload a downloaded table, choose the item
and the other dimensions, see what the import would do, then confirm (docs/official.md).

The preview is `official_import` with `dry_run=True` and the confirmation the same call without
it: one implementation for the command and the page. Between the two, the uploaded file waits
under MEDIA_ROOT/tmp/official/ with a random name that only the uploader's session knows; it is
deleted on confirmation, replaced by the next upload, and files older than a day are removed.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from networks import permissions
from networks.errors import PortalError
from networks.models import Municipality, Network
from networks.tabular import ImportFailed
from networks.views_coordination import network_for_coordinator

from ..models import DataItem, MissingStatus
from ..services.official import OfficialReport, official_choices, official_import
from ..services.official_tables import table_read
from ..services.reform import reform_after_import

SESSION_KEY = "official_upload_{pk}"
SUFFIXES = (".csv", ".xlsx", ".json", ".px")
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
KEEP_SECONDS = 24 * 3600


def upload_dir() -> Path:
    return Path(settings.MEDIA_ROOT) / "tmp" / "official"


def importable_items(user, network: Network) -> list[DataItem]:
    """The data items the network uses (in its indicator set or as context figures) that the user
    may import official values of (`can_import_official`: the item's owner)."""
    items = list(
        DataItem.objects.filter(Q(indicators__networks=network) | Q(networks=network)).distinct().order_by("code")
    )
    users: dict[int, set[int]] = {item.pk: set() for item in items}
    for item_id, network_id in DataItem.objects.filter(pk__in=users, networks__isnull=False).values_list(
        "pk", "networks"
    ):
        users[item_id].add(network_id)
    for item_id, network_id in DataItem.objects.filter(pk__in=users, indicators__networks__isnull=False).values_list(
        "pk", "indicators__networks"
    ):
        users[item_id].add(network_id)
    return [item for item in items if permissions.can_import_official(user, users[item.pk])]


class OfficialUploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Downloaded table"),
        help_text=gettext_lazy(
            "As downloaded from the statistics database: CSV, XLSX, JSON (JSON-stat or PxWeb) or PC-Axis (.px); "
            "at most 10 MB."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(SUFFIXES)}),
    )
    item = forms.ChoiceField(label=gettext_lazy("Data item"))

    def __init__(self, *args, items: list[DataItem], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["item"].choices = [(item.code, f"{item.code} · {item.display_name}") for item in items]

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if Path(upload.name).suffix.lower() not in SUFFIXES:
            raise forms.ValidationError(
                _("This kind of file cannot be read: upload the table as CSV, XLSX, JSON or PC-Axis (.px).")
            )
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(max)d MB.") % {"max": MAX_UPLOAD_BYTES // (1024 * 1024)}
            )
        return upload


@dataclass
class Choice:
    """A dimension to fix: its code, name, values (code, label) and the chosen code."""

    code: str
    name: str
    values: list[tuple[str, str]]
    chosen: str


def _store(request: HttpRequest, network: Network, upload, item: str) -> dict:
    """Keep the uploaded file for the confirmation; the session knows it by a random token."""
    folder = upload_dir()
    folder.mkdir(parents=True, exist_ok=True)
    _forget(request, network)
    now = time.time()
    for old in folder.iterdir():
        try:
            if now - old.stat().st_mtime > KEEP_SECONDS:
                old.unlink()
        except OSError:
            continue
    token = secrets.token_hex(16)
    suffix = Path(upload.name).suffix.lower()
    with open(folder / f"{token}{suffix}", "wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    stored = {"token": token, "suffix": suffix, "name": Path(upload.name).name[:200], "item": item}
    request.session[SESSION_KEY.format(pk=network.pk)] = stored
    return stored


def _stored_path(stored: dict) -> Path | None:
    token, suffix = str(stored.get("token", "")), str(stored.get("suffix", ""))
    if len(token) != 32 or not all(ch in "0123456789abcdef" for ch in token) or suffix not in SUFFIXES:
        return None
    path = upload_dir() / f"{token}{suffix}"
    return path if path.is_file() else None


def _forget(request: HttpRequest, network: Network) -> None:
    stored = request.session.pop(SESSION_KEY.format(pk=network.pk), None)
    path = _stored_path(stored) if isinstance(stored, dict) else None
    if path is not None:
        path.unlink(missing_ok=True)


def _choices(request: HttpRequest, path: Path, name: str) -> list[Choice]:
    """The dimensions to fix, with what the request chose (`select:CODE` fields)."""
    table = table_read(path, name=name)
    result = []
    for dimension in official_choices(table):
        values = [(c.code, c.label.strip() or c.code) for c in dimension.categories]
        chosen = request.POST.get(f"select:{dimension.code}", "")
        result.append(Choice(dimension.code, dimension.name, values, chosen if chosen in dict(values) else ""))
    return result


def _selections(choices: list[Choice]) -> list[str]:
    return [f"{choice.code}={choice.chosen}" for choice in choices if choice.chosen]


def _report_context(report: OfficialReport) -> dict:
    """The report in the page's words: municipalities by name, the markers with their meaning."""
    ids = {row.municipality_id for row in report.areas if row.municipality_id}
    ids |= {change.municipality_id for changes in report.examples.values() for change in changes}
    names = {m.pk: m for m in Municipality.objects.filter(pk__in=ids)}
    matched = [(row.label, names.get(row.municipality_id)) for row in report.areas if row.municipality_id]
    skipped = [row for row in report.areas if not row.municipality_id]
    labels = {"created": _("New"), "updated": _("Changed"), "unchanged": _("Unchanged")}
    source_only = _("the same figure; its recorded source changes")
    examples = [
        (
            labels[kind],
            [
                (names.get(c.municipality_id), c.period, c.before, c.after, source_only if _same(c) else "")
                for c in report.examples[kind]
            ],
        )
        for kind in ("created", "updated", "unchanged")
        if report.examples.get(kind)
    ]
    markers = [(marker, MissingStatus(marker).label, count) for marker, count in report.markers.items()]
    return {"report": report, "matched": matched, "skipped": skipped, "examples": examples, "markers": markers}


def _same(change) -> bool:
    return change.kind == "updated" and change.before == change.after


def _render(request: HttpRequest, network: Network, context: dict, status: int = 200) -> HttpResponse:
    context.setdefault("network", network)
    context.setdefault("legend", [(s.value, s.label) for s in MissingStatus])
    return render(request, "indicators/coordination/official_upload.html", context, status=status)


@login_required
def official_upload(request: HttpRequest, code: str) -> HttpResponse:
    """GET: the upload form. POST with a file: keep it and preview; POST without one: preview the
    kept file again with the dimensions chosen."""
    network = network_for_coordinator(request, code)
    items = importable_items(request.user, network)
    if request.method != "POST":
        return _render(request, network, {"form": OfficialUploadForm(items=items)})
    stored = request.session.get(SESSION_KEY.format(pk=network.pk))
    if request.FILES or not isinstance(stored, dict):
        form = OfficialUploadForm(request.POST, request.FILES, items=items)
        if not form.is_valid():
            return _render(request, network, {"form": form}, status=400)
        stored = _store(request, network, form.cleaned_data["file"], form.cleaned_data["item"])
    elif request.POST.get("item") and request.POST["item"] in {item.code for item in items}:
        stored["item"] = request.POST["item"]
        request.session.modified = True
    return _preview(request, network, items, stored)


def _preview(request: HttpRequest, network: Network, items: list[DataItem], stored: dict) -> HttpResponse:
    form = OfficialUploadForm(items=items, initial={"item": stored.get("item")})
    path = _stored_path(stored)
    context: dict = {"form": form, "stored": stored}
    if path is None:
        context["problems"] = [_("The uploaded file is no longer here: upload it again.")]
        return _render(request, network, context, status=400)
    if stored.get("item") not in {item.code for item in items}:
        context["problems"] = [_("Choose a data item you may import.")]
        return _render(request, network, context, status=400)
    try:
        choices = _choices(request, path, stored["name"])
        context["choices"] = choices
        if any(not choice.chosen for choice in choices):
            return _render(request, network, context)
        report = official_import(
            path, item_code=stored["item"], selections=_selections(choices), dry_run=True, name=stored["name"]
        )
    except ImportFailed as failure:
        context["problems"] = [str(error) for error in failure.errors]
        return _render(request, network, context, status=400)
    except PortalError as refusal:
        context["problems"] = [str(refusal)]
        return _render(request, network, context, status=400)
    context.update(_report_context(report))
    context["may_confirm"] = True
    return _render(request, network, context)


@require_POST
@login_required
def official_confirm(request: HttpRequest, code: str) -> HttpResponse:
    """Import the previewed file for real (all or nothing), then forget it."""
    network = network_for_coordinator(request, code)
    items = importable_items(request.user, network)
    stored = request.session.get(SESSION_KEY.format(pk=network.pk))
    path = _stored_path(stored) if isinstance(stored, dict) else None
    if path is None or stored.get("item") not in {item.code for item in items}:
        messages.error(request, _("There is no previewed table to import: upload it again."))
        return redirect("indicators:official_upload", code=network.code)
    try:
        choices = _choices(request, path, stored["name"])
        report = official_import(
            path, item_code=stored["item"], selections=_selections(choices), user=request.user, name=stored["name"]
        )
    except (ImportFailed, PortalError):
        # The preview said what is wrong; show it again (nothing was written).
        return _preview(request, network, items, stored)
    _forget(request, network)
    # As the command: the predecessors' figures of an additive item reach their successors.
    reconstructed = reform_after_import(item_codes=[stored["item"]], user=request.user)
    messages.success(
        request,
        _(
            "Imported %(table)s as %(item)s: %(created)d new, %(updated)d changed, %(unchanged)d unchanged values; "
            "%(skipped)d areas skipped."
        )
        % {
            "table": report.table,
            "item": report.item,
            "created": report.created,
            "updated": report.updated,
            "unchanged": report.unchanged,
            "skipped": report.areas_skipped,
        },
    )
    if reconstructed:
        messages.info(request, reconstructed)
    for warning in report.warnings:
        messages.warning(request, warning)
    return redirect("networks:coordination_network", code=network.code)
