"""Replication bodies: a takeover (`POST /admin/v1/replica/promote`), a state digest (`GET /admin/v1/state/digest`)."""

from __future__ import annotations

import hashlib

from crossmargin.api.views.common import JsonObject
from crossmargin.app.codec import encode_state
from crossmargin.app.replica import Promotion
from crossmargin.core.state import EngineState


def view_state_digest(state: EngineState, sequence: int) -> JsonObject:
    """Return the journal sequence and the SHA-256 of the canonical state text there (INV-REPLAY-1 across servers)."""
    return {"sequence": sequence, "sha256": hashlib.sha256(encode_state(state).encode()).hexdigest()}


def view_promotion(promotion: Promotion) -> JsonObject:
    """Return what a takeover did."""
    return {
        "sequence": promotion.sequence,
        "term": promotion.term,
        "fenced": promotion.fenced,
        "tookMs": promotion.took_ms,
    }
