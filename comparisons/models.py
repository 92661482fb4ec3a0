"""Stored results of the comparison engine, the runs that write them, and custom peer groups.

Pages, charts, exports and the API only read `Result`, `CompositeResult` and `Neighbour`; the
engine's service (`services.results_recompute`) is the only writer. One network/period is a
*scope*: its rows are replaced in one transaction, so a reader never sees half a run.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from indicators.models import Indicator, Period
from networks.models import Municipality, Network


class PeerGroup(models.Model):
    """A saved custom list of municipalities (`custom:NAME`), imported with `import_peer_groups`."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    municipalities = models.ManyToManyField(
        Municipality, verbose_name=_("municipalities"), through="PeerGroupMember", related_name="peer_groups"
    )

    class Meta:
        verbose_name = _("custom peer group")
        verbose_name_plural = _("custom peer groups")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class PeerGroupMember(models.Model):
    group = models.ForeignKey(PeerGroup, on_delete=models.CASCADE, related_name="members")
    municipality = models.ForeignKey(Municipality, on_delete=models.CASCADE, related_name="+")

    class Meta:
        verbose_name = _("peer group member")
        verbose_name_plural = _("peer group members")
        constraints = [models.UniqueConstraint(fields=["group", "municipality"], name="peergroupmember_unique")]

    def __str__(self) -> str:
        return f"{self.group}: {self.municipality_id}"


class RecomputeRun(models.Model):
    """One recompute of one scope (network/period), possibly limited to some indicators.

    Requests for a scope that already has a *pending* run are merged into it (coalescing); a
    pending run whose scope is being computed waits for the running one (see `ScopeLock`).
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("waiting")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    network = models.ForeignKey(Network, verbose_name=_("network"), on_delete=models.CASCADE, related_name="+")
    period = models.ForeignKey(Period, verbose_name=_("period"), on_delete=models.CASCADE, related_name="+")
    # Ids of the indicators to recompute; null: the network's whole indicator set.
    indicator_ids = models.JSONField(_("indicators"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=100, blank=True)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.PENDING)
    requested_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    duration = models.FloatField(_("duration (seconds)"), null=True, blank=True)
    rows_written = models.PositiveIntegerField(_("rows written"), default=0)
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("recompute run")
        verbose_name_plural = _("recompute runs")
        ordering = ["-requested_at", "-pk"]
        constraints = [
            # At most one waiting run per scope: a second request merges into it.
            models.UniqueConstraint(
                fields=["network", "period"], condition=Q(status="pending"), name="recomputerun_one_pending"
            ),
        ]
        indexes = [
            # "When were the results of this network/period last computed?" (pages, admin).
            models.Index(fields=["network", "period", "status"], name="recomputerun_scope_status"),
        ]

    def __str__(self) -> str:
        return f"{self.network_id}/{self.period_id} #{self.pk} {self.status}"


class ScopeLock(models.Model):
    """The status row that keeps two runs of one network/period from computing at once.

    A run takes the lock (`run` set) under `select_for_update`; a run that finds it held by
    another, recently beating run waits. A worker killed mid-run leaves a lock whose heartbeat
    goes stale; the retried task (acks late) takes it over.
    """

    network = models.ForeignKey(Network, on_delete=models.CASCADE, related_name="+")
    period = models.ForeignKey(Period, on_delete=models.CASCADE, related_name="+")
    run = models.ForeignKey(RecomputeRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    heartbeat = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["network", "period"], name="scopelock_unique")]

    def __str__(self) -> str:
        return f"{self.network_id}/{self.period_id}: {self.run_id}"


# Results are derived data written in bulk by one service: no database-level foreign key checks
# (deferred checks of a million rows at commit cost more than the COPY itself) and no index per
# foreign key (the composite indexes below lead with the columns the reads filter on). Deleting
# a network, period, indicator or municipality still deletes its results (Django's collector).
DERIVED = {"db_constraint": False, "db_index": False}


class Result(models.Model):
    """One municipality's figures for one indicator, period and peer group (docs/statistics.md)."""

    # The figures computed against the previous period: shown only to whoever may see that
    # period's round (`dashboard_selectors`, the API), which need not be whoever sees this one.
    CHANGE_FIELDS = ("previous_value", "change_abs", "change_rel", "improved")

    # The natural key is the primary key: no surrogate id and no third index to maintain for
    # every one of the millions of rows a full recompute writes (about 15 % of its time). Its
    # index serves the pages ("network T, 2024, peer group network, indicator X": every
    # municipality) and the scope delete of a run.
    pk = models.CompositePrimaryKey("network", "period", "peer_group", "indicator", "municipality")
    network = models.ForeignKey(Network, on_delete=models.CASCADE, related_name="+", **DERIVED)
    period = models.ForeignKey(Period, on_delete=models.CASCADE, related_name="+", **DERIVED)
    indicator = models.ForeignKey(Indicator, on_delete=models.CASCADE, related_name="+", **DERIVED)
    # `network`, `all`, `kind`, `region`, `attr:NAME`, `custom:NAME`, `nearest:K`
    peer_group = models.CharField(max_length=120)
    # The partition within the peer group: the region's name, the focal municipality's code for
    # nearest:K, the network code for `network`.
    group_key = models.CharField(max_length=200)
    municipality = models.ForeignKey(Municipality, on_delete=models.CASCADE, related_name="+", **DERIVED)
    value = models.FloatField(null=True)
    missing_reason = models.CharField(max_length=200, blank=True)
    n = models.PositiveIntegerField()
    mean = models.FloatField(null=True)
    median = models.FloatField(null=True)
    q1 = models.FloatField(null=True)
    q3 = models.FloatField(null=True)
    min = models.FloatField(null=True)
    max = models.FloatField(null=True)
    std = models.FloatField(null=True)
    # Median absolute deviation of the population (comparisons.engine.compute_figures).
    mad = models.FloatField(null=True)
    rank = models.PositiveIntegerField(null=True)
    percentile = models.FloatField(null=True)
    band = models.CharField(max_length=8, blank=True)  # empty: neutral indicator
    z = models.FloatField(null=True)
    score = models.FloatField(null=True)
    previous_value = models.FloatField(null=True)
    change_abs = models.FloatField(null=True)
    change_rel = models.FloatField(null=True)
    improved = models.BooleanField(null=True)
    computed_at = models.DateTimeField()

    class Meta:
        verbose_name = _("result")
        verbose_name_plural = _("results")
        indexes = [
            # A municipality's dashboard: its rows over all periods and indicators.
            models.Index(fields=["municipality", "network", "peer_group"], name="result_municipality"),
        ]

    def __str__(self) -> str:
        return f"{self.network_id}/{self.period_id}/{self.indicator_id}/{self.peer_group}/{self.municipality_id}"


class CompositeResult(models.Model):
    """The composite index of one municipality, period and peer group (docs/statistics.md)."""

    network = models.ForeignKey(Network, on_delete=models.CASCADE, related_name="+", **DERIVED)
    period = models.ForeignKey(Period, on_delete=models.CASCADE, related_name="+", **DERIVED)
    peer_group = models.CharField(max_length=120)
    group_key = models.CharField(max_length=200)
    municipality = models.ForeignKey(Municipality, on_delete=models.CASCADE, related_name="+", **DERIVED)
    index_value = models.FloatField(null=True)
    coverage = models.FloatField()
    computed_at = models.DateTimeField()

    class Meta:
        verbose_name = _("composite index")
        verbose_name_plural = _("composite indices")
        constraints = [
            # Also the index of the pages' "network/period/peer group" read and the scope delete.
            models.UniqueConstraint(
                fields=["network", "period", "peer_group", "municipality"], name="compositeresult_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.network_id}/{self.period_id}/{self.peer_group}/{self.municipality_id}: {self.index_value}"


class Neighbour(models.Model):
    """A nearest neighbour of a municipality (peer group `nearest:K`) and why it is near."""

    network = models.ForeignKey(Network, on_delete=models.CASCADE, related_name="+", **DERIVED)
    period = models.ForeignKey(Period, on_delete=models.CASCADE, related_name="+", **DERIVED)
    peer_group = models.CharField(max_length=120)
    municipality = models.ForeignKey(Municipality, on_delete=models.CASCADE, related_name="+", **DERIVED)
    neighbour = models.ForeignKey(Municipality, on_delete=models.CASCADE, related_name="+", **DERIVED)
    position = models.PositiveSmallIntegerField()  # 1 = nearest
    # Share of the squared standardised distance per context item code; the shares sum to 1.
    contributions = models.JSONField(default=dict)

    class Meta:
        verbose_name = _("nearest neighbour")
        verbose_name_plural = _("nearest neighbours")
        ordering = ["municipality", "peer_group", "position"]
        constraints = [
            # Also the index of "the neighbours of municipality M in network/period" and the delete.
            models.UniqueConstraint(
                fields=["network", "period", "peer_group", "municipality", "neighbour"], name="neighbour_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.municipality_id} → {self.neighbour_id}"
