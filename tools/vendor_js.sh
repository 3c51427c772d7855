#!/usr/bin/env bash
# Install the JavaScript that the HTML book serves itself (no CDN needed to read it):
# require.js and the Jupyter widgets HTML manager (widgets), and MathJax 3 (math).
set -euo pipefail
cd "$(dirname "$0")/.."
work=.npm-vendor
mkdir -p "$work"
npm install --prefix "$work" --no-audit --no-fund --silent \
  @jupyter-widgets/html-manager@1.0.6 requirejs@2.3.7 mathjax@3.2.2
rm -rf _vendor
mkdir -p _vendor/widgets _vendor/mathjax
cp "$work/node_modules/requirejs/require.js" _vendor/widgets/require.js
cp "$work/node_modules/@jupyter-widgets/html-manager/dist/embed-amd.js" _vendor/widgets/embed-amd.js
es5="$work/node_modules/mathjax/es5"
cp "$es5/tex-mml-chtml.js" _vendor/mathjax/
mkdir -p _vendor/mathjax/output/chtml
cp -r "$es5/output/chtml/fonts" _vendor/mathjax/output/chtml/
echo "vendored JavaScript into _vendor/"
