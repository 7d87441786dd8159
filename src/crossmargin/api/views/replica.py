"""The body of `POST /admin/v1/replica/promote`: where the new sequencer starts, its term, the fence, the time."""

from __future__ import annotations

from crossmargin.api.views.common import JsonObject
from crossmargin.app.replica import Promotion


def view_promotion(promotion: Promotion) -> JsonObject:
    """Return what a takeover did."""
    return {
        "sequence": promotion.sequence,
        "term": promotion.term,
        "fenced": promotion.fenced,
        "tookMs": promotion.took_ms,
    }
