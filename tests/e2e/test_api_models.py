"""The model curves for the web page: max initial leverage against borrow size, rates against utilization."""

from __future__ import annotations

from fractions import Fraction

from signing_client import Exchange


def margin_model(exchange: Exchange, symbol: str) -> dict[str, object]:
    response = exchange.client.get("/api/v1/models/margin", params={"symbol": symbol})
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def test_the_margin_model_samples_40_points_a_decade_from_10_to_a_billion_dollars(exchange: Exchange) -> None:
    body = margin_model(exchange, "BTC")
    points = body["points"]
    assert isinstance(points, list)

    assert body["symbol"] == "BTC"
    assert body["imfFunction"] == {"type": "sqrt", "base": "0.1", "factor": "0.00005"}
    assert len(points) == 8 * 40 + 1
    assert points[0] == {"notional": "10", "imf": "0.1", "maxLeverage": "10"}
    assert points[1]["notional"] == "10.59", "10^(1/40) x 10 to 4 significant digits"
    assert [points[40 * decade]["notional"] for decade in range(9)] == [str(10 ** (decade + 1)) for decade in range(9)]
    notionals = [Fraction(point["notional"]) for point in points]
    assert notionals == sorted(set(notionals)), "notionals strictly increase"


def test_the_margin_model_uses_the_engines_imf_and_rounds_leverage_down(exchange: Exchange) -> None:
    points = margin_model(exchange, "BTC")["points"]
    assert isinstance(points, list)
    by_notional = {point["notional"]: point for point in points}

    # 0.00005 x sqrt(1e8) = 0.5 exactly: the square root binds past $4,000,000.
    assert by_notional["100000000"] == {"notional": "100000000", "imf": "0.5", "maxLeverage": "2"}
    last = by_notional["1000000000"]
    # 0.00005 x sqrt(1e9) = 1.58113883008418966...; the engine rounds the IMF up to the wei.
    assert last["imf"] == "1.581138830084189666"
    assert last["maxLeverage"] == "0.6324", "1 / 1.5811... = 0.632455..., rounded down to 4 decimals"
    for point in points:
        imf = Fraction(point["imf"])
        assert imf >= Fraction(1, 10), "never below the base"
        leverage = Fraction(point["maxLeverage"])
        assert leverage <= 1 / imf < leverage + Fraction(1, 10_000)


def test_each_asset_has_its_own_margin_curve(exchange: Exchange) -> None:
    usdt = margin_model(exchange, "USDT")
    points = usdt["points"]
    assert isinstance(points, list)
    assert usdt["imfFunction"] == {"type": "sqrt", "base": "0.15", "factor": "0.00003"}
    assert points[0] == {"notional": "10", "imf": "0.15", "maxLeverage": "6.6666"}


def test_the_margin_model_needs_a_listed_symbol(exchange: Exchange) -> None:
    missing = exchange.client.get("/api/v1/models/margin")
    unknown = exchange.client.get("/api/v1/models/margin", params={"symbol": "DOGE"})

    assert missing.status_code == 400
    assert missing.json() == {"code": "INVALID_CLIENT_REQUEST", "message": "symbol is required"}
    assert unknown.status_code == 400
    assert unknown.json() == {
        "code": "INVALID_ASSET",
        "message": "symbol 'DOGE' is not a listed asset; listed assets are BTC, ETH, SOL, USDC, USDT",
    }


def test_the_interest_rate_model_follows_the_rate_curve_and_the_lend_fee(exchange: Exchange) -> None:
    response = exchange.client.get("/api/v1/models/interestRate", params={"symbol": "USDC"})
    assert response.status_code == 200, response.text
    body = response.json()
    points = body["points"]

    assert {key: body[key] for key in ("symbol", "optimalUtilization", "maxUtilization", "fee")} == {
        "symbol": "USDC",
        "optimalUtilization": "0.8",
        "maxUtilization": "0.9",
        "fee": "0.1",
    }
    assert (body["utilization"], body["borrowInterestRate"], body["lendInterestRate"]) == ("0", "0.03", "0")
    assert [point["utilization"] for point in points] == [f"{step // 100}.{step % 100:02d}" for step in range(101)]
    assert points[0] == {"utilization": "0.00", "borrowInterestRate": "0.03", "lendInterestRate": "0"}
    # Below the kink: 0.03 + 0.1 x U / 0.8; lend = borrow x U x (1 - 0.1).
    assert points[40] == {"utilization": "0.40", "borrowInterestRate": "0.08", "lendInterestRate": "0.0288"}
    assert points[80] == {"utilization": "0.80", "borrowInterestRate": "0.13", "lendInterestRate": "0.0936"}
    # Past the kink: + 1.5 x (U - 0.8) / 0.2.
    assert points[90] == {"utilization": "0.90", "borrowInterestRate": "0.88", "lendInterestRate": "0.7128"}
    assert points[100] == {"utilization": "1.00", "borrowInterestRate": "1.63", "lendInterestRate": "1.467"}


def test_the_interest_rate_model_marks_the_pools_utilization_now(exchange: Exchange) -> None:
    lender = exchange.new_account()
    exchange.deposit(lender, "USDC", "10000")
    lent = exchange.borrow_lend(lender, "Lend", "10000")
    borrower = exchange.new_account()
    exchange.deposit(borrower, "BTC", "1")
    borrowed = exchange.borrow_lend(borrower, "Borrow", "5000")
    assert (lent.status_code, borrowed.status_code) == (200, 200)

    model = exchange.client.get("/api/v1/models/interestRate", params={"symbol": "USDC"}).json()
    (market,) = [row for row in exchange.client.get("/api/v1/borrowLend/markets").json() if row["symbol"] == "USDC"]
    assert Fraction(model["utilization"]) > Fraction(1, 2), "a little over half: the entry fee adds to the debt"
    assert (model["utilization"], model["borrowInterestRate"], model["lendInterestRate"]) == (
        market["utilization"],
        market["borrowInterestRate"],
        market["lendInterestRate"],
    )


def test_the_interest_rate_model_needs_a_listed_symbol(exchange: Exchange) -> None:
    response = exchange.client.get("/api/v1/models/interestRate", params={"symbol": "usdc"})
    assert response.status_code == 400
    assert response.json()["code"] == "INVALID_ASSET"
