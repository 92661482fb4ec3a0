from __future__ import annotations

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import (
    DataItem,
    Indicator,
    NetworkIndicator,
    Period,
    Round,
    SeriesBreak,
    Submission,
    SubmissionEvent,
    Value,
    ValueQuery,
)


@admin.register(DataItem)
class DataItemAdmin(SimpleHistoryAdmin):
    list_display = ["code", "name", "unit", "decimals", "source", "theme"]
    list_filter = ["source", "networks"]
    search_fields = ["code", "name", "name_en"]


class NetworkIndicatorInline(admin.TabularInline):
    model = NetworkIndicator
    extra = 0


@admin.register(Indicator)
class IndicatorAdmin(SimpleHistoryAdmin):
    list_display = ["code", "name", "unit", "polarity", "formula", "in_index", "weight"]
    list_filter = ["polarity", "in_index", "can_influence", "networks"]
    search_fields = ["code", "name", "name_en", "formula"]
    filter_horizontal = ["items"]
    inlines = [NetworkIndicatorInline]


@admin.register(Period)
class PeriodAdmin(admin.ModelAdmin):
    list_display = ["label", "kind", "start", "end"]


@admin.register(Round)
class RoundAdmin(SimpleHistoryAdmin):
    list_display = ["network", "period", "opens", "deadline", "status", "published_at", "is_demo"]
    list_filter = ["status", "network", "is_demo"]
    filter_horizontal = ["indicators"]


class SubmissionEventInline(admin.TabularInline):
    model = SubmissionEvent
    extra = 0
    readonly_fields = ["from_status", "to_status", "user", "at", "message"]


@admin.register(Submission)
class SubmissionAdmin(admin.ModelAdmin):
    list_display = ["round", "municipality", "status", "version", "updated_at"]
    list_filter = ["status", "round__network", "round__period"]
    search_fields = ["municipality__name", "municipality__code"]
    inlines = [SubmissionEventInline]


@admin.register(Value)
class ValueAdmin(SimpleHistoryAdmin):
    list_display = ["submission", "item", "number", "is_missing", "missing_status"]
    list_filter = ["is_missing", "submission__round__network"]
    search_fields = ["item__code", "submission__municipality__name"]
    raw_id_fields = ["submission"]


@admin.register(SeriesBreak)
class SeriesBreakAdmin(SimpleHistoryAdmin):
    list_display = ["item", "municipality", "period", "note"]
    list_filter = ["period"]
    search_fields = ["item__code", "municipality__code", "municipality__name", "note"]
    raw_id_fields = ["municipality"]


@admin.register(ValueQuery)
class ValueQueryAdmin(admin.ModelAdmin):
    list_display = ["submission", "item", "author", "at"]
    list_filter = ["submission__round__network"]
    search_fields = ["item__code", "submission__municipality__name", "text"]
    raw_id_fields = ["submission"]
