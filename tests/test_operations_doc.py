"""docs/OPERATIONS.md stays true: its Prometheus YAML parses and names only metrics the server serves.

Every metric of `api/metrics.py` is described in the document's table, the scrape configuration
and the alert rules parse (PyYAML), and each metric an alert rule names is one the server serves.
Where `promtool` is installed (Debian's `prometheus` package), it checks the rules and runs unit
tests of two of them (a stale price, the journal down) on made-up series; without it those checks
skip, saying how to enable them.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml
from tests.environment import missing

from crossmargin.api.metrics import METRIC_NAMES

ROOT = Path(__file__).resolve().parent.parent
DOCUMENT = ROOT / "docs" / "OPERATIONS.md"
HISTOGRAM_SUFFIXES = ("_bucket", "_count", "_sum")


def _yaml_blocks() -> list[Any]:
    text = DOCUMENT.read_text()
    return [yaml.safe_load(block) for block in re.findall(r"```yaml\n(.*?)```", text, re.DOTALL)]


def _rules() -> dict[str, Any]:
    (rules,) = [block for block in _yaml_blocks() if isinstance(block, dict) and "groups" in block]
    return rules


def _served(name: str) -> bool:
    return name in METRIC_NAMES or any(
        name.endswith(suffix) and name.removesuffix(suffix) in METRIC_NAMES for suffix in HISTOGRAM_SUFFIXES
    )


def test_every_metric_is_described_and_the_replica_section_is_there() -> None:
    text = DOCUMENT.read_text()
    undescribed = [name for name in METRIC_NAMES if f"| `{name}` |" not in text]
    assert undescribed == []
    assert "\n## Replicas and failover\n" in text


def test_the_scrape_configuration_and_alert_rules_parse_and_name_served_metrics() -> None:
    (scrape,) = [block for block in _yaml_blocks() if isinstance(block, dict) and "scrape_configs" in block]
    assert {job["job_name"] for job in scrape["scrape_configs"]} == {"crossmargin", "crossmargin-local"}
    rules = [rule for group in _rules()["groups"] for rule in group["rules"]]
    assert {"CrossmarginJournalDown", "CrossmarginReplicaLag", "CrossmarginStalePrice", "CrossmarginHttp5xx"} <= {
        rule["alert"] for rule in rules
    }
    assert any("crossmargin_insurance_fund_value_usd <" in rule["expr"] for rule in rules)
    named = {name for rule in rules for name in re.findall(r"crossmargin_[a-z_]+", rule["expr"])}
    assert named, "the rules name the server's metrics"
    assert [name for name in sorted(named) if not _served(name)] == []


PROMTOOL_TESTS = """
rule_files: [rules.yml]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'crossmargin_index_price_age_seconds{instance="a",job="crossmargin",asset="BTC"}'
        values: '10 70 130 190'
      - series: 'crossmargin_index_price_age_seconds{instance="a",job="crossmargin",asset="ETH"}'
        values: '10 20 30 40'
      - series: 'crossmargin_index_price_max_age_seconds{instance="a",job="crossmargin"}'
        values: '60 60 60 60'
      - series: 'crossmargin_journal_up{instance="a",job="crossmargin"}'
        values: '1 0 0 0'
      - series: 'crossmargin_sequencer_up{instance="a",job="crossmargin"}'
        values: '1 1 1 1'
      - series: 'crossmargin_snapshot_seconds_sum{instance="a",job="crossmargin"}'
        values: '0 3 6 9'
      - series: 'crossmargin_snapshot_seconds_count{instance="a",job="crossmargin"}'
        values: '0 1 2 3'
      - series: 'crossmargin_snapshot_seconds_sum{instance="b",job="crossmargin"}'
        values: '0 0.5 1 1.5'
      - series: 'crossmargin_snapshot_seconds_count{instance="b",job="crossmargin"}'
        values: '0 1 2 3'
    alert_rule_test:
      - eval_time: 3m
        alertname: CrossmarginStalePrice
        exp_alerts:
          - exp_labels: {severity: page, instance: a, job: crossmargin, asset: BTC}
            exp_annotations:
              summary: "The BTC index price is stale: new risk against it is refused"
      - eval_time: 3m
        alertname: CrossmarginJournalDown
        exp_alerts:
          - exp_labels: {severity: page, instance: a, job: crossmargin}
            exp_annotations:
              summary: "The journal of a takes no writes: the exchange answers 503 MAINTENANCE"
      - eval_time: 3m
        alertname: CrossmarginSlowSnapshot
        exp_alerts:
          - exp_labels: {severity: warn, instance: a, job: crossmargin}
            exp_annotations:
              summary: "Snapshots on a take over 2 s on average: no command runs while one is saved"
"""


def test_promtool_accepts_the_rules_and_they_fire_when_they_should(tmp_path: Path) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        missing("promtool", "promtool is not installed (apt-get install prometheus): the rules were only parsed")
    (tmp_path / "rules.yml").write_text(yaml.safe_dump(_rules()))
    (tmp_path / "tests.yml").write_text(PROMTOOL_TESTS)
    for command in (["check", "rules", "rules.yml"], ["test", "rules", "tests.yml"]):
        done = subprocess.run(
            [promtool, *command], cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False
        )
        assert done.returncode == 0, done.stdout + done.stderr
