from __future__ import annotations

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import ImprovementPlan, Meeting, PlanAction, PlanTarget, PracticeAttachment, PracticeCase, Tag


class PracticeAttachmentInline(admin.TabularInline):
    model = PracticeAttachment
    extra = 0
    readonly_fields = ["name", "content_type", "size", "uploaded_at"]
    fields = ["name", "content_type", "size", "uploaded_at"]


@admin.register(PracticeCase)
class PracticeCaseAdmin(SimpleHistoryAdmin):
    list_display = ["title", "municipality", "network", "status", "visibility", "published_at"]
    list_filter = ["status", "visibility", "network"]
    search_fields = ["title", "title_en", "summary"]
    autocomplete_fields = ["municipality"]
    filter_horizontal = ["indicators", "tags"]
    inlines = [PracticeAttachmentInline]


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    search_fields = ["name"]


class PlanTargetInline(admin.TabularInline):
    model = PlanTarget
    extra = 0


class PlanActionInline(admin.TabularInline):
    model = PlanAction
    extra = 0


@admin.register(ImprovementPlan)
class ImprovementPlanAdmin(SimpleHistoryAdmin):
    list_display = ["title", "municipality", "network", "status"]
    list_filter = ["status", "network"]
    inlines = [PlanTargetInline, PlanActionInline]


@admin.register(Meeting)
class MeetingAdmin(SimpleHistoryAdmin):
    list_display = ["date", "title", "network", "host"]
    list_filter = ["network"]
    filter_horizontal = ["attendees"]
