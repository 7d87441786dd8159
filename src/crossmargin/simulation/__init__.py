"""Stress simulation: replay a price path through the engine with a generated population.

`price_paths` reads or generates the path (CSV, seeded random walk, shocks), `population` plans the
subaccounts, `ladder` quotes liquidity, `runner` drives `engine.execute` step by step with the risk
sweep and liquidations, `report` totals what happened and `plots` draws it. Randomness lives only
here, at the edge, seeded so that one seed always gives the same run; the core stays pure.
"""
