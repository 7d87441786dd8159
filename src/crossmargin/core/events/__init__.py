"""Events: the frozen outputs of the engine, in the past tense, and their one classification.

Read models (history, balances shown to users, streams) are built from events; the engine's own
state is rebuilt by replaying commands. The event types live in one module per family (accounts,
borrow-lend, trading, liquidation); `classification.py` holds the `Event` union and says, for every
event, what kind of thing it changed and whose (`change_kind`, `subaccounts_touched`). Import them
all from here.
"""

from crossmargin.core.events.accounts import (
    AccountCreated,
    ApiKeyAdded,
    AssetsConfigured,
    Deposited,
    DustConverted,
    MarketsConfigured,
    MarkPricesSet,
    OracleConfigured,
    SettingsUpdated,
    SubaccountCreated,
    Transferred,
    WithdrawalDelaySet,
    WithdrawalReleased,
    Withdrew,
)
from crossmargin.core.events.borrow_lend import (
    BorrowLendEventType,
    BorrowLendMoved,
    BorrowLendSource,
    EntryFeeCharged,
    InterestCharged,
    LendIndexCut,
)
from crossmargin.core.events.classification import (
    CHANGE_KINDS,
    ChangeKind,
    Event,
    asset_named,
    change_kind,
    subaccounts_touched,
)
from crossmargin.core.events.liquidation import (
    AutoDeleveraged,
    Backstopped,
    LiquidationFinished,
    LiquidationStarted,
    LiquidationStepKind,
    LiquidationStepped,
    PerpTakenOver,
    TakenOver,
)
from crossmargin.core.events.trading import (
    Conversion,
    FundingPaid,
    OrderChanged,
    PerpMarksSet,
    PerpPositionChanged,
    Settled,
    SettlementSource,
    ShortfallCovered,
    Traded,
)

__all__ = [
    "CHANGE_KINDS",
    "AccountCreated",
    "ApiKeyAdded",
    "AssetsConfigured",
    "AutoDeleveraged",
    "Backstopped",
    "BorrowLendEventType",
    "BorrowLendMoved",
    "BorrowLendSource",
    "ChangeKind",
    "Conversion",
    "Deposited",
    "DustConverted",
    "EntryFeeCharged",
    "Event",
    "FundingPaid",
    "InterestCharged",
    "LendIndexCut",
    "LiquidationFinished",
    "LiquidationStarted",
    "LiquidationStepKind",
    "LiquidationStepped",
    "MarkPricesSet",
    "MarketsConfigured",
    "OracleConfigured",
    "OrderChanged",
    "PerpMarksSet",
    "PerpPositionChanged",
    "PerpTakenOver",
    "SettingsUpdated",
    "Settled",
    "SettlementSource",
    "ShortfallCovered",
    "SubaccountCreated",
    "TakenOver",
    "Traded",
    "Transferred",
    "WithdrawalDelaySet",
    "WithdrawalReleased",
    "Withdrew",
    "asset_named",
    "change_kind",
    "subaccounts_touched",
]
