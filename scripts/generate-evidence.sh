#!/usr/bin/env bash
# The evidence grid in the background, resuming from the committed cache (every recorded call is
# a cache hit). Serves Qwen2.5-Coder-1.5B with the settings of the model's existing fingerprint
# (1 thread, 4 slots: threads and slots are part of every cache key, so one setting per model),
# with 12k context per slot for the 83-column calls, then fills the constrained stages in order.
#
#   nohup scripts/generate-evidence.sh > generate.log 2>&1 &
#
# Commit new entries as they land: python3 scripts/cache-answer-hashes.py (only for entries from
# binaries older than answer hashes), `synthehr cache verify`, `synthehr build --offline`.
set -euo pipefail
cd "$(dirname "$0")/.."
export SYNTHEHR_DATA="${SYNTHEHR_DATA:-$(cd .. && pwd)/shared/data}"
scripts/local-llm.sh setup --model qwen1.5b
scripts/local-llm.sh serve --model qwen1.5b --threads 1 --slots 4 --ctx-per-slot 12288
cargo build --release
BIN="$(mktemp -d)/synthehr"
cp target/release/synthehr "$BIN" # a rebuild while this runs must not replace the running binary
ARGS=(--provider openai-compatible --base-url http://127.0.0.1:8080/v1
      --model qwen2.5-coder-1.5b-instruct --timeout-secs 30000)
DIR="${SYNTHEHR_LLM_DIR:-$HOME/.cache/synthehr/llm}"
# Each Qwen 1.5B server starts with one wave of the 83-column strategies cells (findings 1, 2, the
# long pole): STRATEGY_CALLS (4) new calls of ~2.3 h of a slot each, which fit in a 3-hour session
# only when started at its beginning; then, with the session's rest, short 10-feature calls: the
# sample-size stream (finding 4), then the across-regions cells (chapter 7). Two processes on one
# stage ask different calls (a call another process has out is not asked again).
# The second core. Default: a second Qwen2.5-Coder-1.5B server (port 8081, the same 1 thread x
# 4 slots, so the same fingerprint and keys: the port is not part of a key).
# SECOND_CORE=qwen0.5b gives the core to Qwen2.5-Coder-0.5B (port 8082, own fingerprint)
# through the grammar-3 dimensionality cells (finding 6; all ended 2026-12-03); none leaves it
# to builds.
case "${SECOND_CORE:-strategies}" in
  strategies)
    scripts/local-llm.sh serve --model qwen1.5b --threads 1 --slots 4 --ctx-per-slot 12288 --port 8081
    SECOND=(--provider openai-compatible --base-url http://127.0.0.1:8081/v1
            --server-info "$DIR/server-8081.json" --model qwen2.5-coder-1.5b-instruct
            --timeout-secs 30000)
    { "$BIN" generate --profile local --stage strategies-constrained \
        --max-new-calls "${STRATEGY_CALLS:-4}" "${SECOND[@]}"
      "$BIN" generate --profile local --stage sample-size-constrained "${SECOND[@]}"
      "$BIN" generate --profile local --stage across-regions-constrained "${SECOND[@]}"
    } > generate-second.log 2>&1 &;;
  qwen0.5b)
    scripts/local-llm.sh setup --model qwen0.5b
    scripts/local-llm.sh serve --model qwen0.5b --threads 1 --slots 4 --ctx-per-slot 12288 --port 8082
    "$BIN" generate --profile local --stage dimensionality-constrained-g3 --provider openai-compatible \
      --base-url http://127.0.0.1:8082/v1 --server-info "$DIR/server-8082.json" \
      --model qwen2.5-coder-0.5b-instruct --timeout-secs 30000 > generate-05b.log 2>&1 &;;
  none) ;;
  *) echo "SECOND_CORE must be strategies, qwen0.5b or none" >&2; exit 2;;
esac
# SmolLM2-135M through the grammar-3 dimensionality cells (finding 6's third model; port 8083, its
# own fingerprint, 8k context: the model's). ~10 tokens/s beside the two Qwen servers, so it takes
# about a third of the CPU until its cells end; once they have, its run is cache hits. SMOLLM=0
# leaves it out.
if [ "${SMOLLM:-1}" = 1 ]; then
  scripts/local-llm.sh setup --model smollm2
  scripts/local-llm.sh serve --model smollm2 --threads 1 --slots 4 --ctx-per-slot 8192 --port 8083
  "$BIN" generate --profile local --stage dimensionality-constrained-g3 --provider openai-compatible \
    --base-url http://127.0.0.1:8083/v1 --server-info "$DIR/server-8083.json" \
    --model smollm2-135m-instruct --timeout-secs 30000 > generate-smollm.log 2>&1 &
fi
# 1. the live check of constrained decoding at 83 columns under grammar 3 (cache hits), plain and
# with the DRY sampler (the first calls of the strategies cells)
"$BIN" generate --profile constrained-check --stage check-naive --concurrency 2 "${ARGS[@]}"
"$BIN" generate --profile constrained-check --stage check-group --concurrency 2 "${ARGS[@]}"
"$BIN" generate --profile constrained-check --stage check-naive-dry --concurrency 2 "${ARGS[@]}"
"$BIN" generate --profile constrained-check --stage check-group-dry --concurrency 2 "${ARGS[@]}"
# 2. this server's strategies wave, 3. dimensionality under grammar 3 (exact ranges; findings 3,
# 5; complete since 2026-12-04, so cache hits), 4. sample size under grammar 3 (finding 4: the
# 10-feature stream continued to 2,000 rows), 5. the across-regions cells (chapter 7), then 6. the
# grammar-2 dimensionality cells to their call budgets (chapter 11's paired comparison, decides
# nothing)
"$BIN" generate --profile local --stage strategies-constrained \
  --max-new-calls "${STRATEGY_CALLS:-4}" "${ARGS[@]}"
"$BIN" generate --profile local --stage dimensionality-constrained-g3 "${ARGS[@]}"
"$BIN" generate --profile local --stage sample-size-constrained "${ARGS[@]}"
"$BIN" generate --profile local --stage across-regions-constrained "${ARGS[@]}"
"$BIN" generate --profile local --stage dimensionality-constrained "${ARGS[@]}"
wait # for the other cores' runs
