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
# The models stage (finding 6): Qwen2.5-Coder-0.5B on its own server (port 8082, own
# fingerprint file, the same 1 thread x 4 slots) through the grammar-3 dimensionality cells,
# beside everything below. SECOND_MODEL=none leaves the second core to builds.
if [ "${SECOND_MODEL:-qwen0.5b}" = qwen0.5b ]; then
  scripts/local-llm.sh setup --model qwen0.5b
  scripts/local-llm.sh serve --model qwen0.5b --threads 1 --slots 4 --ctx-per-slot 12288 --port 8082
  DIR="${SYNTHEHR_LLM_DIR:-$HOME/.cache/synthehr/llm}"
  "$BIN" generate --profile local --stage dimensionality-constrained-g3 --provider openai-compatible \
    --base-url http://127.0.0.1:8082/v1 --server-info "$DIR/server-8082.json" \
    --model qwen2.5-coder-0.5b-instruct --timeout-secs 30000 > generate-05b.log 2>&1 &
fi
# 1. the live check of constrained decoding at 83 columns under grammar 3 (the first calls of the
# naive and group cells of stage 3 below), both cells side by side on the server's four slots
"$BIN" generate --profile constrained-check --stage check-naive --concurrency 2 "${ARGS[@]}" &
"$BIN" generate --profile constrained-check --stage check-group --concurrency 2 "${ARGS[@]}"
wait
# ... and the same calls with the DRY sampler against the near-copy collapse seen there
"$BIN" generate --profile constrained-check --stage check-naive-dry --concurrency 2 "${ARGS[@]}" &
"$BIN" generate --profile constrained-check --stage check-group-dry --concurrency 2 "${ARGS[@]}"
wait
# 2. dimensionality under grammar 3 (exact ranges; findings 3, 5), then 3. sample size under
# grammar 3 (finding 4: the 10-feature stream continued to 2,000 rows), then 4. strategies at 83
# columns under grammar 3 (findings 1, 2; ~2.5 h of a slot per call here)
"$BIN" generate --profile local --stage dimensionality-constrained-g3 "${ARGS[@]}"
"$BIN" generate --profile local --stage sample-size-constrained "${ARGS[@]}"
"$BIN" generate --profile local --stage strategies-constrained "${ARGS[@]}"
# 5. the grammar-2 dimensionality cells to their call budgets (chapter 11's paired comparison)
"$BIN" generate --profile local --stage dimensionality-constrained "${ARGS[@]}"
