from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from . import events, permissions
from .models import Membership, Municipality, Network, Role, SuccessorShare


def _admin_has_permission(request: HttpRequest) -> bool:
    # The admin is for administrators only (permissions module); coordinators use the portal.
    return permissions.can_use_admin(request.user)


admin.site.has_permission = _admin_has_permission
admin.site.site_header = _("Benchlearning administration")
admin.site.site_title = _("Benchlearning")


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["municipality"]


class RoleInline(admin.TabularInline):
    model = Role
    extra = 0
    autocomplete_fields = ["user", "municipality"]


@admin.register(Municipality)
class MunicipalityAdmin(SimpleHistoryAdmin):
    list_display = ["code", "name", "name_en", "kind", "region", "valid_from", "valid_to", "successor", "split"]
    list_filter = ["kind", "region", "split"]
    search_fields = ["code", "name", "name_en"]
    autocomplete_fields = ["successor"]


@admin.register(SuccessorShare)
class SuccessorShareAdmin(SimpleHistoryAdmin):
    """The shares of units divided at a reform (docs/official.md, "History across a reform")."""

    list_display = ["predecessor", "successor", "share", "note"]
    search_fields = ["predecessor__name", "successor__name", "predecessor__code", "successor__code"]
    autocomplete_fields = ["predecessor", "successor"]


@admin.register(Network)
class NetworkAdmin(SimpleHistoryAdmin):
    list_display = ["code", "name", "name_en", "policy"]
    search_fields = ["code", "name", "name_en"]
    inlines = [MembershipInline]

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        if change and "policy" in form.changed_data:
            # Whose values enter other networks' comparisons depends on it (after commit).
            events.publish(events.NETWORK_POLICY_CHANGED, network_id=obj.pk)


@admin.register(Membership)
class MembershipAdmin(SimpleHistoryAdmin):
    list_display = ["network", "municipality", "joined", "left"]
    list_filter = ["network"]
    search_fields = ["municipality__name", "municipality__code"]
    autocomplete_fields = ["municipality"]


@admin.register(Role)
class RoleAdmin(SimpleHistoryAdmin):
    list_display = ["user", "kind", "municipality", "network"]
    list_filter = ["kind", "network"]
    search_fields = ["user__username", "user__email", "municipality__name"]
    autocomplete_fields = ["user", "municipality"]
