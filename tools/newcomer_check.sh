#!/usr/bin/env bash
# The book as a newcomer builds it: a fresh clone, a machine with Python and make but no Node.js
# (node, npm, npx and corepack are hidden from PATH), then `make book`. The book must build,
# with its JavaScript vendored from the npm registry through Node.js from PyPI, and its pages
# must render math, figures and explorers in headless Chromium with no network
# (tests/browser). Run it with `make newcomer-check`; CI runs it after `make test`.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
python="$(command -v "${PYTHON:-python3}")"
python="$("$python" -c 'import sys; print(sys.executable)')"  # resolve pyenv shims
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
git clone --quiet "$root" "$tmp/clone"

# A PATH with every command of this one except Node.js's.
mkdir "$tmp/bin"
IFS=: read -r -a dirs <<<"$PATH"
for dir in "${dirs[@]}"; do
  [ -d "$dir" ] || continue
  for file in "$dir"/*; do
    name="$(basename "$file")"
    case "$name" in node | nodejs | npm | npx | corepack) continue ;; esac
    if [ -x "$file" ] && [ ! -e "$tmp/bin/$name" ]; then ln -s "$file" "$tmp/bin/$name"; fi
  done
done
if PATH="$tmp/bin" command -v npm >/dev/null 2>&1; then
  echo "newcomer check: npm is still on the trimmed PATH" >&2
  exit 1
fi

cd "$tmp/clone"
PATH="$tmp/bin" make book PYTHON="$python"
test -x .venv/bin/npm || { echo "newcomer check: Node.js did not come from PyPI" >&2; exit 1; }
for file in mathjax/tex-mml-chtml.js vega/vega-embed.min.js widgets/embed-amd.js; do
  test -s "_build/html/_static/$file" || test -s "_vendor/$file" \
    || { echo "newcomer check: $file was not vendored" >&2; exit 1; }
done
PATH="$tmp/bin" .venv/bin/python -m pytest -q -p no:cacheprovider tests/browser
echo "newcomer check passed: the book built and rendered with no system Node.js"
