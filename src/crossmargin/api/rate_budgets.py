"""Rate-limit budgets: what `crossmargin serve` limits, kept apart from the middleware so the CLI loads fast.

`api/rate_limit.py` explains the budgets and enforces them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

ENTRIES_MAX: Final = 65_536
"""Buckets kept per budget at most (`rate_limit.TokenBuckets`)."""
BUDGET_NUMBER_MAX: Final = 10**9


@dataclass(frozen=True, slots=True)
class Budget:
    """At most `limit` requests in any window of `window_s` seconds, `burst` of them at once."""

    limit: int
    window_s: int
    burst: int

    def __post_init__(self) -> None:
        """Refuse a budget the bucket cannot honour."""
        if not 0 < self.burst < self.limit <= BUDGET_NUMBER_MAX or not 0 < self.window_s <= BUDGET_NUMBER_MAX:
            raise ValueError(
                f"a budget needs 0 < BURST < LIMIT <= {BUDGET_NUMBER_MAX} and 0 < SECONDS <= {BUDGET_NUMBER_MAX}; "
                f"got {self.describe()}"
            )

    @classmethod
    def parse(cls, text: str) -> Budget:
        """Parse `LIMIT/SECONDS` or `LIMIT/SECONDS/BURST` (the burst defaults to a tenth of the limit)."""
        parts = text.strip().split("/")
        if len(parts) not in (2, 3) or not all(part.isdigit() and len(part) <= 10 for part in parts):
            raise ValueError(f"{text!r} is not LIMIT/SECONDS or LIMIT/SECONDS/BURST, e.g. 2000/60 or 2000/60/200")
        limit, window_s = int(parts[0]), int(parts[1])
        burst = int(parts[2]) if len(parts) == 3 else max(1, limit // 10)
        return cls(limit, window_s, burst)

    def describe(self) -> str:
        """Return the budget as `parse` reads it."""
        return f"{self.limit}/{self.window_s}/{self.burst}"


BACKPACK_BUDGET: Final = Budget(2000, 60, 200)
"""Backpack's published 2,000 requests a minute per subaccount; bursts of a tenth of it."""


@dataclass(frozen=True, slots=True)
class RateLimitSettings:
    """The budgets of `crossmargin serve` (`--rate-limit-public`, `--rate-limit-signed`, `--rate-limit-signed-ip`)."""

    public: Budget = BACKPACK_BUDGET
    signed: Budget = BACKPACK_BUDGET
    signed_ip: Budget = field(default_factory=lambda: Budget(10_000, 60, 1_000))
    """Five Backpack budgets: several bots of one machine share an address."""
    entries_max: int = ENTRIES_MAX
