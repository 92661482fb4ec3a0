"""Work that spans the apps, registered by each app (docs/architecture.md).

The apps stand in layers (networks < indicators < comparisons < learning) and import only from
below, so a job that touches every app — seeding the demo installation, exporting and importing
one network — cannot call the higher apps from here. Each app registers its own section in
`AppConfig.ready()`, and the job runs the sections in the order the apps are installed, which is
the order of the layers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .backup import ExportContext, ImportContext

DemoSection = Callable[..., None]

_demo_sections: dict[str, DemoSection] = {}


def demo_section_register(*, name: str, seed: DemoSection) -> None:
    """Register an app's part of `seed_demo`; `seed(log=...)` must be idempotent.

    Registering a name again replaces it, so a second `ready()` (as in some test runners) does
    not seed twice.
    """
    _demo_sections[name] = seed


def demo_sections() -> list[tuple[str, DemoSection]]:
    return list(_demo_sections.items())


# --- backup: one network's export and import, a section per app ---------------------------------

BackupExport = Callable[["ExportContext"], dict[str, Any]]
BackupRestore = Callable[["ImportContext"], None]


@dataclass(frozen=True)
class BackupSection:
    """An app's part of the network document (`networks.backup`).

    `export(context)` returns the document's top-level keys the app owns; `restore(context)`
    recreates them. The context carries what the sections share: the network, the people and
    objects named, the objects already recreated.
    """

    export: BackupExport
    restore: BackupRestore


_backup_sections: dict[str, BackupSection] = {}


def backup_section_register(*, name: str, export: BackupExport, restore: BackupRestore) -> None:
    """Register an app's part of the network backup; registering a name again replaces it."""
    _backup_sections[name] = BackupSection(export=export, restore=restore)


def backup_sections() -> list[tuple[str, BackupSection]]:
    """The registered sections in layer order (the order the apps' `ready()` ran in)."""
    return list(_backup_sections.items())


# --- the landing page: panels from every layer --------------------------------------------------


@dataclass(frozen=True)
class WorkspacePanel:
    """An app's part of the signed-in landing page (`networks.views.my_work`).

    `build(request)` returns the panel's template context, or None when the panel has nothing
    for this person (then it is not drawn). `order` places it: lower first. Panels must read
    what they need in a bounded number of queries: the landing page has the same query budget
    as every other page.
    """

    template: str
    build: Callable[[Any], dict[str, Any] | None]
    order: int = 100


_workspace_panels: dict[str, WorkspacePanel] = {}


def workspace_panel_register(
    *, name: str, template: str, build: Callable[[Any], dict[str, Any] | None], order: int = 100
) -> None:
    """Register an app's panel of the landing page; registering a name again replaces it."""
    _workspace_panels[name] = WorkspacePanel(template=template, build=build, order=order)


def workspace_panels(request) -> list[tuple[str, str, dict[str, Any]]]:
    """(name, template, context) of every panel that has something for this request, in order."""
    drawn = []
    for name, panel in sorted(_workspace_panels.items(), key=lambda pair: (pair[1].order, pair[0])):
        context = panel.build(request)
        if context is not None:
            drawn.append((name, panel.template, context))
    return drawn
