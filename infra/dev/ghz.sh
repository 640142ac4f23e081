#!/usr/bin/env bash
# npm run bench:ghz — load the running platform's Recommend with ghz (https://ghz.sh), installed with
# `go install` on first use. Needs `npm start` first (demo users user-0000…user-0999).
# Options pass through to ghz; default: 10 s at 500 requests/s over 8 workers and 4 connections.
#   npm run bench:ghz                       # --rps 500 -c 8 -z 10s
#   npm run bench:ghz -- -c 16 -z 20s       # closed loop, as fast as it goes
set -euo pipefail
cd "$(dirname "$0")/../.."

GHZ_VERSION=v0.93.0
GHZ="$(command -v ghz || true)"
if [[ -z "${GHZ}" ]]; then
  GHZ="$(go env GOPATH)/bin/ghz"
  if [[ ! -x "${GHZ}" ]]; then
    command -v go >/dev/null || { echo "ghz needs Go to install (https://go.dev/dl/)" >&2; exit 1; }
    echo "installing ghz ${GHZ_VERSION} with go install…" >&2
    go install "github.com/bojand/ghz/cmd/ghz@${GHZ_VERSION}"
  fi
fi

eval "$(bash infra/local/stack.sh env)"
ADDRESS="${ORRERY_RECOMMENDER_ADDRESS:-127.0.0.1:50052}"
REQUESTS=".orrery/ghz-recommend-requests.json"
mkdir -p .orrery
# 1000 Recommend requests for random demo users; ghz sends them round robin.
node -e '
  const requests = Array.from({ length: 1000 }, () => ({ user_id: `user-${String(Math.floor(Math.random() * 1000)).padStart(4, "0")}`, count: 10 }));
  require("fs").writeFileSync(process.argv[1], JSON.stringify(requests));
' "${REQUESTS}"

# Candidates scored per Recommend: the change of scoring's orrery_scoring_batch_rows sum / the requests
# ghz sent (the recommender merges the score calls of requests served together into one batch).
SCORING_METRICS="http://127.0.0.1:${ORRERY_METRICS_PORT_SCORING:-9476}/metrics"
batch_rows() { curl -fs --max-time 2 "${SCORING_METRICS}" | awk '/^orrery_scoring_batch_rows_(sum|count)[{ ]/ { printf "%s ", $NF }'; }

args=("$@")
# 4 connections, as several client processes would open (one HTTP/2 connection would also pin all
# calls to one worker when ORRERY_RECOMMENDER_WORKERS > 1).
[[ ${#args[@]} -eq 0 ]] && args=(--rps 500 -c 8 --connections 4 -z 10s)
before="$(batch_rows || true)"
REPORT=".orrery/ghz-recommend-report.txt"
"${GHZ}" --insecure --call orrery.v1.RecommendationService/Recommend -D "${REQUESTS}" "${args[@]}" "${ADDRESS}" | tee "${REPORT}"
after="$(batch_rows || true)"
requests="$(awk '$1 == "Count:" { print $2; exit }' "${REPORT}")"
if [[ -n "${before}" && -n "${after}" && -n "${requests}" ]]; then
  awk -v b="${before}" -v a="${after}" -v r="${requests}" 'BEGIN { split(b, x, " "); split(a, y, " "); n = y[2] - x[2];
    if (n > 0 && r > 0) printf "\nCandidates scored per Recommend (scoring batch rows): mean %.0f; %d requests in %d scoring batches\n", (y[1] - x[1]) / r, r, n }'
fi
