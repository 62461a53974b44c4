#!/usr/bin/env bash
# The throughput benchmark behind the generation settings (README "Throughput"): serves a model on
# port 8081 at each threads × slots setting in turn and measures real, uncached requests per
# workload with `synthehr throughput`, appending to benches/throughput/measurements.jsonl; then
# prints the table. Valid rows per CPU-hour use the benchmark server's own CPU time, so the
# figures hold when the evidence generator (port 8080) runs beside it; the tokens/s columns are
# wall-clock and do not.
#
#   scripts/throughput.sh [--model qwen1.5b] [--quick] [--setting 1x4 --workload SPEC ...]
#
# --quick measures one workload (a smoke run, ~10 minutes); --workload (repeatable) measures only
# the given workloads at --setting THREADSxSLOTS (default 1x4), e.g. group/f82/r5/constrained/g3/prefix. Workloads already in the
# measurements file for a setting are skipped, so a stopped run resumes where it was.
#
# The grid is cut to what fits beside the evidence generator on 2 cores (~3 hours): free vs
# constrained and both prompt layouts at 10 columns, free (today's setting) vs constrained
# prefix-first at 83 columns, and threads × slots on the grid's 10-column constrained workload.
set -euo pipefail
cd "$(dirname "$0")/.."
export SYNTHEHR_DATA="${SYNTHEHR_DATA:-$(cd .. && pwd)/shared/data}"
DIR="${SYNTHEHR_LLM_DIR:-$HOME/.cache/synthehr/llm}"
MODEL=qwen1.5b; QUICK=0; SETTING=1x4; ONLY=()
while [ $# -gt 0 ]; do
  case "$1" in
    --model) MODEL="$2"; shift 2;;
    --quick) QUICK=1; shift;;
    --setting) SETTING="$2"; shift 2;;
    --workload) ONLY+=("$2"); shift 2;;
    *) echo "throughput: unknown option $1" >&2; exit 2;;
  esac
done
case "$MODEL" in
  qwen1.5b) ID=qwen2.5-coder-1.5b-instruct;;
  qwen0.5b) ID=qwen2.5-coder-0.5b-instruct;;
  smollm2) ID=smollm2-135m-instruct;;
  *) echo "throughput: unknown model $MODEL" >&2; exit 2;;
esac
PORT=8081
# committed, so a run on another machine resumes and the README table can be re-printed
OUT=benches/throughput/measurements.jsonl
cargo build --release
BIN="$(mktemp -d)/synthehr"
cp "${CARGO_TARGET_DIR:-target}/release/synthehr" "$BIN"
trap 'scripts/local-llm.sh stop --port $PORT >/dev/null 2>&1 || true' EXIT

measure() { # threads slots workload...
  local t=$1 s=$2; shift 2
  scripts/local-llm.sh stop --port $PORT >/dev/null 2>&1 || true
  scripts/local-llm.sh serve --model "$MODEL" --port $PORT --threads "$t" --slots "$s" --ctx-per-slot 8192
  local args=()
  for w in "$@"; do args+=(--workload "$w"); done
  "$BIN" throughput --base-url http://127.0.0.1:$PORT/v1 --model "$ID" \
    --server-info "$DIR/server-$PORT.json" --out "$OUT" "${args[@]}"
}

if [ ${#ONLY[@]} -gt 0 ]; then
  case "$SETTING" in
    [0-9]*x[0-9]*) ;;
    *) echo "throughput: --setting must be THREADSxSLOTS, e.g. 1x4 (got $SETTING)" >&2; exit 2;;
  esac
  measure "${SETTING%x*}" "${SETTING#*x}" "${ONLY[@]}"
elif [ "$QUICK" = 1 ]; then
  measure 1 4 group/f5/r20/constrained
else
  # today's settings first: free vs constrained, rows per call and layout at 10 and 83 columns
  measure 1 4 group/f10/r20/free group/f10/r20/constrained group/f10/r20/constrained/prefix \
    group/f82/r5/free group/f82/r5/constrained/prefix group/f10/r50/constrained/prefix \
    group/f82/r20/constrained/prefix
  # threads and slots, on the grid's 10-column constrained workload
  measure 2 4 group/f10/r20/constrained
  measure 1 8 group/f10/r20/constrained
  measure 2 8 group/f10/r20/constrained
fi
"$BIN" throughput --table-only --out "$OUT"
