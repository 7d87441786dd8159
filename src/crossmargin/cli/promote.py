"""`crossmargin promote`: make a read replica the sequencer, after PostgreSQL promoted its standby (failover)."""

from __future__ import annotations

from crossmargin.cli.commands import Body
from crossmargin.cli.context import Context


def promote(ctx: Context) -> int:
    """Ask the replica at `--url` to take over as the sequencer; print where it starts and what it fenced."""
    ctx.require_admin()
    fence = getattr(ctx.arguments, "fence_database_url", None)
    body: Body = {} if fence is None else {"fenceDatabaseUrl": fence}
    answer = ctx.client.admin("POST", "/admin/v1/replica/promote", body)
    assert isinstance(answer, dict), "the promote route answers an object"
    ctx.out.data(answer)
    ctx.out.show(
        f"Took over as the sequencer at sequence {answer.get('sequence')} (writer term {answer.get('term')}) "
        f"in {answer.get('tookMs')} ms; fenced: {answer.get('fenced')}."
    )
    return 0
