#!/usr/bin/env bash
# npm run bench:ghz — load the running platform's Recommend with ghz (https://ghz.sh): the one on PATH,
# or built into .orrery/bin by infra/dev/go-tool.sh on first use. Needs `npm start` first (demo users user-0000…user-0999).
# Options pass through to ghz; default: 10 s at 500 requests/s over 8 workers and 4 connections. At a
# rate (--rps) it adds ghz's --async (each call sent when due, whatever is in flight: an open loop).
#   npm run bench:ghz                       # --rps 500 -c 8 -z 10s
#   npm run bench:ghz -- -c 16 -z 20s       # closed loop, as fast as it goes
#   ORRERY_BENCH_WRITE_RATE=1000 npm run bench:ghz   # while 1000 events/s are ingested (orrery write-load)
#   npm run bench:ghz -- --ladder 50,100,200,300,500,800,1200 [--ladder-seconds 5] [-c 64 --connections 4]
#       a rate ladder: after a 3 s warm-up, ghz at each rate in turn; prints latency and CPU per request
#       at each rate, the highest rate with p99 < 10 ms, and plots latency by rate (.orrery/ghz-recommend-by-rate.svg);
#       with ORRERY_BENCH_WRITE_RATE the write load runs through every step
set -euo pipefail
cd "$(dirname "$0")/../.."

# A ghz on PATH is used as it is; else the pinned one, built into .orrery/bin on first use.
GHZ="$(command -v ghz || bash infra/dev/go-tool.sh ghz)"

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

# CPU per Recommend of the recommender (the processes listening on its port and their children, the
# node:cluster workers) and of scoring (listening on its ZeroMQ port): utime + stime from /proc, before
# and after the run, over the requests ghz sent. This, more than latency, is what compares two builds
# on a shared 2-core box; it includes each process's every thread (V8's GC helpers, ZeroMQ's I/O thread).
# Each group's processes are listed again at the end of the run (process-cpu.sh): a worker that
# replaced another mid-run is counted, and the one that exited is reported.
source infra/dev/process-cpu.sh
pids_on_port() { ss -ltnpH "sport = :$1" 2>/dev/null | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u || true; }
with_children() { for pid in "$@"; do echo "${pid}"; pgrep -P "${pid}" || true; done | sort -u; }
SCORING_ENDPOINT="${ORRERY_SCORING_ZMQ_ENDPOINT:-tcp://127.0.0.1:5561}"
recommender_pids() { with_children $(pids_on_port "${ADDRESS##*:}"); }
scoring_pids() { pids_on_port "${SCORING_ENDPOINT##*:}"; }
# read_cpu PREFIX: each group's readings into PREFIX.recommender and PREFIX.scoring.
read_cpu() {
  cpu_readings $(recommender_pids) > "$1.recommender"
  cpu_readings $(scoring_pids) > "$1.scoring"
}
# cpu_used BEFORE AFTER GROUP: the ticks GROUP used between the two read_cpu, telling when its processes changed.
cpu_used() {
  local ticks started exited
  read -r ticks started exited < <(cpu_used_between "$1.$3" "$2.$3")
  note_changed_processes "$3" "${started}" "${exited}"
  echo "${ticks}"
}

# ghz paces its calls at --rps, but without --async each call goes from one of its -c workers, which
# waits for the answer: once -c calls are in flight, the calls that come due wait unseen for a worker
# and are timed from when they are sent, so a stall of the server shows in -c calls only (coordinated
# omission; a 300 ms stall at 200 req/s with -c 4 read p99 22.7 ms, 288.7 with --async). With --async
# every call is sent when it is due and timed from then, as `npm run bench`'s open loop does.
with_async_if_paced() {
  local arg paced=""
  for arg in "$@"; do
    [[ "${arg}" == "--async" ]] && return 0
    [[ "${arg}" == "--rps" || "${arg}" == --rps=* || "${arg}" == -r || "${arg}" == -r[0-9]* ]] && paced=1
  done
  [[ -n "${paced}" ]] && echo "--async"
  return 0
}

args=()
LADDER=""
LADDER_SECONDS=5
while [[ $# -gt 0 ]]; do
  case "$1" in
    --ladder) LADDER="${2:?--ladder needs rates, e.g. 50,100,200}"; shift 2 ;;
    --ladder-seconds) LADDER_SECONDS="${2:?--ladder-seconds needs a number}"; shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
# Background write load: random views and clicks of the demo users and items through ingestion,
# started 2 s before ghz (the write path warms up) and stopped when ghz (or the ladder) ends.
WRITE_RATE="${ORRERY_BENCH_WRITE_RATE:-0}"
writer=""
if [[ "${WRITE_RATE}" != "0" ]]; then
  node apps/cli/dist/main.js write-load --rate "${WRITE_RATE}" --seconds 3600 &
  writer=$!
  trap '[[ -n "${writer}" ]] && kill -INT "${writer}" 2>/dev/null' EXIT
  sleep 2
fi
stop_writer() {
  if [[ -n "${writer}" ]]; then
    kill -INT "${writer}" 2>/dev/null || true
    wait "${writer}" || echo "write load: some batches failed (see above)" >&2
    writer=""
  fi
}
if [[ -n "${LADDER}" ]]; then
  [[ "${LADDER}" =~ ^[0-9]+(,[0-9]+)*$ ]] || { echo "--ladder takes rates separated by commas, e.g. 50,100,200 (got ${LADDER})" >&2; exit 2; }
  [[ "${LADDER_SECONDS}" =~ ^[1-9][0-9]*$ ]] || { echo "--ladder-seconds takes a whole number of seconds (got ${LADDER_SECONDS})" >&2; exit 2; }
  # Workers to pace the top rate (with --async they do not wait for answers); the caller's -c/--connections win.
  # Each step sends rate × seconds calls (-n, not -z: ghz cancels the calls in flight when -z ends
  # and reports them as errors).
  [[ ${#args[@]} -eq 0 ]] && args=(-c 64 --connections 4)
  mapfile -t ladder_open_loop < <(with_async_if_paced --rps "${args[@]}")
  LADDER_DIR=".orrery/ghz-ladder"
  rm -rf "${LADDER_DIR}" && mkdir -p "${LADDER_DIR}"
  echo "warm-up: 3 s at 200 req/s (not reported)" >&2
  "${GHZ}" --insecure --call orrery.v1.RecommendationService/Recommend -D "${REQUESTS}" --rps 200 -n 600 "${ladder_open_loop[@]}" "${args[@]}" "${ADDRESS}" > /dev/null
  TIMEFORMAT='%3U %3S'
  for rate in ${LADDER//,/ }; do
    echo "${rate} req/s for ${LADDER_SECONDS} s…" >&2
    read_cpu "${LADDER_DIR}/${rate}.before"
    { time "${GHZ}" --insecure --call orrery.v1.RecommendationService/Recommend -D "${REQUESTS}" --rps "${rate}" -n "$((rate * LADDER_SECONDS))" "${ladder_open_loop[@]}" -O json "${args[@]}" "${ADDRESS}" > "${LADDER_DIR}/${rate}.ghz.json" 2> "${LADDER_DIR}/${rate}.ghz.err" ; } 2> "${LADDER_DIR}/${rate}.ghz.time"
    read_cpu "${LADDER_DIR}/${rate}.after"
    recommender_ticks="$(cpu_used "${LADDER_DIR}/${rate}.before" "${LADDER_DIR}/${rate}.after" recommender)"
    scoring_ticks="$(cpu_used "${LADDER_DIR}/${rate}.before" "${LADDER_DIR}/${rate}.after" scoring)"
    # CPU ms per request: the recommender and scoring from /proc ticks, ghz itself from bash's time.
    node -e '
      const [file, hz, recommenderTicks, scoringTicks, ghzTime, out] = process.argv.slice(1);
      const count = JSON.parse(require("fs").readFileSync(file, "utf8")).count || 1;
      const [user, sys] = require("fs").readFileSync(ghzTime, "utf8").trim().split(" ").map(Number);
      const perRequest = (ticks) => (Number(ticks) * 1000) / Number(hz) / count;
      require("fs").writeFileSync(out, JSON.stringify({ recommender: perRequest(recommenderTicks), scoring: perRequest(scoringTicks), ghz: ((user + sys) * 1000) / count }));
    ' "${LADDER_DIR}/${rate}.ghz.json" "$(getconf CLK_TCK)" "${recommender_ticks}" "${scoring_ticks}" "${LADDER_DIR}/${rate}.ghz.time" "${LADDER_DIR}/${rate}.cpu.json"
  done
  stop_writer
  node apps/cli/dist/main.js bench ghz-ladder-report "${LADDER_DIR}"
  exit
fi
# 4 connections, as several client processes would open (one HTTP/2 connection would also pin all
# calls to one worker when ORRERY_RECOMMENDER_WORKERS > 1).
[[ ${#args[@]} -eq 0 ]] && args=(--rps 500 -c 8 --connections 4 -z 10s)
mapfile -t open_loop < <(with_async_if_paced "${args[@]}")
args+=("${open_loop[@]}")
before="$(batch_rows || true)"
CPU_READINGS=".orrery/ghz-recommend-cpu"
read_cpu "${CPU_READINGS}.before"
REPORT=".orrery/ghz-recommend-report.txt"
"${GHZ}" --insecure --call orrery.v1.RecommendationService/Recommend -D "${REQUESTS}" "${args[@]}" "${ADDRESS}" | tee "${REPORT}"
after="$(batch_rows || true)"
stop_writer
read_cpu "${CPU_READINGS}.after"
requests="$(awk '$1 == "Count:" { print $2; exit }' "${REPORT}")"
if [[ -n "${before}" && -n "${after}" && -n "${requests}" ]]; then
  awk -v b="${before}" -v a="${after}" -v r="${requests}" 'BEGIN { split(b, x, " "); split(a, y, " "); n = y[2] - x[2];
    if (n > 0 && r > 0) printf "\nCandidates scored per Recommend (scoring batch rows): mean %.0f; %d requests in %d scoring batches\n", (y[1] - x[1]) / r, r, n }'
fi
if [[ -s "${CPU_READINGS}.after.recommender" && -n "${requests}" && "${requests}" -gt 0 ]]; then
  awk -v r="${requests}" -v hz="$(getconf CLK_TCK)" -v load="$(cut -d' ' -f1-3 /proc/loadavg)" \
    -v recommender="$(cpu_used "${CPU_READINGS}.before" "${CPU_READINGS}.after" recommender)" \
    -v scoring="$(cpu_used "${CPU_READINGS}.before" "${CPU_READINGS}.after" scoring)" -v ns="$(wc -l < "${CPU_READINGS}.after.scoring")" \
    'BEGIN { printf "CPU per Recommend (utime+stime from /proc; load average %s): recommender %.3f ms", load, recommender * 1000 / hz / r;
             if (ns > 0) printf ", scoring %.3f ms", scoring * 1000 / hz / r;
             printf "\n" }'
fi
