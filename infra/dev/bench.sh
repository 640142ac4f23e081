#!/usr/bin/env bash
# npm run bench: builds, starts the local engines, and runs `orrery bench` on an isolated platform.
# Options pass through: npm run bench -- --seconds 20 --rate 500 --concurrency 8
set -euo pipefail
cd "$(dirname "$0")/../.."

bash infra/dev/prepare.sh
bash infra/local/stack.sh up
eval "$(bash infra/local/stack.sh env)"
node apps/cli/dist/main.js bench "$@"
