from __future__ import annotations

from rest_framework import serializers

from indicators.models import Indicator
from networks.models import Network

from ..models import CompositeResult, Result


class IndicatorSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="display_name", read_only=True)
    definition = serializers.CharField(source="display_definition", read_only=True)
    theme = serializers.CharField(source="display_theme", read_only=True)
    networks = serializers.SlugRelatedField(many=True, read_only=True, slug_field="code")

    class Meta:
        model = Indicator
        fields = [
            "code",
            "name",
            "unit",
            "decimals",
            "polarity",
            "formula",
            "can_influence",
            "in_index",
            "weight",
            "definition",
            "theme",
            "networks",
        ]


class NetworkSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="display_name", read_only=True)

    class Meta:
        model = Network
        fields = ["code", "name", "policy"]


class _ScopedSerializer(serializers.ModelSerializer):
    network = serializers.CharField(source="network.code", read_only=True)
    period = serializers.CharField(source="period.label", read_only=True)
    municipality = serializers.CharField(source="municipality.code", read_only=True)
    municipality_name = serializers.CharField(source="municipality.display_name", read_only=True)
    provisional = serializers.SerializerMethodField(help_text="True until the round is published.")

    def get_provisional(self, obj) -> bool:
        return not getattr(obj, "published", False)


class ResultSerializer(_ScopedSerializer):
    """A stored row; its change against the previous period is null where the person may not see
    that period's round (``changes_visible``, annotated by `dashboard_selectors.visible_results`)."""

    indicator = serializers.CharField(source="indicator.code", read_only=True)
    missing_status = serializers.SerializerMethodField(
        help_text="When the value is missing for want of a data item that a statistics office marked: its mark, "
        "… not available, - nil, . not applicable, .. confidential; otherwise empty."
    )

    def get_missing_status(self, obj) -> str:
        return getattr(obj, "missing_status", "")  # set for the page by the view (api/views.py)

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if not getattr(instance, "changes_visible", False):
            data.update(dict.fromkeys(Result.CHANGE_FIELDS))
        return data

    class Meta:
        model = Result
        fields = [
            "network",
            "period",
            "indicator",
            "peer_group",
            "group_key",
            "municipality",
            "municipality_name",
            "value",
            "missing_reason",
            "missing_status",
            "n",
            "rank",
            "percentile",
            "band",
            "z",
            "score",
            "mean",
            "median",
            "q1",
            "q3",
            "min",
            "max",
            "std",
            "previous_value",
            "change_abs",
            "change_rel",
            "improved",
            "provisional",
            "computed_at",
        ]


class CompositeSerializer(_ScopedSerializer):
    class Meta:
        model = CompositeResult
        fields = [
            "network",
            "period",
            "peer_group",
            "group_key",
            "municipality",
            "municipality_name",
            "index_value",
            "coverage",
            "provisional",
            "computed_at",
        ]
