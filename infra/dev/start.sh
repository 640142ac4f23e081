#!/usr/bin/env bash
# npm start: installs what is missing, starts Postgres, Redis, Kafka and Jaeger (unless their
# endpoints are configured), starts every Orrery service, seeds demo data and trains a first model.
set -euo pipefail
cd "$(dirname "$0")/../.."

bash infra/dev/prepare.sh
bash infra/local/stack.sh up
eval "$(bash infra/local/stack.sh env)"
# grpcurl, for the README's examples, unless one is on PATH; the platform runs without it.
if ! command -v grpcurl >/dev/null; then
  bash infra/dev/go-tool.sh grpcurl >/dev/null || echo "start: grpcurl could not be installed; the platform runs without it" >&2
fi
node apps/cli/dist/main.js up "$@"
