"""The asset file: the shipped demo set, a user's override, and errors that name the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from crossmargin.asset_config import AssetConfigError, default_assets_path, load_asset_specs
from crossmargin.core.assets import HaircutKind, PoolState
from crossmargin.core.numbers import Ratio


def test_demo_set_lists_five_assets_with_backpack_figures() -> None:
    specs = {spec.symbol: spec for spec in load_asset_specs()}
    assert sorted(specs) == ["BTC", "ETH", "SOL", "USDC", "USDT"]
    assert specs["USDC"].haircut.weight == Ratio.parse("1")
    assert specs["USDC"].imf.base == Ratio.parse("0.1")
    assert (specs["SOL"].imf.base, specs["SOL"].imf.factor) == (Ratio.parse("0.1"), Ratio.parse("0.00036"))
    assert (specs["SOL"].mmf.base, specs["SOL"].mmf.factor) == (Ratio.parse("0.05"), Ratio.parse("0.000216"))
    assert specs["BTC"].haircut.kind is HaircutKind.INVERSE_SQRT
    assert specs["BTC"].pool_state is PoolState.OPEN


def write_variant(tmp_path: Path, old: str, new: str) -> Path:
    """Copy the demo file with `old` replaced by `new` in the BTC section."""
    text = default_assets_path().read_text(encoding="utf-8")
    head, btc = text.split("[assets.BTC]")
    btc, tail = btc.split("[assets.ETH]")
    assert old in btc
    path = tmp_path / "assets.toml"
    path.write_text(f"{head}[assets.BTC]{btc.replace(old, new, 1)}[assets.ETH]{tail}", encoding="utf-8")
    return path


def test_a_users_file_overrides_the_demo_set(tmp_path: Path) -> None:
    path = write_variant(tmp_path, 'fee = "0.1"', 'fee = "0.25"')
    specs = {spec.symbol: spec for spec in load_asset_specs(path)}
    assert specs["BTC"].fee == Ratio.parse("0.25")


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            'imfFunction = { type = "sqrt", base = "0.1", factor = "0.00005" }',
            'imfFunction = { type = "sqrt", base = "0.1x", factor = "0.00005" }',
            "assets.BTC.imfFunction.base: '0.1x' is not a plain decimal number",
        ),
        ("decimals = 8", "decimals = -1", "assets.BTC.decimals: must be an integer from 0 to 18"),
        ('state = "Open"', 'state = "Paused"', "assets.BTC.state: must be one of Open, Closed, RepayOnly"),
        ('fee = "0.1"', "fee = 0.1", 'assets.BTC.fee: must be a decimal string such as "0.1", not 0.1'),
        ('maxUtilization = "0.9"', 'maxUtilization = "1.5"', "assets.BTC.maxUtilization: must be between 0 and 1"),
        (
            'stepSize = "0.00000001"',
            'stepSize = "0.000000001"',
            "assets.BTC.stepSize: '0.000000001' has more than 8 decimal places",
        ),
        ('borrowLimit = "50"', 'borrowLimt = "50"', "assets.BTC.borrowLimt: unknown field"),
        ('borrowLimit = "50"\n', "", "assets.BTC.borrowLimit: missing"),
        (
            'kind = { type = "inverseSqrt"',
            'kind = { type = "cubic"',
            'assets.BTC.haircutFunction.kind.type: must be "identity" or "inverseSqrt"',
        ),
    ],
)
def test_a_malformed_file_fails_naming_the_field(tmp_path: Path, old: str, new: str, message: str) -> None:
    with pytest.raises(AssetConfigError) as raised:
        load_asset_specs(write_variant(tmp_path, old, new))
    assert str(raised.value).startswith(message)


def test_a_file_that_is_not_toml_fails_with_its_path(tmp_path: Path) -> None:
    path = tmp_path / "assets.toml"
    path.write_text("[assets.BTC\n", encoding="utf-8")
    with pytest.raises(AssetConfigError, match=r"assets\.toml"):
        load_asset_specs(path)
