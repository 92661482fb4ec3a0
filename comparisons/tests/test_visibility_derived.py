"""Figures derived from values are seen only by those who may see the values (docs: README,
"Peer groups and stored results").

Wider peer groups (`all`, kind, region, attributes, custom lists, nearest neighbours) take another
network's values only once that network's round is published and the network is public; a change
against the previous period is shown only to whoever may see the previous period's round.
"""

from __future__ import annotations

import io
import re
from types import SimpleNamespace

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.urls import reverse

from comparisons.models import PeerGroup, PeerGroupMember, RecomputeRun, Result
from comparisons.services import results_recompute
from indicators.models import Period, Round, Submission
from indicators.services.rounds import round_publish, round_unpublish
from networks.admin import NetworkAdmin
from networks.models import Network, Role
from networks.tests.factories import MembershipFactory, MunicipalityFactory, NetworkFactory, RoleFactory, UserFactory

from .dashboard_fixtures import dashboard_data
from .factories import indicator_create, submissions_create

# A value only the members of the members-only network U may see (C's, in U's round).
SECRET = 500.0


def _api_rows(client, **params) -> list[dict]:
    response = client.get(reverse("api:result_list"), {"page_size": 1000, **params})
    assert response.status_code == 200
    body = response.json()
    assert not body["next"]
    return body["results"]


def _group_figures(client, peer_group: str, period: str = "2024") -> set[tuple[int, float]]:
    """(n, max) of network T's rows in ``peer_group`` as the API gives them to ``client``."""
    rows = _api_rows(client, network="T", period=period, peer_group=peer_group, indicator="X")
    assert rows, peer_group
    return {(row["n"], row["max"]) for row in rows}


def _network_edit(world, network: Network, policy: str) -> None:
    """The publication policy changed on the coordinator's page (an administrator's here)."""
    response = world.client("admin").post(
        reverse("networks:coordination_network_edit", kwargs={"code": network.code}),
        {"code": network.code, "name": network.name, "name_en": network.name_en, "policy": policy},
    )
    assert response.status_code == 302, response.content.decode()[:2000]


@pytest.fixture
def two_networks(world):
    """T (public): A and B approved and published. U (members only): C approved, not published."""
    Network.objects.filter(pk=world.other_network.pk).update(policy=Network.Policy.MEMBERS)
    world.other_network.refresh_from_db()
    indicator_create(code="X", networks=[world.network, world.other_network])
    submissions_create(network=world.network, period="2024", values={world.a: {"X": 10}, world.b: {"X": 20}})
    submissions_create(network=world.other_network, period="2024", values={world.c: {"X": SECRET}})
    Round.objects.filter(network=world.network).update(status=Round.Status.PUBLISHED)
    Round.objects.filter(network=world.other_network).update(status=Round.Status.CLOSED)
    staff_c = UserFactory(username="staff-c")
    RoleFactory(user=staff_c, kind=Role.Kind.STAFF, municipality=world.c)
    world.users["staff_c"] = staff_c
    # A custom group across both networks: one of the wider groups drawn from `all`.
    coast = PeerGroup.objects.create(name="coast")
    for municipality in (world.a, world.b, world.c):
        PeerGroupMember.objects.create(group=coast, municipality=municipality)
    return world


# --- wider peer groups: another network's values only once published and public -------------------


@pytest.mark.parametrize("persona", ["anonymous", "staff_a", "staff_c", "outsider"])
def test_members_only_values_stay_out_of_the_wider_groups(two_networks, persona):
    world = two_networks
    results_recompute(network=world.network, period=Period.objects.get(label="2024"))
    client = world.client(persona)
    for group in ("all", "kind", "region", "custom:coast"):
        assert _group_figures(client, group) == {(2, 20.0)}, group
    # The network's own group is as it always was.
    assert _group_figures(client, "network") == {(2, 20.0)}
    assert SECRET not in {row["max"] for row in _api_rows(client, network="T")}


def test_publishing_the_other_round_brings_its_values_in_and_unpublishing_takes_them_out(
    two_networks, django_capture_on_commit_callbacks
):
    world = two_networks
    results_recompute(network=world.network, period=Period.objects.get(label="2024"))
    anonymous = world.client("anonymous")
    with django_capture_on_commit_callbacks(execute=True):
        _network_edit(world, world.other_network, Network.Policy.PUBLIC)
    # Public now, but its round is not published: still out.
    assert _group_figures(anonymous, "all") == {(2, 20.0)}

    u_round = Round.objects.get(network=world.other_network)
    with django_capture_on_commit_callbacks(execute=True):
        round_publish(round=u_round, user=world.users["admin"])
    assert _group_figures(anonymous, "all") == {(3, SECRET)}
    assert _group_figures(anonymous, "custom:coast") == {(3, SECRET)}

    with django_capture_on_commit_callbacks(execute=True):
        round_unpublish(round=u_round, reason="a mistake in Cēsis", user=world.users["admin"])
    assert _group_figures(anonymous, "all") == {(2, 20.0)}
    assert _group_figures(anonymous, "custom:coast") == {(2, 20.0)}


def test_a_publication_policy_change_recomputes_the_other_networks(two_networks, django_capture_on_commit_callbacks):
    world = two_networks
    Round.objects.filter(network=world.other_network).update(status=Round.Status.PUBLISHED)
    results_recompute(network=world.network, period=Period.objects.get(label="2024"))
    anonymous = world.client("anonymous")
    # Published, but for U's members only.
    assert _group_figures(anonymous, "all") == {(2, 20.0)}

    runs = RecomputeRun.objects.filter(network=world.network).count()
    with django_capture_on_commit_callbacks(execute=True):
        _network_edit(world, world.other_network, Network.Policy.PUBLIC)
    assert RecomputeRun.objects.filter(network=world.network, status=RecomputeRun.Status.DONE).count() == runs + 1
    assert _group_figures(anonymous, "all") == {(3, SECRET)}

    with django_capture_on_commit_callbacks(execute=True):
        _network_edit(world, world.other_network, Network.Policy.MEMBERS)
    assert _group_figures(anonymous, "all") == {(2, 20.0)}


def test_the_import_and_the_admin_tell_of_a_policy_change_too(
    two_networks, tmp_path, rf, django_capture_on_commit_callbacks
):
    world = two_networks
    Round.objects.filter(network=world.other_network).update(status=Round.Status.PUBLISHED)
    results_recompute(network=world.network, period=Period.objects.get(label="2024"))
    anonymous = world.client("anonymous")
    networks = tmp_path / "networks.csv"
    networks.write_text("code,name,public\nU,Tīkls U,yes\n", encoding="utf-8")
    with django_capture_on_commit_callbacks(execute=True):
        call_command("import_networks", str(networks), stdout=io.StringIO())
    assert _group_figures(anonymous, "all") == {(3, SECRET)}
    # Re-importing the same file changes no policy and asks for no recompute.
    runs = RecomputeRun.objects.count()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        call_command("import_networks", str(networks), stdout=io.StringIO())
    assert RecomputeRun.objects.count() == runs and not callbacks

    network = Network.objects.get(pk=world.other_network.pk)
    network.policy = Network.Policy.MEMBERS
    request = rf.post("/")
    request.user = world.users["admin"]
    form = SimpleNamespace(changed_data=["policy"])
    with django_capture_on_commit_callbacks(execute=True):
        NetworkAdmin(Network, admin.site).save_model(request, network, form, change=True)
    assert _group_figures(anonymous, "all") == {(2, 20.0)}


def test_only_values_allowed_in_take_part_in_choosing_a_municipalitys_value(world):
    """C reports X in U (members only, unpublished, its newest submission) and in V (public,
    published): T's wider groups take V's value — the newest allowed, not the newest of all."""
    Network.objects.filter(pk=world.other_network.pk).update(policy=Network.Policy.MEMBERS)
    public = NetworkFactory(code="V")
    MembershipFactory(network=public, municipality=world.c)
    indicator_create(code="X", networks=[world.network, world.other_network, public])
    submissions_create(network=world.network, period="2024", values={world.a: {"X": 10}, world.b: {"X": 20}})
    submissions_create(network=public, period="2024", values={world.c: {"X": 300}})
    submissions_create(network=world.other_network, period="2024", values={world.c: {"X": SECRET}})
    Round.objects.filter(network__in=[world.network, public]).update(status=Round.Status.PUBLISHED)
    Submission.objects.filter(round__network=world.other_network).update(updated_at="2099-01-01T00:00:00Z")
    results_recompute(network=world.network, period=Period.objects.get(label="2024"))
    rows = Result.objects.filter(network=world.network, peer_group="all")
    assert {(row.n, row.max) for row in rows} == {(3, 300.0)}


def test_a_value_approved_in_an_unpublished_round_of_the_same_network_still_counts(world):
    """The computed network's own approved values enter as before (provisional for its members)."""
    indicator_create(code="X", networks=[world.network])
    submissions_create(network=world.network, period="2024", values={world.a: {"X": 10}, world.b: {"X": 20}})
    results_recompute(network=world.network, period=Period.objects.get(label="2024"))
    rows = Result.objects.filter(network=world.network, peer_group="all")
    assert {(row.n, row.max) for row in rows} == {(2, 20.0)}


def test_nearest_neighbours_are_chosen_among_values_allowed_in(world, settings):
    """A members-only network's municipality is nobody's neighbour, and its context is not read."""
    settings.COMPARISON_NEAREST_CONTEXT = ["POPULATION"]
    settings.COMPARISON_NEAREST_K = 1
    Network.objects.filter(pk=world.other_network.pk).update(policy=Network.Policy.MEMBERS)
    indicator_create(code="X", networks=[world.network, world.other_network])
    near_b = MunicipalityFactory(code="LVN000009")
    MembershipFactory(network=world.network, municipality=near_b)
    submissions_create(
        network=world.network,
        period="2024",
        values={
            world.a: {"X": 10, "POPULATION": 1000},
            world.b: {"X": 20, "POPULATION": 5000},
            near_b: {"X": 30, "POPULATION": 9000},
        },
    )
    # C is closest to A by population, but only U's members may see C's figures.
    submissions_create(network=world.other_network, period="2024", values={world.c: {"X": SECRET, "POPULATION": 1001}})
    results_recompute(network=world.network, period=Period.objects.get(label="2024"))
    row = Result.objects.get(network=world.network, peer_group="nearest:1", municipality=world.a, indicator__code="X")
    assert (row.n, row.max) == (2, 20.0)


# --- a change against a withdrawn previous period -----------------------------------------------------

CHANGE_FIELDS = ("previous_value", "change_abs", "change_rel", "improved")


@pytest.fixture
def withdrawn(world, django_capture_on_commit_callbacks):
    """The dashboards' data (2023 and 2024 published, 2025 provisional), then 2023 withdrawn."""
    data = dashboard_data(world)
    with django_capture_on_commit_callbacks(execute=True):
        round_unpublish(
            round=data.rounds["2023"], reason="an error in the 2023 figures", user=world.users["coordinator"]
        )
    return data


def _english(client, url: str, **params) -> str:
    response = client.get(url, params, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    return response.content.decode()


def _performers(html: str, kind: str) -> list[str]:
    """The municipality codes of one list of "learn from the best" (`best` or `improved`)."""
    block = html.split(f"performers-{kind}")[1].split("</ol>")[0]
    return re.findall(r'data-municipality="([^"]+)"', block)


def _change_cells(html: str, table_id: str, column: int) -> list[str]:
    table = html.split(f'id="{table_id}"')[1].split("</table>")[0]
    body = table.split("<tbody")[1]
    return [re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)[column].strip() for row in body.split("</tr>")[:-1]]


@pytest.mark.parametrize("persona", ["anonymous", "outsider"])
def test_the_api_hides_the_change_against_a_withdrawn_period(world, withdrawn, persona):
    rows = _api_rows(world.client(persona), network="T", period="2024")
    assert rows
    for row in rows:
        assert {name: row[name] for name in CHANGE_FIELDS} == dict.fromkeys(CHANGE_FIELDS), row
        assert row["value"] is not None
    assert "2023" not in {row["period"] for row in _api_rows(world.client(persona), network="T")}
    # 2025 is not visible to them; 2024's own figures still are.
    assert {row["period"] for row in _api_rows(world.client(persona), network="T")} == {"2024"}


@pytest.mark.parametrize("persona", ["viewer_a", "staff_b", "coordinator", "admin"])
def test_members_still_see_the_change_against_the_provisional_period(world, withdrawn, persona):
    rows = _api_rows(world.client(persona), network="T", period="2024", indicator="SOC", municipality=world.a.code)
    assert [(row["previous_value"], row["change_abs"], row["improved"]) for row in rows] == [(20.0, 10.0, True)]


def test_the_api_keeps_the_change_of_published_periods(world, withdrawn):
    """2025 against a published 2024 is fine for members; and once 2023 is published again,
    everyone sees 2024's change."""
    rows = _api_rows(world.client("anonymous"), network="T", period="2024", indicator="SOC")
    assert {row["previous_value"] for row in rows} == {None}
    Round.objects.filter(pk=withdrawn.rounds["2023"].pk).update(status=Round.Status.PUBLISHED)
    rows = _api_rows(world.client("anonymous"), network="T", period="2024", indicator="SOC", municipality=world.a.code)
    assert [(row["previous_value"], row["improved"]) for row in rows] == [(20.0, True)]


def test_the_profile_and_report_hide_the_change_from_the_public(world, withdrawn):
    for name in ("profile", "report"):
        url = reverse(f"comparisons:{name}", kwargs={"network": "T", "code": world.a.code})
        public = _english(world.client("anonymous"), url, period="2024")
        cells = _change_cells(public, "table-indicators", 5)
        assert cells and set(cells) == {"—"}, name
        # The legend explains the words; no row says them.
        rows_only = re.sub(r'<aside class="dashboard-legend.*?</aside>', "", public, flags=re.S)
        assert "improving" not in rows_only and "worsening" not in rows_only
        assert "2023: 20.0" not in public  # the sparkline's text: only visible periods
        assert "are not shown" in public  # the page says why
        member = _english(world.client("viewer_a"), url, period="2024")
        assert "↑ improving" in _change_cells(member, "table-indicators", 5)
        assert "are not shown" not in member


def test_the_indicator_page_hides_the_change_and_the_most_improved_from_the_public(world, withdrawn):
    url = reverse("comparisons:indicator", kwargs={"network": "T", "indicator": "SOC"})
    public = _english(world.client("anonymous"), url, period="2024")
    assert set(_change_cells(public, "table-ranking", 5)) == {"—"}
    # "Learn from the best": the top performers stay, the most improved (against 2023) go.
    assert _performers(public, "best") == [withdrawn.municipalities[k].code for k in "dea"]
    assert _performers(public, "improved") == []
    # The chart's series: only the periods the visitor may see.
    assert '"2023"' not in public
    member = _english(world.client("viewer_a"), url, period="2024")
    assert "↑ improving" in _change_cells(member, "table-ranking", 5)
    assert _performers(member, "improved") == [withdrawn.municipalities[k].code for k in "ad"]


def test_the_table_download_hides_the_change_from_the_public(world, withdrawn):
    url = reverse("comparisons:profile", kwargs={"network": "T", "code": world.a.code})
    response = world.client("anonymous").get(
        url, {"period": "2024", "export": "indicators", "format": "csv"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 200
    lines = response.content.decode("utf-8-sig").splitlines()
    change = lines[0].split(",").index("Change")
    assert {line.split(",")[change] for line in lines[1:]} <= {"", "—"}


def test_the_overview_and_map_show_no_withdrawn_period(world, withdrawn):
    for name in ("overview", "map"):
        public = _english(world.client("anonymous"), reverse(f"comparisons:{name}", kwargs={"network": "T"}))
        assert '<option value="2023"' not in public
        assert '<option value="2024" selected>' in public
