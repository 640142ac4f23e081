#!/usr/bin/env bash
# Orrery local infrastructure without Docker: PostgreSQL, Redis, Kafka (KRaft) and Jaeger v2,
# each a plain process on 127.0.0.1 with its state under <repo>/.orrery/.
#
#   infra/local/stack.sh up       install what is missing, start what is not running, wait, print endpoints
#   infra/local/stack.sh down     stop what it started
#   infra/local/stack.sh status   one line per engine
#   infra/local/stack.sh env      `export ORRERY_…=…` lines: eval "$(infra/local/stack.sh env)"
#   infra/local/stack.sh reset    down, then delete state (keeps downloaded jars and built binaries)
#
# An ORRERY_* endpoint variable set at `up` to something other than its default means "use that
# server": the engine is not started here, only checked. See infra/local/README.md.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "${SCRIPT_DIR}/../.." && pwd)"
STATE="${REPO_ROOT}/.orrery"
RUN="${STATE}/run"
LOGS="${STATE}/logs"
BIN="${STATE}/bin"

# Ports and default endpoints (the TypeScript services read the same variables and defaults).
PG_PORT=54329
REDIS_PORT=63790
KAFKA_PORT=19092
KAFKA_CONTROLLER_PORT=19093
OTLP_GRPC_PORT=4317
OTLP_HTTP_PORT=4318
JAEGER_QUERY_PORT=16686

DEFAULT_POSTGRES_URL="postgres://orrery@127.0.0.1:${PG_PORT}/orrery"
DEFAULT_REDIS_URL="redis://127.0.0.1:${REDIS_PORT}"
DEFAULT_KAFKA_BROKERS="127.0.0.1:${KAFKA_PORT}"
DEFAULT_OTLP_ENDPOINT="http://127.0.0.1:${OTLP_HTTP_PORT}"
DEFAULT_JAEGER_QUERY_URL="http://127.0.0.1:${JAEGER_QUERY_PORT}"

# Postgres files; pg_paths moves them out of the checkout when the postgres user can't reach it.
PG_DATA="${STATE}/pg"
PG_SOCKET_DIR="${RUN}/pg"
PG_LOG="${LOGS}/postgres.log"
PG_OUTSIDE=""
PG_DB=orrery
PG_SUPERUSER=orrery
REDIS_DIR="${STATE}/redis"
KAFKA_DIR="${STATE}/kafka"
KAFKA_LIBS="${KAFKA_DIR}/libs"
KAFKA_DATA="${KAFKA_DIR}/data"
KAFKA_CONF="${KAFKA_DIR}/server.properties"
KAFKA_HEAP="${ORRERY_KAFKA_HEAP:--Xms256m -Xmx512m}"
JAEGER_DIR="${STATE}/jaeger"
JAEGER_BIN="${BIN}/jaeger"
JAEGER_MODULE_DIR="${SCRIPT_DIR}/jaeger"
JAEGER_PKG="github.com/jaegertracing/jaeger/cmd/jaeger"
# Module github.com/jaegertracing/jaeger v1.76.0 (pinned in infra/local/jaeger/go.mod) is Jaeger
# v2.13.0; keep the two in step when bumping. Stamped into the binary's `jaeger version`.
JAEGER_V2_VERSION=v2.13.0
JAEGER_LDFLAGS="-s -w -X github.com/jaegertracing/jaeger/internal/version.latestVersion=${JAEGER_V2_VERSION}"

ENGINES=(postgres redis kafka jaeger)

# ---------------------------------------------------------------------------------------------
# helpers

say() { printf '%s\n' "$*"; }
warn() { printf '%s\n' "$*" >&2; }
die() {
  printf 'stack.sh: %s\n' "$*" >&2
  exit 1
}
have() { command -v "$1" >/dev/null 2>&1; }
is_root() { [[ "$(id -u)" -eq 0 ]]; }
now() { date +%s.%N; }
since() { awk -v s="$1" -v e="$(now)" 'BEGIN { printf "%.1fs", e - s }'; }

# port_open HOST PORT: something accepts TCP connections there.
# shellcheck disable=SC2016 # $1/$2 are expanded by the inner bash
port_open() { timeout 2 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" 2>/dev/null; }
pid_gone() { ! kill -0 "$1" 2>/dev/null; }

# pid_alive PIDFILE [PATTERN]: the pid in PIDFILE runs (and its command line contains PATTERN).
pid_alive() {
  local file="$1" pattern="${2:-}" pid
  [[ -s "${file}" ]] || return 1
  pid="$(head -n1 "${file}" | tr -dc '0-9')"
  [[ -n "${pid}" ]] && kill -0 "${pid}" 2>/dev/null || return 1
  if [[ -n "${pattern}" ]]; then
    tr '\0' ' ' <"/proc/${pid}/cmdline" 2>/dev/null | grep -cF -- "${pattern}" >/dev/null || return 1
  fi
}
pid_of() { head -n1 "$1" | tr -dc '0-9'; }

# wait_until SECONDS COMMAND...: poll every 0.2 s.
wait_until() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
}

# stop_pid NAME PIDFILE PATTERN: SIGTERM, wait up to 60 s, then SIGKILL.
stop_pid() {
  local name="$1" file="$2" pattern="$3" pid
  if ! pid_alive "${file}" "${pattern}"; then
    rm -f "${file}"
    say "${name}: not running"
    return 0
  fi
  pid="$(pid_of "${file}")"
  printf '%s: stopping (pid %s)… ' "${name}" "${pid}"
  kill -TERM "${pid}" 2>/dev/null || true
  if ! wait_until 60 pid_gone "${pid}"; then
    printf 'still alive after 60s, killing… '
    kill -KILL "${pid}" 2>/dev/null || true
    wait_until 10 pid_gone "${pid}" || true
  fi
  rm -f "${file}"
  say "stopped"
}

# url_hostport URL -> "host port" (URL as in ORRERY_*; a broker list uses its first entry).
url_hostport() {
  local rest="${1%%,*}" hostport host port
  rest="${rest#*://}"
  rest="${rest##*@}"
  hostport="${rest%%[/?#]*}"
  if [[ "${hostport}" == \[* ]]; then # [v6]:port
    host="${hostport%%]*}"
    host="${host#[}"
    port="${hostport##*]:}"
    [[ "${port}" == "${hostport}" ]] && port=""
  else
    host="${hostport%%:*}"
    port="${hostport##*:}"
    [[ "${port}" == "${hostport}" ]] && port=""
  fi
  printf '%s %s\n' "${host:-127.0.0.1}" "${port}"
}

# external VAR DEFAULT: VAR is set to something other than its default (so: don't run it here).
external() {
  local value="${!1:-}"
  [[ -n "${value}" && "${value}" != "$2" ]]
}

# with_lock: serialize up/down/reset (two `up`s at once must not start two copies).
# Children are started with 9>&- so that they don't keep the lock.
with_lock() {
  mkdir -p "${RUN}"
  exec 9>"${RUN}/stack.lock"
  if have flock && ! flock -w 900 9; then
    die "another stack.sh holds ${RUN}/stack.lock"
  fi
}

# ---------------------------------------------------------------------------------------------
# tools and installs

pg_bindir() {
  local d best=""
  for d in /usr/lib/postgresql/*/bin; do
    [[ -x "${d}/postgres" ]] && best="${d}" # glob order: last is the newest major
  done
  if [[ -z "${best}" ]] && have postgres; then
    best="$(dirname "$(readlink -f "$(command -v postgres)")")"
  fi
  printf '%s' "${best}"
}

# apt_install PACKAGE...: `apt-get update` then install; only root can.
apt_install() {
  is_root || die "missing ${*}; run as root or install them: apt-get install -y ${*}"
  have apt-get || die "missing ${*} and no apt-get to install them"
  say "apt: installing ${*}…"
  local t0 policy_added=0
  t0="$(now)"
  # Packages must not start their own services (Debian's postgresql would start a cluster on 5432).
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    policy_added=1
  fi
  local rc=0
  {
    DEBIAN_FRONTEND=noninteractive apt-get update -q &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@"
  } >>"${LOGS}/apt.log" 2>&1 || rc=$?
  if ((policy_added)); then rm -f /usr/sbin/policy-rc.d; fi
  ((rc == 0)) || die "apt-get failed (exit ${rc}); see ${LOGS}/apt.log"
  say "apt: installed ${*} in $(since "${t0}")"
}

ensure_packages() {
  local pkgs=()
  if ! external ORRERY_POSTGRES_URL "${DEFAULT_POSTGRES_URL}" && [[ -z "$(pg_bindir)" ]]; then
    pkgs+=(postgresql)
  fi
  if ! external ORRERY_REDIS_URL "${DEFAULT_REDIS_URL}" && ! { have redis-server && have redis-cli; }; then
    pkgs+=(redis-server)
  fi
  if ! external ORRERY_KAFKA_BROKERS "${DEFAULT_KAFKA_BROKERS}"; then
    have java || pkgs+=(openjdk-17-jre-headless)
    have mvn || pkgs+=(maven)
  fi
  if ((${#pkgs[@]})); then apt_install "${pkgs[@]}"; fi
  if ! external ORRERY_JAEGER_QUERY_URL "${DEFAULT_JAEGER_QUERY_URL}" &&
    ! external ORRERY_OTLP_ENDPOINT "${DEFAULT_OTLP_ENDPOINT}" && ! jaeger_built; then
    have go || die "jaeger: needs Go (1.24+) to build ${JAEGER_PKG}; none on PATH"
  fi
  PG_BIN="$(pg_bindir)"
}

# Kafka jars: Maven copies kafka_2.13 + tools + slf4j-reload4j into .orrery/kafka/libs.
# A stamp holds the pom's checksum, so a changed pom refetches.
ensure_kafka_libs() {
  local stamp want t0
  want="$(sha256sum "${SCRIPT_DIR}/kafka/pom.xml" | cut -d' ' -f1)"
  stamp="${KAFKA_LIBS}/.orrery-stamp"
  if [[ -f "${stamp}" && "$(cat "${stamp}")" == "${want}" ]]; then return 0; fi
  say "kafka: fetching jars from Maven Central (kafka $(kafka_version))…"
  t0="$(now)"
  rm -rf "${KAFKA_LIBS}.tmp"
  mkdir -p "${KAFKA_DIR}"
  if ! mvn -B -q -f "${SCRIPT_DIR}/kafka/pom.xml" package \
    -Dkafka.libs.dir="${KAFKA_LIBS}.tmp" >>"${LOGS}/kafka-fetch.log" 2>&1; then
    die "kafka: maven failed; see ${LOGS}/kafka-fetch.log"
  fi
  rm -rf "${KAFKA_LIBS}"
  mv "${KAFKA_LIBS}.tmp" "${KAFKA_LIBS}"
  printf '%s\n' "${want}" >"${stamp}"
  say "kafka: $(find "${KAFKA_LIBS}" -name '*.jar' | wc -l) jars in $(since "${t0}")"
}

kafka_version() {
  sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "${SCRIPT_DIR}/kafka/pom.xml"
}

jaeger_version() {
  awk '$1 == "github.com/jaegertracing/jaeger" { print $2; exit }' "${JAEGER_MODULE_DIR}/go.mod"
}

# Jaeger: `go build` of the tool pinned by infra/local/jaeger/go.mod (+ go.sum) into .orrery/bin.
# Runs in the background during `up` (it is the slow part of a first run); the stamp holds the
# checksum of go.mod + go.sum + link flags.
jaeger_stamp() {
  { cat "${JAEGER_MODULE_DIR}/go.mod" "${JAEGER_MODULE_DIR}/go.sum" && printf '%s\n' "${JAEGER_LDFLAGS}"; } |
    sha256sum | cut -d' ' -f1
}
jaeger_built() { [[ -x "${JAEGER_BIN}" && -f "${JAEGER_BIN}.stamp" && "$(cat "${JAEGER_BIN}.stamp")" == "$(jaeger_stamp)" ]]; }
build_jaeger() {
  local want tmp="${JAEGER_BIN}.tmp.${BASHPID}"
  want="$(jaeger_stamp)"
  mkdir -p "${BIN}"
  (
    cd "${JAEGER_MODULE_DIR}"
    GOWORK=off GOFLAGS=-mod=readonly go build -trimpath -ldflags="${JAEGER_LDFLAGS}" -o "${tmp}" "${JAEGER_PKG}"
  ) >>"${LOGS}/jaeger-build.log" 2>&1 || {
    rm -f "${tmp}"
    return 1
  }
  mv -f "${tmp}" "${JAEGER_BIN}"
  printf '%s\n' "${want}" >"${JAEGER_BIN}.stamp"
}

# ---------------------------------------------------------------------------------------------
# postgres

PG_BIN=""
PG_USER=""

pg_user() {
  if ! is_root; then
    id -un
    return
  fi
  # postgres refuses to run as root: use the `postgres` system user (Debian's package makes it).
  if ! id postgres >/dev/null 2>&1; then
    useradd --system --user-group --home-dir /nonexistent --shell /usr/sbin/nologin postgres
  fi
  printf 'postgres'
}

# as_pg CMD...: run a postgres tool as the postgres user, from a directory it can read.
as_pg() {
  if is_root; then
    (cd / && runuser -u "${PG_USER}" -- "$@")
  else
    (cd / && "$@")
  fi
}

# Postgres runs as the `postgres` user, which must be able to enter the data, socket and log paths.
# When the checkout lies below a folder that user can't enter (a 0700 home or CI folder), they
# live in /var/tmp/orrery-pg-<hash of the state path> instead, linked from .orrery/pg and
# .orrery/logs/postgres.log.
pg_use_outside() {
  PG_OUTSIDE="$1"
  PG_DATA="${PG_OUTSIDE}/data"
  PG_SOCKET_DIR="${PG_OUTSIDE}/run"
  PG_LOG="${PG_OUTSIDE}/postgres.log"
}
pg_paths() {
  local link="${STATE}/pg"
  if [[ -L "${link}" ]]; then
    pg_use_outside "$(dirname "$(readlink "${link}")")"
    return 0
  fi
  [[ "${1:-}" == create ]] && is_root || return 0
  if runuser -u "${PG_USER}" -- test -x "${STATE}" 2>/dev/null; then return 0; fi
  [[ -e "${link}" ]] &&
    die "postgres: user ${PG_USER} cannot enter ${STATE} (moved checkout?); fix the folder permissions or run \`stack.sh reset\`"
  pg_use_outside "/var/tmp/orrery-pg-$(printf '%s' "${STATE}" | sha256sum | cut -c1-12)"
  mkdir -p "${PG_OUTSIDE}"
  chmod 0755 "${PG_OUTSIDE}"
  ln -s "${PG_DATA}" "${link}"
  ln -sfn "${PG_LOG}" "${LOGS}/postgres.log"
  say "postgres: user ${PG_USER} cannot enter ${STATE}; its files go to ${PG_OUTSIDE} (linked from .orrery/pg)"
}

pg_running() {
  [[ -f "${PG_DATA}/postmaster.pid" ]] && pid_alive "${PG_DATA}/postmaster.pid" postgres
}
pg_ready() {
  "${PG_BIN}/pg_isready" -q -h 127.0.0.1 -p "${PG_PORT}" -d postgres -U "${PG_SUPERUSER}" -t 2
}

pg_write_conf() {
  cat >"${PG_DATA}/orrery.conf" <<EOF
# Written by infra/local/stack.sh on every \`up\`: edit the script, not this file.
listen_addresses = '127.0.0.1'
port = ${PG_PORT}
unix_socket_directories = '${PG_SOCKET_DIR}'
max_connections = 200
shared_buffers = 256MB
fsync = on
synchronous_commit = on
full_page_writes = on
effective_cache_size = 2GB
work_mem = 8MB
maintenance_work_mem = 128MB
logging_collector = off
log_min_messages = warning
log_line_prefix = '%m [%p] %q%u@%d '
EOF
}

pg_up() {
  local t0 log
  t0="$(now)"
  PG_USER="$(pg_user)"
  pg_paths create
  log="${PG_LOG}"
  [[ -n "${PG_BIN}" ]] || die "postgres: no binaries found (looked in /usr/lib/postgresql/*/bin and PATH)"
  mkdir -p "${PG_SOCKET_DIR}"
  touch "${log}"
  if is_root; then chown "${PG_USER}" "${PG_SOCKET_DIR}" "${log}"; fi
  chmod 0755 "${PG_SOCKET_DIR}"

  if pg_running; then
    if wait_until 30 pg_ready; then
      say "postgres: already running (pid $(pid_of "${PG_DATA}/postmaster.pid")) on 127.0.0.1:${PG_PORT}"
      pg_ensure_db
      return 0
    fi
    die "postgres: running but not answering on 127.0.0.1:${PG_PORT}; see ${log}"
  fi
  if port_open 127.0.0.1 "${PG_PORT}"; then
    die "postgres: port ${PG_PORT} is taken by a process stack.sh did not start"
  fi

  if [[ ! -s "${PG_DATA}/PG_VERSION" ]]; then
    printf 'postgres: initdb… '
    rm -rf "${PG_DATA}.tmp"
    mkdir -p "${PG_DATA}.tmp"
    if is_root; then chown "${PG_USER}" "${PG_DATA}.tmp"; fi
    chmod 0700 "${PG_DATA}.tmp"
    as_pg "${PG_BIN}/initdb" -D "${PG_DATA}.tmp" -U "${PG_SUPERUSER}" --auth=trust \
      --encoding=UTF8 --no-locale --no-instructions >>"${LOGS}/postgres-initdb.log" 2>&1 ||
      die "postgres: initdb failed; see ${LOGS}/postgres-initdb.log"
    printf "\ninclude_if_exists = 'orrery.conf'\n" >>"${PG_DATA}.tmp/postgresql.conf"
    mv "${PG_DATA}.tmp" "${PG_DATA}"
    say "done"
  else
    local have_major want_major
    have_major="$(cat "${PG_DATA}/PG_VERSION")"
    want_major="$("${PG_BIN}/postgres" --version | sed -E 's/.* ([0-9]+)(\.[0-9]+)*.*/\1/')"
    [[ "${have_major}" == "${want_major}" ]] ||
      die "postgres: ${PG_DATA} is a PostgreSQL ${have_major} cluster but the binaries are ${want_major}; run \`stack.sh reset\`"
  fi
  pg_write_conf
  if is_root; then chown "${PG_USER}" "${PG_DATA}/orrery.conf"; fi

  printf 'postgres: starting… '
  as_pg "${PG_BIN}/pg_ctl" -D "${PG_DATA}" -l "${log}" -w -t 60 -s start 9>&- ||
    die "postgres: failed to start; see ${log}"
  wait_until 30 pg_ready || die "postgres: not answering; see ${log}"
  pg_ensure_db
  say "up on 127.0.0.1:${PG_PORT} ($(since "${t0}"))"
}

pg_ensure_db() {
  local exists
  exists="$("${PG_BIN}/psql" -X -q -h 127.0.0.1 -p "${PG_PORT}" -U "${PG_SUPERUSER}" -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = '${PG_DB}'")"
  if [[ "${exists}" != 1 ]]; then
    "${PG_BIN}/createdb" -h 127.0.0.1 -p "${PG_PORT}" -U "${PG_SUPERUSER}" -O "${PG_SUPERUSER}" "${PG_DB}"
  fi
}

pg_down() {
  PG_BIN="$(pg_bindir)"
  if ! pg_running; then
    say "postgres: not running"
    return 0
  fi
  PG_USER="$(pg_user)"
  printf 'postgres: stopping (pid %s)… ' "$(pid_of "${PG_DATA}/postmaster.pid")"
  as_pg "${PG_BIN}/pg_ctl" -D "${PG_DATA}" -m fast -w -t 60 -s stop
  say "stopped"
}

# ---------------------------------------------------------------------------------------------
# redis

redis_ready() { [[ "$(redis-cli -h 127.0.0.1 -p "${REDIS_PORT}" ping 2>/dev/null)" == PONG ]]; }

redis_up() {
  local t0 pidfile="${RUN}/redis.pid"
  t0="$(now)"
  if pid_alive "${pidfile}" redis-server; then
    wait_until 20 redis_ready || die "redis: running but not answering; see ${LOGS}/redis.log"
    say "redis: already running (pid $(pid_of "${pidfile}")) on 127.0.0.1:${REDIS_PORT}"
    return 0
  fi
  if port_open 127.0.0.1 "${REDIS_PORT}"; then
    die "redis: port ${REDIS_PORT} is taken by a process stack.sh did not start"
  fi
  mkdir -p "${REDIS_DIR}"
  printf 'redis: starting… '
  # Sorted sets past 32 members as skiplists: co-visit sets (up to ORRERY_COVISIT_LIMIT, 100) would
  # otherwise stay listpacks, ~4x the CPU per update (apps/projector/src/sorted-set-encoding.ts).
  redis-server --bind 127.0.0.1 --port "${REDIS_PORT}" --protected-mode yes \
    --save "" --appendonly yes --appendfsync everysec \
    --zset-max-listpack-entries 32 \
    --daemonize yes --pidfile "${pidfile}" \
    --logfile "${LOGS}/redis.log" --dir "${REDIS_DIR}" 9>&- ||
    die "redis: failed to start; see ${LOGS}/redis.log"
  wait_until 20 redis_ready || die "redis: not answering; see ${LOGS}/redis.log"
  say "up on 127.0.0.1:${REDIS_PORT} ($(since "${t0}"))"
}

redis_down() {
  local pidfile="${RUN}/redis.pid" pid
  if ! pid_alive "${pidfile}" redis-server; then
    rm -f "${pidfile}"
    say "redis: not running"
    return 0
  fi
  pid="$(pid_of "${pidfile}")"
  printf 'redis: stopping (pid %s)… ' "${pid}"
  redis-cli -h 127.0.0.1 -p "${REDIS_PORT}" shutdown nosave >/dev/null 2>&1 || kill -TERM "${pid}" 2>/dev/null || true
  wait_until 30 pid_gone "${pid}" || kill -KILL "${pid}" 2>/dev/null || true
  rm -f "${pidfile}"
  say "stopped"
}

# ---------------------------------------------------------------------------------------------
# kafka

KAFKA_LAUNCHED_AT=""
KAFKA_T0=""

kafka_java() {
  if [[ -n "${JAVA_HOME:-}" && -x "${JAVA_HOME}/bin/java" ]]; then
    printf '%s' "${JAVA_HOME}/bin/java"
  else
    command -v java
  fi
}

# Random KRaft cluster id: 16 random bytes, URL-safe base64 without padding (as kafka-storage
# random-uuid prints), never starting with '-'.
kafka_cluster_id() {
  local id
  while :; do
    id="$(head -c16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
    [[ "${id}" != -* ]] && break
  done
  printf '%s' "${id}"
}

# kafka_start: launch only; kafka_wait waits (Kafka is the slowest, so the others start meanwhile).
kafka_start() {
  local pidfile="${RUN}/kafka.pid" java
  KAFKA_T0="$(now)"
  if pid_alive "${pidfile}" kafka.Kafka; then
    KAFKA_LAUNCHED_AT=""
    return 0
  fi
  if port_open 127.0.0.1 "${KAFKA_PORT}" || port_open 127.0.0.1 "${KAFKA_CONTROLLER_PORT}"; then
    die "kafka: port ${KAFKA_PORT} or ${KAFKA_CONTROLLER_PORT} is taken by a process stack.sh did not start"
  fi
  java="$(kafka_java)"
  mkdir -p "${KAFKA_DATA}"
  {
    cat "${SCRIPT_DIR}/kafka/server.properties"
    printf '\n# added by stack.sh\nlog.dirs=%s\n' "${KAFKA_DATA}"
  } >"${KAFKA_CONF}"
  if [[ ! -f "${KAFKA_DATA}/meta.properties" ]]; then
    printf 'kafka: formatting storage… '
    "${java}" -cp "${KAFKA_LIBS}/*" \
      -Dlog4j.configuration="file:${SCRIPT_DIR}/kafka/log4j.properties" -Dkafka.logs.dir="${LOGS}" \
      kafka.tools.StorageTool format -t "$(kafka_cluster_id)" -c "${KAFKA_CONF}" \
      >>"${LOGS}/kafka-format.log" 2>&1 || die "kafka: storage format failed; see ${LOGS}/kafka-format.log"
    say "done"
  fi
  KAFKA_LAUNCHED_AT="$(date '+%Y-%m-%d %H:%M:%S')"
  say "kafka: starting (KRaft, $(kafka_version))…"
  # setsid: its own session, so it outlives the shell that ran `up`.
  # shellcheck disable=SC2086 # KAFKA_HEAP is a list of JVM flags
  setsid nohup "${java}" ${KAFKA_HEAP} -server \
    -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 \
    -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true \
    -Dlog4j.configuration="file:${SCRIPT_DIR}/kafka/log4j.properties" -Dkafka.logs.dir="${LOGS}" \
    -cp "${KAFKA_LIBS}/*" kafka.Kafka "${KAFKA_CONF}" \
    </dev/null >>"${LOGS}/kafka.console.log" 2>&1 9>&- &
  printf '%s\n' "$!" >"${pidfile}"
}

# Done waiting: a "Kafka Server started" line stamped at or after the launch, or the JVM is gone.
# Every rolled file (kafka.log.N) is searched: loading many partitions can log past the 20 MB roll.
kafka_started_or_dead() {
  pid_gone "$1" && return 0
  cat "${LOGS}"/kafka.log* 2>/dev/null |
    awk -v launched="[${KAFKA_LAUNCHED_AT}" '/Kafka Server started/ && $0 >= launched { found = 1 } END { exit !found }'
}

kafka_wait() {
  local pidfile="${RUN}/kafka.pid"
  if [[ -z "${KAFKA_LAUNCHED_AT}" ]]; then
    wait_until 60 port_open 127.0.0.1 "${KAFKA_PORT}" || die "kafka: running but port ${KAFKA_PORT} is closed; see ${LOGS}/kafka.log"
    say "kafka: already running (pid $(pid_of "${pidfile}")) on 127.0.0.1:${KAFKA_PORT}"
    return 0
  fi
  if ! wait_until 120 kafka_started_or_dead "$(pid_of "${pidfile}")"; then
    die "kafka: not started after 120s; see ${LOGS}/kafka.log"
  fi
  pid_alive "${pidfile}" kafka.Kafka ||
    die "kafka: exited while starting; see ${LOGS}/kafka.log and ${LOGS}/kafka.console.log"
  wait_until 20 port_open 127.0.0.1 "${KAFKA_PORT}" || die "kafka: port ${KAFKA_PORT} closed; see ${LOGS}/kafka.log"
  say "kafka: up on 127.0.0.1:${KAFKA_PORT} (controller ${KAFKA_CONTROLLER_PORT}) ($(since "${KAFKA_T0}"))"
}

kafka_down() { stop_pid kafka "${RUN}/kafka.pid" kafka.Kafka; }

# ---------------------------------------------------------------------------------------------
# jaeger

jaeger_ready() { curl -fs -o /dev/null --max-time 2 "http://127.0.0.1:${JAEGER_QUERY_PORT}/api/services"; }
jaeger_ready_or_dead() { pid_gone "$1" || jaeger_ready; }

jaeger_up() {
  local t0 pidfile="${RUN}/jaeger.pid"
  t0="$(now)"
  if pid_alive "${pidfile}" jaeger; then
    wait_until 30 jaeger_ready || die "jaeger: running but not answering; see ${LOGS}/jaeger.log"
    say "jaeger: already running (pid $(pid_of "${pidfile}")) on 127.0.0.1:${JAEGER_QUERY_PORT}"
    return 0
  fi
  local p
  for p in "${OTLP_GRPC_PORT}" "${OTLP_HTTP_PORT}" "${JAEGER_QUERY_PORT}"; do
    if port_open 127.0.0.1 "${p}"; then
      die "jaeger: port ${p} is taken by a process stack.sh did not start"
    fi
  done
  mkdir -p "${JAEGER_DIR}"
  printf 'jaeger: starting… '
  (
    cd "${JAEGER_DIR}"
    setsid nohup "${JAEGER_BIN}" --config "${SCRIPT_DIR}/jaeger/config.yaml" \
      </dev/null >>"${LOGS}/jaeger.log" 2>&1 9>&- &
    printf '%s\n' "$!" >"${pidfile}"
  )
  if ! wait_until 60 jaeger_ready_or_dead "$(pid_of "${pidfile}")"; then
    die "jaeger: not answering after 60s; see ${LOGS}/jaeger.log"
  fi
  pid_alive "${pidfile}" jaeger || die "jaeger: exited while starting; see ${LOGS}/jaeger.log"
  wait_until 20 port_open 127.0.0.1 "${OTLP_HTTP_PORT}" || die "jaeger: OTLP port ${OTLP_HTTP_PORT} closed; see ${LOGS}/jaeger.log"
  say "up: OTLP 127.0.0.1:${OTLP_HTTP_PORT} (http) / :${OTLP_GRPC_PORT} (grpc), query 127.0.0.1:${JAEGER_QUERY_PORT} ($(since "${t0}"))"
}

jaeger_down() { stop_pid jaeger "${RUN}/jaeger.pid" jaeger; }

# ---------------------------------------------------------------------------------------------
# external servers (ORRERY_* set): check only

check_external() {
  local name="$1" var="$2" hp host port
  hp="$(url_hostport "${!var}")"
  host="${hp% *}"
  port="${hp#* }"
  case "${name}" in
    postgres) port="${port:-5432}" ;;
    redis) port="${port:-6379}" ;;
    kafka) port="${port:-9092}" ;;
    jaeger-query) port="${port:-80}" ;;
    otlp) port="${port:-4318}" ;;
    *) die "check_external: unknown ${name}" ;;
  esac
  if [[ "${name}" == jaeger-query ]]; then
    if curl -fsS -o /dev/null --max-time 5 "${!var%/}/api/services"; then
      say "${name}: external ${!var} answers"
      return 0
    fi
  elif port_open "${host}" "${port}"; then
    say "${name}: external ${!var} answers (${host}:${port})"
    return 0
  fi
  warn "${name}: external ${var}=${!var} does not answer"
  return 1
}

# ---------------------------------------------------------------------------------------------
# commands

cmd_env() {
  printf 'export ORRERY_POSTGRES_URL=%q\n' "${ORRERY_POSTGRES_URL:-${DEFAULT_POSTGRES_URL}}"
  printf 'export ORRERY_REDIS_URL=%q\n' "${ORRERY_REDIS_URL:-${DEFAULT_REDIS_URL}}"
  printf 'export ORRERY_KAFKA_BROKERS=%q\n' "${ORRERY_KAFKA_BROKERS:-${DEFAULT_KAFKA_BROKERS}}"
  printf 'export ORRERY_OTLP_ENDPOINT=%q\n' "${ORRERY_OTLP_ENDPOINT:-${DEFAULT_OTLP_ENDPOINT}}"
  printf 'export ORRERY_JAEGER_QUERY_URL=%q\n' "${ORRERY_JAEGER_QUERY_URL:-${DEFAULT_JAEGER_QUERY_URL}}"
}

cmd_up() {
  local t0 failed=0 jaeger_build_pid="" local_jaeger=1 local_kafka=1 local_pg=1 local_redis=1
  t0="$(now)"
  mkdir -p "${STATE}" "${RUN}" "${LOGS}" "${BIN}"
  chmod 0755 "${STATE}" "${RUN}" "${LOGS}" # postgres (another user) enters these whatever the umask
  with_lock
  external ORRERY_POSTGRES_URL "${DEFAULT_POSTGRES_URL}" && local_pg=0
  external ORRERY_REDIS_URL "${DEFAULT_REDIS_URL}" && local_redis=0
  external ORRERY_KAFKA_BROKERS "${DEFAULT_KAFKA_BROKERS}" && local_kafka=0
  if external ORRERY_OTLP_ENDPOINT "${DEFAULT_OTLP_ENDPOINT}" ||
    external ORRERY_JAEGER_QUERY_URL "${DEFAULT_JAEGER_QUERY_URL}"; then
    local_jaeger=0
  fi

  ensure_packages

  # The Jaeger build is the slow part of a first run: it goes on while the rest installs.
  if ((local_jaeger)) && ! jaeger_built && ! pid_alive "${RUN}/jaeger.pid" jaeger; then
    say "jaeger: building ${JAEGER_V2_VERSION} (module $(jaeger_version)) with go in the background (first run: minutes; log ${LOGS}/jaeger-build.log)…"
    build_jaeger 9>&- &
    jaeger_build_pid=$!
  fi

  if ((local_kafka)); then
    ensure_kafka_libs
    kafka_start
  else
    check_external kafka ORRERY_KAFKA_BROKERS || failed=1
  fi

  if ((local_pg)); then pg_up; else check_external postgres ORRERY_POSTGRES_URL || failed=1; fi
  if ((local_redis)); then redis_up; else check_external redis ORRERY_REDIS_URL || failed=1; fi
  if ((local_kafka)); then kafka_wait; fi

  if ((local_jaeger)); then
    if [[ -n "${jaeger_build_pid}" ]]; then
      local tb
      tb="$(now)"
      printf 'jaeger: waiting for the build… '
      wait "${jaeger_build_pid}" || die "jaeger: go build failed; see ${LOGS}/jaeger-build.log"
      say "built .orrery/bin/jaeger (waited $(since "${tb}"))"
    fi
    jaeger_up
  else
    if [[ -n "${ORRERY_JAEGER_QUERY_URL:-}" ]]; then
      check_external jaeger-query ORRERY_JAEGER_QUERY_URL || failed=1
    fi
    if [[ -n "${ORRERY_OTLP_ENDPOINT:-}" ]]; then
      check_external otlp ORRERY_OTLP_ENDPOINT || failed=1
    fi
  fi

  say ""
  say "stack up in $(since "${t0}"); endpoints (eval \"\$(infra/local/stack.sh env)\"):"
  cmd_env | sed 's/^export /  /'
  say "logs: ${LOGS}/"
  ((failed == 0)) || die "some external endpoints do not answer (see above)"
}

cmd_down() {
  mkdir -p "${RUN}" "${LOGS}"
  with_lock
  jaeger_down
  kafka_down
  redis_down
  pg_down
}

cmd_status() {
  PG_BIN="$(pg_bindir)"
  local e state where
  for e in "${ENGINES[@]}"; do
    state=down
    where=""
    case "${e}" in
      postgres)
        if external ORRERY_POSTGRES_URL "${DEFAULT_POSTGRES_URL}"; then
          check_external postgres ORRERY_POSTGRES_URL >/dev/null 2>&1 && state=up
          where="${ORRERY_POSTGRES_URL} (external)"
        else
          where="127.0.0.1:${PG_PORT}"
          if pg_running && [[ -n "${PG_BIN}" ]] && pg_ready; then
            state=up
            where+=" pid $(pid_of "${PG_DATA}/postmaster.pid")"
          fi
        fi
        ;;
      redis)
        if external ORRERY_REDIS_URL "${DEFAULT_REDIS_URL}"; then
          check_external redis ORRERY_REDIS_URL >/dev/null 2>&1 && state=up
          where="${ORRERY_REDIS_URL} (external)"
        else
          where="127.0.0.1:${REDIS_PORT}"
          if pid_alive "${RUN}/redis.pid" redis-server && have redis-cli && redis_ready; then
            state=up
            where+=" pid $(pid_of "${RUN}/redis.pid")"
          fi
        fi
        ;;
      kafka)
        if external ORRERY_KAFKA_BROKERS "${DEFAULT_KAFKA_BROKERS}"; then
          check_external kafka ORRERY_KAFKA_BROKERS >/dev/null 2>&1 && state=up
          where="${ORRERY_KAFKA_BROKERS} (external)"
        else
          where="127.0.0.1:${KAFKA_PORT}"
          if pid_alive "${RUN}/kafka.pid" kafka.Kafka && port_open 127.0.0.1 "${KAFKA_PORT}"; then
            state=up
            where+=" pid $(pid_of "${RUN}/kafka.pid")"
          fi
        fi
        ;;
      jaeger)
        if external ORRERY_OTLP_ENDPOINT "${DEFAULT_OTLP_ENDPOINT}" ||
          external ORRERY_JAEGER_QUERY_URL "${DEFAULT_JAEGER_QUERY_URL}"; then
          where="${ORRERY_OTLP_ENDPOINT:-${DEFAULT_OTLP_ENDPOINT}} ${ORRERY_JAEGER_QUERY_URL:-${DEFAULT_JAEGER_QUERY_URL}} (external)"
          if curl -fsS -o /dev/null --max-time 5 "${ORRERY_JAEGER_QUERY_URL:-${DEFAULT_JAEGER_QUERY_URL}}/api/services"; then
            state=up
          fi
        else
          where="otlp 127.0.0.1:${OTLP_HTTP_PORT}, query 127.0.0.1:${JAEGER_QUERY_PORT}"
          if pid_alive "${RUN}/jaeger.pid" jaeger && jaeger_ready; then
            state=up
            where+=" pid $(pid_of "${RUN}/jaeger.pid")"
          fi
        fi
        ;;
      *) die "status: unknown engine ${e}" ;;
    esac
    printf '%-9s %-5s %s\n' "${e}" "${state}" "${where}"
  done
}

cmd_reset() {
  cmd_down
  say "reset: deleting state in ${STATE} (keeping kafka/libs and bin)"
  if [[ -n "${PG_OUTSIDE}" ]]; then rm -rf "${PG_OUTSIDE}"; fi
  rm -rf "${STATE}/pg" "${PG_DATA}" "${PG_DATA}.tmp" "${REDIS_DIR}" "${KAFKA_DATA}" "${KAFKA_CONF}" \
    "${JAEGER_DIR}" "${LOGS}" "${RUN}"
}

usage() {
  cat <<EOF
usage: infra/local/stack.sh up|down|status|env|reset
  up      install what is missing, start what is not running, wait until healthy, print endpoints
  down    stop postgres, redis, kafka and jaeger started here
  status  one line per engine: up/down
  env     print export lines: eval "\$(infra/local/stack.sh env)"
  reset   down, then delete all state in .orrery/ (keeps downloaded jars and built binaries)
EOF
}

main() {
  pg_paths
  case "${1:-}" in
    up) cmd_up ;;
    down) cmd_down ;;
    status) cmd_status ;;
    env) cmd_env ;;
    reset) cmd_reset ;;
    -h | --help | help) usage ;;
    *)
      usage >&2
      exit 2
      ;;
  esac
}

main "$@"
