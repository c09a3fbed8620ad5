#!/usr/bin/env bash
# Installs LiteLLM for the client-compatibility tests (tests/clients/); never a gateway dependency.
#
#   .venv                     litellm==NEWEST, the SDK only (the tests import it in-process)
#   .venv-litellm-<version>   litellm[proxy]==<version> + mediarouter (editable) + pytest, one per
#                             tested version: runs the LiteLLM proxy process, and for the older
#                             version the LiteLLM part of tests/clients/ in a subprocess
#
# The newest releases pin a certifi newer than the package index holds: `uv pip install --override`
# loosens that pin (a constraints file cannot). Idempotent: a stamp per venv records what it holds,
# so a second run costs milliseconds.
#
# Usage: scripts/install-litellm.sh [VENV]   (VENV defaults to .venv; PY picks the Python for new venvs)
# The versions here must match TESTED_VERSIONS in src/mediarouter/litellm/compat.py (a test checks).
set -euo pipefail
cd "$(dirname "$0")/.."

NEWEST=1.109.1
# version:how; "override" for the releases whose certifi pin the index cannot meet, "plain" otherwise
VERSIONS="1.109.1:override 1.102.4:plain"
OVERRIDES=scripts/litellm-overrides.txt
VENV=${1:-.venv}
PY=${PY:-python3}

if [ ! -x "$VENV/bin/python" ]; then
  echo "install-litellm: $VENV does not exist; run 'make test' (or create it) first" >&2
  exit 1
fi
UV="$VENV/bin/uv"
stamp_ok() { [ -f "$1" ] && [ "$(cat "$1")" = "$2" ]; }

# The stamp's content names everything the install depends on, so a change reinstalls.
want_main="litellm==$NEWEST $(cksum <"$OVERRIDES")"
if ! stamp_ok "$VENV/.installed-litellm" "$want_main"; then
  [ -x "$UV" ] || "$VENV/bin/pip" install -q "uv>=0.5"
  "$UV" pip install -q --python "$VENV/bin/python" --override "$OVERRIDES" "litellm==$NEWEST"
  echo "$want_main" >"$VENV/.installed-litellm"
fi

for entry in $VERSIONS; do
  version=${entry%%:*}
  override=()
  [ "${entry#*:}" = override ] && override=(--override "$OVERRIDES")
  side=".venv-litellm-$version"
  want="litellm[proxy]==$version $(cksum <"$OVERRIDES") $(cksum <pyproject.toml)"
  stamp_ok "$side/.installed" "$want" && continue
  [ -x "$UV" ] || "$VENV/bin/pip" install -q "uv>=0.5"
  [ -x "$side/bin/python" ] || "$PY" -m venv "$side"
  "$UV" pip install -q --python "$side/bin/python" "${override[@]}" \
    "litellm[proxy]==$version" -e . "pytest>=8"
  echo "$want" >"$side/.installed"
done
