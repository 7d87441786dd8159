"""`plan_liquidations`: whom the risk monitor, the simulation and the benchmark liquidate next."""

from __future__ import annotations

from crossmargin.core.ids import SubaccountId
from crossmargin.core.insurance import INSURANCE_FUND_ID
from crossmargin.risk.plan import plan_liquidations

S1, S2, S3, S4, S5 = (SubaccountId(n) for n in range(1, 6))


class Confirmer:
    """Confirms the subaccounts it was told are liquidatable, and remembers what it was asked."""

    def __init__(self, *liquidatable: SubaccountId) -> None:
        self.liquidatable = set(liquidatable)
        self.asked: list[list[SubaccountId]] = []

    def __call__(self, candidates: list[SubaccountId]) -> list[SubaccountId]:
        self.asked.append(list(candidates))
        return [sub for sub in candidates if sub in self.liquidatable]


def test_confirmed_candidates_and_liquidating_subaccounts_come_once_each_in_id_order() -> None:
    confirmer = Confirmer(S4, S2)
    plan = plan_liquidations([S4, S1, S2, S4], [S5, S3], confirmer)
    assert plan == [S2, S3, S4, S5]


def test_false_positives_of_the_screen_are_dropped() -> None:
    assert plan_liquidations([S1, S2], [], Confirmer()) == []


def test_the_fund_and_subaccounts_already_liquidating_are_not_confirmed_again() -> None:
    confirmer = Confirmer(INSURANCE_FUND_ID, S1, S2)
    plan = plan_liquidations([S2, INSURANCE_FUND_ID, S1], [S1], confirmer)
    assert confirmer.asked == [[S2]]
    assert plan == [S1, S2]


def test_nothing_to_liquidate_plans_an_empty_round() -> None:
    assert plan_liquidations([], [], Confirmer()) == []
