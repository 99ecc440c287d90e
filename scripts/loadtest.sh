#!/usr/bin/env bash
# Full-transaction throughput, side by side in one run (docs/performance.md, "Full
# transactions: one node, PostgreSQL, two nodes"):
#   (a)  the crypto bound: `splitid loadtest --crypto-bound`, the exponentiations of a login
#        on threads, no HTTP, no database;
#   (b)  one node on SQLite;
#   (c1) one node on PostgreSQL;
#   (c2) two nodes on one PostgreSQL database, the load tool spreading every transaction
#        over both (started on one node, long-polled through the other);
# each swept over the same concurrencies with the same settings, the best taken as the peak;
# then (h) an open-loop run at half of (b)'s peak on the SQLite node, for the p99 of
# confirmation to answer at half the peak load.
#
# Writes $OUT/{a,b,h,c1,c2}.json (the load tool's reports), summary.json and summary.md.
#
# COMPARE_WITH=REV adds (k): the node's CPU time and the app's bytes per login of this build
# and of the build of git revision REV (a worktree, release), one node on SQLite each, taken
# in turns (baseline, current, baseline, current…) at one concurrency, so that both see the
# same machine; writes compare.json and compare.md. ONLY_COMPARE=1 runs (k) alone.
#   COMPARE_CONCURRENCY=4   COMPARE_ROUNDS=5
# Settings (environment):
#   HALF_BITS=3072          key half size (3072: the production size)
#   RUN_SECONDS=15          seconds per concurrency
#   CONCURRENCIES=1,2,4,8,16  the sweep
#   HALF_PEAK_SECONDS=30    the open-loop run at half of (b)'s peak
#   SPLITID_TEST_POSTGRES   PostgreSQL that may create databases
#                           [postgres://postgres@127.0.0.1:5432/postgres]
#   CARGO_TARGET_DIR        as for cargo [target]; OUT [$CARGO_TARGET_DIR/loadtest]
# Needs curl, jq and psql. Data directories and scratch databases are temporary and removed
# at the end, whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."

HALF_BITS=${HALF_BITS:-3072}
RUN_SECONDS=${RUN_SECONDS:-15}
CONCURRENCIES=${CONCURRENCIES:-1,2,4,8,16}
HALF_PEAK_SECONDS=${HALF_PEAK_SECONDS:-30}
POSTGRES=${SPLITID_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432/postgres}
# Absolute: the baseline of COMPARE_WITH is built from another directory.
CARGO_TARGET_DIR=$(realpath -m "${CARGO_TARGET_DIR:-target}")
export CARGO_TARGET_DIR
OUT=${OUT:-$CARGO_TARGET_DIR/loadtest}
# A device answers one transaction at a time: as many devices as the highest concurrency.
DEVICES=$(tr ',' '\n' <<<"$CONCURRENCIES" | sort -n | tail -1)

for tool in curl jq psql; do
    command -v "$tool" >/dev/null || { echo "$tool is needed" >&2; exit 1; }
done

echo "== cargo build --release -p splitid"
cargo build --release -p splitid
bin=$CARGO_TARGET_DIR/release/splitid
mkdir -p "$OUT"

work=$(mktemp -d)
pids=()
databases=()
worktrees=()
cleanup() {
    for tree in "${worktrees[@]}"; do
        git worktree remove --force "$tree" >/dev/null 2>&1 || true
    done
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    for db in "${databases[@]}"; do
        psql "$POSTGRES" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT

# Creates a scratch database named $1 (dropped by cleanup) and sets $database to its URL.
# Not called in $(…): the list cleanup reads must be extended in this shell, not a subshell.
scratch_database() {
    psql "$POSTGRES" -qc "CREATE DATABASE $1" >/dev/null
    databases+=("$1")
    database="${POSTGRES%/*}/$1"
}

# A port nothing listens on (checked by connecting).
free_port() {
    local port
    while :; do
        port=$((20000 + RANDOM % 20000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return
        fi
    done
}

# Starts a demo node: start_node NAME DATA_DIR [--database URL]; sets $url and $pid. Returns
# once the node answers /health (so a second node finds the first one's KEK and CA).
start_node() {
    local name=$1 data=$2
    shift 2
    local port
    port=$(free_port)
    url="http://127.0.0.1:$port"
    local allow=()
    if [ "$HALF_BITS" = 2048 ]; then
        allow=(--allow-2048)
    fi
    RUST_LOG=warn "$bin" serve --demo "${allow[@]}" --listen "127.0.0.1:$port" --data "$data" \
        "$@" >"$work/$name.log" 2>&1 &
    pid=$!
    pids+=("$pid")
    for _ in $(seq 600); do
        if curl -sf "$url/health" >/dev/null; then
            return
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            cat "$work/$name.log" >&2
            exit 1
        fi
        sleep 0.1
    done
    echo "$name did not start" >&2
    exit 1
}

stop_nodes() {
    for pid in "$@"; do
        kill "$pid"
        wait "$pid" 2>/dev/null || true
    done
}

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# load NAME ARGS…: one load-tool run, its JSON report in $OUT/NAME.json.
load() {
    local name=$1
    shift
    echo "== ($name) load average $(loadavg): splitid loadtest $*"
    "$bin" loadtest --half-bits "$HALF_BITS" --seconds "$RUN_SECONDS" "$@" --json \
        >"$OUT/$name.json"
    jq -r '(.runs // [.])[] | "   concurrency \(.concurrency): \(.transactions_per_second | floor) tx/s, confirmation→answer p99 \(.confirmation_to_answer.p99_ms | floor) ms, \(.errors) errors, load \(.load_average_start)→\(.load_average_end), CPU/tx \(.load_tool_cpu_ms_per_transaction | floor) ms tool + \(.servers_cpu_ms_per_transaction // 0 | floor) ms servers"' \
        "$OUT/$name.json"
}

# (k): this build against the build of $COMPARE_WITH, in turns on one SQLite node each.
compare_builds() {
    local current="$work/splitid-current" baseline="$work/splitid-baseline"
    cp "$bin" "$current"
    worktrees+=("$work/baseline-tree")
    git worktree add --detach "$work/baseline-tree" "$COMPARE_WITH" >/dev/null
    echo "== cargo build --release -p splitid at $COMPARE_WITH"
    # A target directory of its own, kept for the next comparison: in the shared one, the two
    # trees' crates have the same artifact names, and cargo's mtime fingerprints would take
    # one tree's build for the other's.
    local baseline_target="$CARGO_TARGET_DIR/compare-$COMPARE_WITH"
    (cd "$work/baseline-tree" && CARGO_TARGET_DIR="$baseline_target" cargo build --release -p splitid)
    cp "$baseline_target/release/splitid" "$baseline"
    if cmp -s "$current" "$baseline"; then
        echo "the build of $COMPARE_WITH is the same binary as this one: nothing to compare" >&2
        exit 1
    fi
    cp "$current" "$bin"
    local which round
    for round in $(seq "${COMPARE_ROUNDS:-5}"); do
        for which in baseline current; do
            bin=$work/splitid-$which
            start_node "k-$which-$round" "$work/k-$which-$round"
            load "k-$which-$round" --server "$url" --cpu-of "$pid" --devices "$DEVICES" \
                --concurrency "${COMPARE_CONCURRENCY:-4}"
            stop_nodes "$pid"
            jq -c --arg name "$which" '{name: $name, report: .}' "$OUT/k-$which-$round.json" \
                >>"$work/k.jsonl"
        done
    done
    bin=$current
    jq -s --arg baseline "$COMPARE_WITH" --arg current "$(git rev-parse --short HEAD)" '
        def mean(f): (map(f) | add / length);
        def median: sort | if length % 2 == 1 then .[length / 2 | floor]
                           else (.[length / 2 - 1] + .[length / 2]) / 2 end;
        def side(name): [.[] | select(.name == name) | .report | (.runs // [.])[0]];
        side("baseline") as $b | side("current") as $c
        | {baseline: $baseline, current: $current, rounds: ($b | length),
           baseline_server_cpu_ms_per_login: ($b | mean(.servers_cpu_ms_per_transaction)),
           current_server_cpu_ms_per_login: ($c | mean(.servers_cpu_ms_per_transaction)),
           baseline_app_bytes_per_login: ($b | mean(.app_api_bytes_per_transaction)),
           current_app_bytes_per_login: ($c | mean(.app_api_bytes_per_transaction)),
           baseline_tx_per_second: ($b | mean(.transactions_per_second)),
           current_tx_per_second: ($c | mean(.transactions_per_second)),
           each_round: {baseline: ($b | map(.servers_cpu_ms_per_transaction)),
                        current: ($c | map(.servers_cpu_ms_per_transaction))}}
        | .cpu_ratio = (.current_server_cpu_ms_per_login / .baseline_server_cpu_ms_per_login)
        # A round the machine stalled in moves the mean: the medians, and each round against
        # the baseline round just before it, say more on a shared machine.
        | .cpu_ratio_of_medians = ((.each_round.current | median) / (.each_round.baseline | median))
        | .cpu_ratio_each_round = ([.each_round.baseline, .each_round.current] | transpose
                                   | map(.[1] / .[0]))
        ' "$work/k.jsonl" >"$OUT/compare.json"
    jq -r '
        def f(x): x * 100 | round / 100;
        "| build | node CPU ms per login (each round) | mean | app bytes per login | tx/s |",
        "|---|---|---:|---:|---:|",
        "| \(.baseline) (before) | \(.each_round.baseline | map(f(.)) | join(", ")) | \(f(.baseline_server_cpu_ms_per_login)) | \(.baseline_app_bytes_per_login | round) | \(f(.baseline_tx_per_second)) |",
        "| \(.current) (after) | \(.each_round.current | map(f(.)) | join(", ")) | \(f(.current_server_cpu_ms_per_login)) | \(.current_app_bytes_per_login | round) | \(f(.current_tx_per_second)) |",
        "",
        "CPU after / before: \(f(.cpu_ratio)) by the means, \(f(.cpu_ratio_of_medians)) by the medians, each round \(.cpu_ratio_each_round | map(f(.)) | join(", ")) (\(.rounds) rounds each, in turns)."
        ' "$OUT/compare.json" >"$OUT/compare.md"
    echo
    cat "$OUT/compare.md"
}

if [ -n "${COMPARE_WITH:-}" ] && [ "${ONLY_COMPARE:-0}" = 1 ]; then
    compare_builds
    exit 0
fi

started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
load_at_start=$(loadavg)

load a --crypto-bound --concurrency "$CONCURRENCIES"

start_node b "$work/b"
load b --server "$url" --cpu-of "$pid" --devices "$DEVICES" --concurrency "$CONCURRENCIES"
# Half of (b)'s peak, open loop on the same node: the p99 of confirmation to answer.
half_rate=$(jq '.peak.transactions_per_second / 2' "$OUT/b.json")
RUN_SECONDS=$HALF_PEAK_SECONDS load h --server "$url" --cpu-of "$pid" --devices "$DEVICES" \
    --rate "$half_rate"
stop_nodes "$pid"

scratch_database "splitid_loadtest_c1_$$"
start_node c1 "$work/c1" --database "$database"
load c1 --server "$url" --cpu-of "$pid" --devices "$DEVICES" --concurrency "$CONCURRENCIES"
stop_nodes "$pid"

scratch_database "splitid_loadtest_c2_$$"
start_node c2-first "$work/c2" --database "$database"
first_url=$url first_pid=$pid
start_node c2-second "$work/c2" --database "$database"
load c2 --server "$first_url,$url" --cpu-of "$first_pid" --cpu-of "$pid" --devices "$DEVICES" \
    --concurrency "$CONCURRENCIES"
stop_nodes "$first_pid" "$pid"

# The summary: machine, settings, each configuration's peak, the ratios.
jq -n \
    --arg started "$started" --arg finished "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
    --arg cpu "$(lscpu | sed -n 's/^Model name: *//p' | head -1)" \
    --argjson cores "$(nproc)" \
    --arg load_start "$load_at_start" --arg load_end "$(loadavg)" \
    --arg rustc "$(rustc --version)" \
    --argjson half_bits "$HALF_BITS" --argjson seconds "$RUN_SECONDS" \
    --arg concurrencies "$CONCURRENCIES" --argjson devices "$DEVICES" \
    --slurpfile a "$OUT/a.json" --slurpfile b "$OUT/b.json" --slurpfile h "$OUT/h.json" \
    --slurpfile c1 "$OUT/c1.json" --slurpfile c2 "$OUT/c2.json" '
    def peak(r): r | if .peak then .peak else . end;
    {
      machine: {cpu: $cpu, cores: $cores, rustc: $rustc,
                load_average_start: $load_start, load_average_end: $load_end},
      started: $started, finished: $finished,
      settings: {half_bits: $half_bits, seconds_per_run: $seconds,
                 concurrencies: $concurrencies, devices: $devices},
      peaks: {
        a_crypto_bound: peak($a[0]), b_sqlite_one_node: peak($b[0]),
        c1_postgres_one_node: peak($c1[0]), c2_postgres_two_nodes: peak($c2[0])
      },
      half_peak_open_loop: $h[0],
      ratios: {
        b_over_a: (peak($b[0]).transactions_per_second / peak($a[0]).transactions_per_second),
        c1_over_b: (peak($c1[0]).transactions_per_second / peak($b[0]).transactions_per_second),
        c2_over_c1: (peak($c2[0]).transactions_per_second / peak($c1[0]).transactions_per_second),
        # Throughput per CPU time instead of per wall time: what (b)/(a) would be with the
        # CPU to itself (PostgreSQL and the kernel outside the processes not counted).
        b_over_a_by_cpu: (peak($a[0]).load_tool_cpu_ms_per_transaction
          / (peak($b[0]).load_tool_cpu_ms_per_transaction + peak($b[0]).servers_cpu_ms_per_transaction))
      },
      nodes_for_80_per_second: {
        sqlite: (80 / peak($b[0]).transactions_per_second | ceil),
        postgres: (80 / peak($c1[0]).transactions_per_second | ceil),
        # A node with all the cores of this machine to itself (devices on phones, PostgreSQL
        # elsewhere): its capacity from the server CPU time per transaction.
        postgres_node_alone_capacity: ($cores * 1000 / peak($c1[0]).servers_cpu_ms_per_transaction),
        postgres_nodes_alone: (80 / ($cores * 1000 / peak($c1[0]).servers_cpu_ms_per_transaction) | ceil)
      }
    }' >"$OUT/summary.json"

jq -r '
    def f(x): x * 10 | round / 10;
    def row(name; r): "| \(name) | \(r.concurrency) | \(f(r.transactions_per_second)) | \(f(r.total_latency.p50_ms)) / \(f(r.total_latency.p99_ms)) | \(f(r.confirmation_to_answer.p50_ms)) / \(f(r.confirmation_to_answer.p99_ms)) | \(r.errors) | \(r.rp_api_bytes_per_transaction // "–" | if type == "number" then round else . end) | \(r.app_api_bytes_per_transaction // "–" | if type == "number" then round else . end) | \(f(r.load_tool_cpu_ms_per_transaction)) + \(f(r.servers_cpu_ms_per_transaction // 0)) | \(r.load_average_start) → \(r.load_average_end) |";
    "Machine: \(.machine.cpu), \(.machine.cores) cores; \(.machine.rustc); \(.started) – \(.finished); load average \(.machine.load_average_start) at the start, \(.machine.load_average_end) at the end.",
    "Settings: \(.settings.half_bits)-bit halves, \(.settings.seconds_per_run) s per concurrency, concurrencies \(.settings.concurrencies), \(.settings.devices) devices.",
    "",
    "| configuration | peak at concurrency | tx/s | start→answer p50 / p99 ms | confirmation→answer p50 / p99 ms | errors | RP bytes/tx | app bytes/tx | CPU ms/tx: load tool + servers | load average (1 min) |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    row("(a) crypto bound"; .peaks.a_crypto_bound),
    row("(b) one node, SQLite"; .peaks.b_sqlite_one_node),
    row("(c1) one node, PostgreSQL"; .peaks.c1_postgres_one_node),
    row("(c2) two nodes, PostgreSQL"; .peaks.c2_postgres_two_nodes),
    "",
    "Ratios: (b)/(a) = \(.ratios.b_over_a * 100 | round / 100), (c1)/(b) = \(.ratios.c1_over_b * 100 | round / 100), (c2)/(c1) = \(.ratios.c2_over_c1 * 100 | round / 100); (b)/(a) by CPU time per transaction = \(.ratios.b_over_a_by_cpu * 100 | round / 100).",
    "Half of (b)\u0027s peak, open loop (\(f(.half_peak_open_loop.target_rate)) tx/s asked, \(f(.half_peak_open_loop.transactions_per_second)) done, \(.half_peak_open_loop.late_starts) late starts, \(.half_peak_open_loop.errors) errors): confirmation→answer p50 \(f(.half_peak_open_loop.confirmation_to_answer.p50_ms)) ms, p95 \(f(.half_peak_open_loop.confirmation_to_answer.p95_ms)) ms, p99 \(f(.half_peak_open_loop.confirmation_to_answer.p99_ms)) ms.",
    "Nodes like this one for 80 tx/s, from the peaks measured here (devices and PostgreSQL on the same machine): \(.nodes_for_80_per_second.sqlite) (SQLite), \(.nodes_for_80_per_second.postgres) (PostgreSQL); a PostgreSQL node with the \(.machine.cores) cores to itself, from its CPU time per transaction: \(f(.nodes_for_80_per_second.postgres_node_alone_capacity)) tx/s, so \(.nodes_for_80_per_second.postgres_nodes_alone) node(s)."
    ' "$OUT/summary.json" >"$OUT/summary.md"

echo
cat "$OUT/summary.md"
echo
echo "Reports: $OUT/{a,b,h,c1,c2}.json, summary.json, summary.md"
if [ -n "${COMPARE_WITH:-}" ]; then
    compare_builds
fi
