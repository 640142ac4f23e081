#!/usr/bin/env bash
# npm stop: stops the Orrery services; `npm stop -- --all` stops the local engines too.
set -euo pipefail
cd "$(dirname "$0")/../.."

if [ -f apps/cli/dist/main.js ]; then node apps/cli/dist/main.js down; fi
if [ "${1:-}" = "--all" ]; then bash infra/local/stack.sh down; fi
