#!/usr/bin/env bash
# Create the virtual environments the client end-to-end tests (tests/e2e/clients) run real
# Backpack clients in: one per client, because ccxt and bpx-py pin conflicting `cryptography`
# versions. Each lands at the repository root (.venv-ccxt, .venv-bpx, .venv-sdk) with the pinned
# version below. Idempotent: a stamp file in each venv records what was installed, and a venv
# whose stamp matches its pin is left alone. Usage: scripts/client-venvs.sh [ccxt|bpx|sdk ...]
set -euo pipefail

cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"

# name -> pinned requirements (bump here; the stamp makes the next run reinstall). ccxt's own
# unified test suite, which tests/e2e/clients/test_ccxt_unified.py runs, also imports psutil.
declare -A PINS=(
    [ccxt]="ccxt==4.5.90 psutil==7.2.2"
    [bpx]="bpx-py==2.0.11"
    [sdk]="backpack-exchange-sdk==1.1.4"
)

names=("$@")
if [ ${#names[@]} -eq 0 ]; then
    names=(ccxt bpx sdk)
fi

for name in "${names[@]}"; do
    pin="${PINS[$name]:-}"
    if [ -z "$pin" ]; then
        echo "client-venvs: unknown client '$name' (known: ${!PINS[*]})" >&2
        exit 2
    fi
    venv=".venv-$name"
    stamp="$venv/.client-installed"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$pin" ] && [ -x "$venv/bin/python" ]; then
        echo "client-venvs: $venv has $pin"
        continue
    fi
    started=$SECONDS
    echo "client-venvs: creating $venv with $pin ..."
    rm -rf "$venv"
    "$PYTHON" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
    # shellcheck disable=SC2086 # a pin may name several requirements, one word each
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check $pin
    echo "$pin" >"$stamp"
    echo "client-venvs: $venv ready in $((SECONDS - started)) s ($(du -sh "$venv" | cut -f1))"
done
