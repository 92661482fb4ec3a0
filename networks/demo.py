"""The demo installation: the real seed data plus one account per role (idempotent)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.db import transaction

from .imports import municipalities_import, networks_import, successor_shares_import
from .models import Municipality, Network, Role
from .sections import demo_sections
from .services import role_grant, user_ensure
from .tabular import read_table

DATA_DIR = Path(settings.BASE_DIR) / "data"
DEMO_PASSWORD = "benchlearning-demo"  # noqa: S105 - the published demo password (README, demo accounts)
DEMO_MUNICIPALITY = "LV0020000"  # Aizkraukles novads, Pļaviņas' successor since the 2021 reform

SEED_FILES = (
    ("import_municipalities", DATA_DIR / "lv" / "municipalities_2021.csv"),
    ("import_municipalities", DATA_DIR / "lv" / "municipalities_2009.csv"),
    ("import_successor_shares", DATA_DIR / "lv" / "successor_shares_2021.csv"),
    ("import_networks", DATA_DIR / "networks.csv"),
)


def reference_data_seed(*, log: Callable[[str], object] = lambda _msg: None) -> None:
    """The real municipalities (2021 and 2009 with successors) and the four networks."""
    services = {
        "import_municipalities": municipalities_import,
        "import_successor_shares": successor_shares_import,
        "import_networks": networks_import,
    }
    for service_name, path in SEED_FILES:
        report = services[service_name](table=read_table(path))
        log(f"{path.relative_to(settings.BASE_DIR)}: {report}")


@transaction.atomic
def demo_seed(*, log: Callable[[str], object] = lambda _msg: None) -> list[tuple[str, str]]:
    reference_data_seed(log=log)
    home = Municipality.objects.get(code=DEMO_MUNICIPALITY)
    user_ensure(username="demo-admin", password=DEMO_PASSWORD, email="admin@demo.invalid", is_superuser=True)
    coordinator = user_ensure(username="demo-coordinator", password=DEMO_PASSWORD, email="coordinator@demo.invalid")
    staff = user_ensure(username="demo-staff", password=DEMO_PASSWORD, email="staff@demo.invalid")
    viewer = user_ensure(username="demo-viewer", password=DEMO_PASSWORD, email="viewer@demo.invalid")
    for network in Network.objects.all():
        role_grant(user=coordinator, kind=Role.Kind.COORDINATOR, network=network)
    role_grant(user=staff, kind=Role.Kind.STAFF, municipality=home)
    role_grant(user=viewer, kind=Role.Kind.VIEWER, municipality=home)
    # The higher apps' parts (the indicators app's catalogue, rounds and figures), in layer order.
    for _name, seed in demo_sections():
        seed(log=log)
    return [
        ("demo-admin", "administrator"),
        ("demo-coordinator", "coordinator of every demo network"),
        ("demo-staff", f"staff of {home.name}"),
        ("demo-viewer", f"viewer of {home.name}"),
    ]
