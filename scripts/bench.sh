#!/usr/bin/env bash
# Runs the split-key benchmarks (criterion), then `openssl speed` as an external reference.
# Both are pinned to one core (CPU 1) when taskset is available, so the figures are per core.
# Extra arguments go to the criterion binary, e.g.
#   scripts/bench.sh -- server_completion        (only benchmarks whose id matches)
#   CARGO_TARGET_DIR=/tmp/bench scripts/bench.sh
#   SPLITKEY_BENCH_CPU_TIME=1 scripts/bench.sh   (thread CPU time instead of wall time, for a
#                                                 machine that other work shares; openssl speed
#                                                 reports CPU time by default anyway)
set -euo pipefail
cd "$(dirname "$0")/.."

pin=()
if command -v taskset >/dev/null 2>&1; then
    pin=(taskset -c 1)
fi

echo "== cargo bench -p splitkey --bench splitkey $*"
"${pin[@]}" cargo bench -p splitkey --bench splitkey "$@"

if command -v openssl >/dev/null 2>&1; then
    echo "== $(openssl version)"
    echo "== openssl speed -seconds 3 rsa2048 rsa3072 rsa4096"
    "${pin[@]}" openssl speed -seconds 3 rsa2048 rsa3072 rsa4096
else
    echo "openssl not found; skipping the external reference" >&2
fi
