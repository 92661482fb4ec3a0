from __future__ import annotations

from django.contrib import admin

from .models import CompositeResult, PeerGroup, PeerGroupMember, RecomputeRun


class PeerGroupMemberInline(admin.TabularInline):
    model = PeerGroupMember
    autocomplete_fields = ["municipality"]
    extra = 0


@admin.register(PeerGroup)
class PeerGroupAdmin(admin.ModelAdmin):
    search_fields = ["name"]
    inlines = [PeerGroupMemberInline]


@admin.register(RecomputeRun)
class RecomputeRunAdmin(admin.ModelAdmin):
    list_display = ["pk", "network", "period", "status", "progress", "requested_at", "duration", "rows_written"]
    list_filter = ["status", "network"]
    list_select_related = ["network", "period"]
    readonly_fields = [field.name for field in RecomputeRun._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False  # runs are requested by the portal and the recompute command


# `Result` is not in the admin: Django 5.2 cannot register a model with a composite primary key.
# Results are read on the dashboards, through the API and with `export_results`.


@admin.register(CompositeResult)
class CompositeResultAdmin(admin.ModelAdmin):
    list_display = ["network", "period", "peer_group", "municipality", "index_value", "coverage"]
    list_filter = ["network", "peer_group"]
    list_select_related = ["network", "period", "municipality"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
