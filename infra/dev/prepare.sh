#!/usr/bin/env bash
# Installs npm dependencies when they are missing or stale, then generates code and builds.
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v node >/dev/null 2>&1; then
  echo "prepare: Node.js is missing; installing it from Debian" >&2
  apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null
fi
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ] || [ package.json -nt node_modules/.package-lock.json ]; then
  echo "prepare: installing npm dependencies…"
  npm ci --no-audit --no-fund
fi
echo "prepare: generating code from proto/ and building…"
npm run --silent build
