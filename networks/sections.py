"""Work that spans the apps, registered by each app (docs/architecture.md).

The apps stand in layers (networks < indicators < comparisons < learning) and import only from
below, so a job that touches every app — seeding the demo installation — cannot call the higher
apps from here. Each app registers its own section in `AppConfig.ready()`, and the job runs the
sections in the order the apps are installed, which is the order of the layers.
"""

from __future__ import annotations

from collections.abc import Callable

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
