#!/usr/bin/env bash
# The one command: install what the benchmark needs (if missing), then run every scenario for
# direct / mediarouter / LiteLLM and write bench/RESULTS.md's tables.
#
#   bench/run.sh                       # the full run (~30 min on 2 cores)
#   bench/run.sh --only a,c --quick    # a short development run (does not touch RESULTS.md)
#
# Installs: Debian's wrk (apt), bench/.venv-tools (uv, py-spy, pyinstrument) and
# bench/.venv-litellm (litellm[proxy]==1.109.1; its certifi pin is newer than the index holds,
# so `uv pip install --override` loosens it). Both venvs are git-ignored and re-used.
set -euo pipefail
cd "$(dirname "$0")/.."

LITELLM_VERSION=1.109.1
PY=${PY:-python3}

if ! command -v wrk >/dev/null; then
  apt-get update -qq && apt-get install -y -qq wrk >/dev/null
fi
if [ ! -x .venv/bin/mediarouter ]; then
  make .venv/.installed
fi
if [ ! -x bench/.venv-tools/bin/uv ] || [ ! -x bench/.venv-tools/bin/py-spy ]; then
  [ -x bench/.venv-tools/bin/python ] || "$PY" -m venv bench/.venv-tools
  bench/.venv-tools/bin/pip install -q uv py-spy pyinstrument
fi
want="litellm[proxy]==$LITELLM_VERSION $(cksum <bench/litellm-overrides.txt)"
if [ ! -f bench/.venv-litellm/.installed ] || [ "$(cat bench/.venv-litellm/.installed)" != "$want" ]; then
  [ -x bench/.venv-litellm/bin/python ] || "$PY" -m venv bench/.venv-litellm
  bench/.venv-tools/bin/uv pip install -q --python bench/.venv-litellm/bin/python \
    --override bench/litellm-overrides.txt "litellm[proxy]==$LITELLM_VERSION"
  echo "$want" >bench/.venv-litellm/.installed
fi

ulimit -n "$(ulimit -Hn)"  # (d) holds 2,000 client and 2,000 upstream connections per gateway
exec .venv/bin/python -m bench "$@"
