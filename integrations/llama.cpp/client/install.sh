#!/usr/bin/env bash
# Installs the pinned `openai` npm client (package-lock.json here) into DIR, a folder outside the clone,
# and copies the scripts next to it:
#   DIR/package.json, DIR/package-lock.json   copies of the committed ones
#   DIR/node_modules/openai                   from `npm ci`, integrity-checked against the lockfile
#   DIR/*.mjs                                 e2e.mjs, load.mjs and the modules they import
# Run the copies (node DIR/e2e.mjs ...): ESM resolves 'openai' from the importing file's folder upwards
# and ignores NODE_PATH, so copying the scripts is what makes them find the pinned package.
# Idempotent: npm ci runs only when DIR/node_modules/openai is missing or not the pinned version, or the
# lockfile changed since the last install (DIR/.package-lock.sha256); the scripts are always recopied.
# Needs node >= 18 and npm >= 7 (lockfile v3). Prints DIR.
# Usage: integrations/llama.cpp/client/install.sh DIR
set -euo pipefail
src=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ $# -ne 1 ] || [ -z "$1" ]; then
  echo "usage: $0 DIR   (a folder outside the clone, e.g. \${TRITIUM_CACHE:-\$HOME/.cache/tritium}/llama-client)" >&2
  exit 2
fi
dir=$(realpath -m "$1")
# node_modules inside the clone would show up in git status and shadow other checkouts' resolution.
top=$(git -C "$src" rev-parse --show-toplevel 2>/dev/null || true)
if [ -n "$top" ]; then
  top=$(cd "$top" && pwd -P)
  case "$dir/" in
    "$top"/*) echo "install.sh: DIR $dir is inside the clone $top; expected a folder outside it" >&2; exit 2 ;;
  esac
fi
mkdir -p "$dir"

want=$(node -p 'require(process.argv[1]).dependencies.openai' "$src/package.json")
digest=$(sha256sum "$src/package-lock.json" | cut -d' ' -f1)
installed_version() {
  node -p 'try { require(process.argv[1]).version } catch { "" }' "$dir/node_modules/openai/package.json"
}
if [ "$(installed_version)" = "$want" ] && [ "$(cat "$dir/.package-lock.sha256" 2>/dev/null)" = "$digest" ]; then
  echo "install.sh: openai $want already installed in $dir" >&2
else
  rm -f "$dir/.package-lock.sha256"
  cp "$src/package.json" "$src/package-lock.json" "$dir/"
  # --ignore-scripts: nothing in this tree needs install scripts, so none may run.
  (cd "$dir" && npm ci --omit=dev --no-audit --no-fund --ignore-scripts >&2)
  got=$(installed_version)
  if [ "$got" != "$want" ]; then
    echo "install.sh: npm ci left openai '$got' in $dir, expected $want" >&2
    exit 3
  fi
  echo "$digest" >"$dir/.package-lock.sha256"
fi
cp "$src"/*.mjs "$dir/"
echo "$dir"
