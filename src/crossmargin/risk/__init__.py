"""The risk sweep: a float64 columnar mirror of margin state, screened all at once, confirmed exactly.

`columns.py` keeps one row per subaccount (collateral and owed quantity per asset, size and
unsettled constant per perp market) and the per-asset parameters, updated from engine events.
`screen.py` finds every row that *might* be at or past MMR >= 100% with a float pass whose safety
margin provably covers rounding, then `confirm` decides each candidate with the exact integer math
of `crossmargin.core`. An app-level package: it imports the core; the core never imports it.
"""
