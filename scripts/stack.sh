#!/usr/bin/env bash
# The local stack for development and end-to-end tests, without Docker:
#   - OpenSearch (minimal "integ-test-zip" distribution from Maven Central, security off), single node
#   - moto in server mode: S3, SQS and SNS on one port
# Both bound to 127.0.0.1. Installed on first use into .cache/ (git-ignored); state under .cache/state/.
#
#   scripts/stack.sh up       install if needed, start what is not running, wait until healthy
#   scripts/stack.sh down     stop what this script started (pid files in .cache/run/)
#   scripts/stack.sh status   each service, its URL and whether it answers
#   scripts/stack.sh env      `export ...` lines for the endpoints (eval "$(scripts/stack.sh env)")
#   scripts/stack.sh logs     tail of each service's log
#
# Environment (all optional):
#   STACK_OPENSEARCH_PORT (9200)  STACK_OPENSEARCH_TRANSPORT_PORT (http port + 100)  STACK_MOTO_PORT (4566)
#   STACK_OPENSEARCH_HEAP (512m: -Xms, -Xmx is twice that up to 1g)  STACK_KEEP_DATA=1 (keep indices across up)
#   STACK_CACHE_DIR (<repo>/.cache)  STACK_OPENSEARCH_USER (opensearch; used when run as root)
#   STACK_START_TIMEOUT (120 seconds per service)
set -euo pipefail

readonly OPENSEARCH_VERSION="2.19.6"
readonly OPENSEARCH_ARTIFACT="org.opensearch.distribution.integ-test-zip:opensearch:${OPENSEARCH_VERSION}:zip"
readonly MOTO_VERSION="5.2.5"
readonly JAVA17_HOME_DEFAULT="/usr/lib/jvm/java-17-openjdk-amd64"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${STACK_CACHE_DIR:-$ROOT/.cache}"
OS_PORT="${STACK_OPENSEARCH_PORT:-9200}"
OS_TRANSPORT_PORT="${STACK_OPENSEARCH_TRANSPORT_PORT:-$((OS_PORT + 100))}"
MOTO_PORT="${STACK_MOTO_PORT:-4566}"
HEAP_MIN="${STACK_OPENSEARCH_HEAP:-512m}"
START_TIMEOUT="${STACK_START_TIMEOUT:-120}"
OS_USER="${STACK_OPENSEARCH_USER:-opensearch}"

OS_URL="http://127.0.0.1:${OS_PORT}"
MOTO_URL="http://127.0.0.1:${MOTO_PORT}"


log() { printf '[stack] %s\n' "$*" >&2; }
die() {
  printf '[stack] ERROR: %s\n' "$*" >&2
  exit 1
}

is_root() { [ "$(id -u)" -eq 0 ]; }

java_home() {
  if [ -n "${OPENSEARCH_JAVA_HOME:-}" ]; then
    echo "$OPENSEARCH_JAVA_HOME"
  elif [ -x "$JAVA17_HOME_DEFAULT/bin/java" ]; then
    echo "$JAVA17_HOME_DEFAULT"
  elif [ -n "${JAVA_HOME:-}" ]; then
    echo "$JAVA_HOME"
  else
    die "no Java 17 found: install openjdk-17 or set OPENSEARCH_JAVA_HOME"
  fi
}

# The OpenSearch install must be readable by the user that runs it. Under root this is a system user, which
# cannot enter e.g. /root/...: then the install and state live under /var/tmp instead.
world_traversable() {
  local d="$1"
  while [ -n "$d" ] && [ "$d" != "/" ]; do
    if [ -e "$d" ]; then
      [ "$(($(stat -c '%a' "$d" | sed 's/^.*\(.\)$/\1/') & 1))" -eq 1 ] || return 1
    fi
    d="$(dirname "$d")"
  done
}
if is_root && ! world_traversable "$CACHE"; then
  OS_BASE="/var/tmp/twingate-stack"
else
  OS_BASE="$CACHE"
fi
RUN_DIR="$CACHE/run"
OS_STATE="$OS_BASE/state/opensearch-$OS_PORT"
OS_PIDFILE="$OS_STATE/opensearch.pid" # written by OpenSearch itself (-p), so it lives in a dir it owns
OS_STARTLOG="$OS_STATE/startup.log"
MOTO_PIDFILE="$RUN_DIR/moto-$MOTO_PORT.pid"
MOTO_LOG="$CACHE/state/moto-$MOTO_PORT.log"
VENV="$CACHE/venv"

# ---------------------------------------------------------------- health probes

opensearch_health() {
  # prints the cluster status (green/yellow/red) or nothing
  { curl -fsS --max-time 3 "$OS_URL/_cluster/health" 2>/dev/null || true; } |
    sed -n 's/.*"status":"\([a-z]*\)".*/\1/p'
}
opensearch_healthy() {
  local s
  s="$(opensearch_health)"
  [ "$s" = "green" ] || [ "$s" = "yellow" ]
}
moto_healthy() {
  # moto's dashboard page: static, answers as soon as the server is up (data.json fails once some
  # resources exist, and ListBuckets grows with the buckets)
  curl -fsS --max-time 3 -o /dev/null "$MOTO_URL/moto-api/" 2>/dev/null
}
port_in_use() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# pid alive and its command line contains the expected word (guards against reused pids)
pid_alive() {
  local pidfile="$1" word="$2" pid
  [ -f "$pidfile" ] || return 1
  pid="$(tr -dc '0-9' <"$pidfile")"
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$word"
}

# ---------------------------------------------------------------- install

install_opensearch() {
  local home zip dl
  home="$OS_BASE/opensearch-$OPENSEARCH_VERSION"
  if [ -x "$home/bin/opensearch" ]; then
    echo "$home"
    return
  fi
  command -v mvn >/dev/null || die "mvn is needed to fetch OpenSearch ($OPENSEARCH_ARTIFACT)"
  command -v unzip >/dev/null || die "unzip is needed to unpack OpenSearch"
  dl="$CACHE/downloads"
  mkdir -p "$dl" "$OS_BASE"
  zip="$dl/opensearch-$OPENSEARCH_VERSION.zip"
  if [ ! -s "$zip" ]; then
    log "downloading OpenSearch $OPENSEARCH_VERSION ($OPENSEARCH_ARTIFACT)"
    if ! mvn -B -q -Dstyle.color=never -Dmaven.repo.local="$CACHE/m2" dependency:copy \
      -Dartifact="$OPENSEARCH_ARTIFACT" -DoutputDirectory="$dl" >"$dl/mvn.log" 2>&1; then
      tail -n 40 "$dl/mvn.log" >&2
      die "could not download $OPENSEARCH_ARTIFACT with mvn"
    fi
  fi
  log "unpacking OpenSearch into $home"
  rm -rf "$home.partial"
  mkdir -p "$home.partial"
  unzip -q "$zip" -d "$home.partial"
  mv "$home.partial/opensearch-$OPENSEARCH_VERSION" "$home"
  rmdir "$home.partial"
  if [ -d "$home/plugins/opensearch-security" ]; then
    die "unexpected: the security plugin is bundled in $home; this stack expects it absent"
  fi
  echo "$home"
}

install_moto() {
  if [ -x "$VENV/bin/moto_server" ] && [ -f "$VENV/.moto-$MOTO_VERSION" ]; then
    return
  fi
  command -v python3 >/dev/null || die "python3 is needed for moto"
  log "installing moto[server]==$MOTO_VERSION into $VENV"
  rm -rf "$VENV"
  python3 -m venv "$VENV" || die "python3 -m venv failed (install python3-venv)"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION" >&2 ||
    die "pip install moto[server]==$MOTO_VERSION failed"
  touch "$VENV/.moto-$MOTO_VERSION"
}

ensure_os_user() {
  is_root || return 0
  if ! id -u "$OS_USER" >/dev/null 2>&1; then
    log "creating system user $OS_USER (OpenSearch refuses to run as root)"
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$OS_USER" ||
      die "useradd $OS_USER failed"
  fi
}

# ---------------------------------------------------------------- start / stop

wait_for() {
  local what="$1" probe="$2" pidfile="$3" word="$4" logfile="$5" started=$SECONDS
  until "$probe"; do
    # the pid file may take a few seconds to appear (OpenSearch writes its own); after that a dead process fails
    if [ $((SECONDS - started)) -gt 15 ] && ! pid_alive "$pidfile" "$word"; then
      log "$what exited during start-up; last lines of $logfile:"
      tail -n 60 "$logfile" >&2 2>/dev/null || true
      die "$what did not start"
    fi
    if [ $((SECONDS - started)) -ge "$START_TIMEOUT" ]; then
      log "$what not healthy after ${START_TIMEOUT}s; last lines of $logfile:"
      tail -n 60 "$logfile" >&2 2>/dev/null || true
      die "$what did not become healthy"
    fi
    sleep 1
  done
}

start_opensearch() {
  if pid_alive "$OS_PIDFILE" "org.opensearch.bootstrap.OpenSearch"; then
    if opensearch_healthy; then
      log "OpenSearch already running at $OS_URL (pid $(cat "$OS_PIDFILE"))"
      return
    fi
    log "OpenSearch process running, waiting for health"
    wait_for "OpenSearch" opensearch_healthy "$OS_PIDFILE" "org.opensearch.bootstrap.OpenSearch" "$OS_STATE/logs/stack.log"
    return
  fi
  if port_in_use "$OS_PORT"; then
    if opensearch_healthy; then
      log "OpenSearch on $OS_URL was not started by this script; using it as is (down will not stop it)"
      return
    fi
    die "port $OS_PORT is in use by something else; choose another with STACK_OPENSEARCH_PORT"
  fi
  port_in_use "$OS_TRANSPORT_PORT" &&
    die "transport port $OS_TRANSPORT_PORT is in use; choose another with STACK_OPENSEARCH_TRANSPORT_PORT"

  local home jhome
  home="$(install_opensearch)"
  jhome="$(java_home)"
  ensure_os_user

  # per-instance config, data and logs (fresh data unless STACK_KEEP_DATA=1)
  if [ "${STACK_KEEP_DATA:-0}" != "1" ]; then rm -rf "$OS_STATE"; fi
  mkdir -p "$OS_STATE/data" "$OS_STATE/logs" "$OS_STATE/tmp"
  rm -rf "$OS_STATE/config"
  cp -r "$home/config" "$OS_STATE/config"
  # absolute paths for the JVM's files (the launcher cd's into the install dir); heap comes from the env
  sed -i \
    -e '/^-Xm[sx]/d' \
    -e "s#file=logs/gc.log#file=$OS_STATE/logs/gc.log#" \
    -e "s#-XX:HeapDumpPath=data#-XX:HeapDumpPath=$OS_STATE/data#" \
    -e "s#-XX:ErrorFile=logs/#-XX:ErrorFile=$OS_STATE/logs/#" \
    "$OS_STATE/config/jvm.options"
  cat >"$OS_STATE/config/opensearch.yml" <<EOF
# written by scripts/stack.sh
cluster.name: twingate-stack-$OS_PORT
node.name: stack-$OS_PORT
discovery.type: single-node
network.host: 127.0.0.1
http.port: $OS_PORT
transport.port: $OS_TRANSPORT_PORT
path.data: $OS_STATE/data
path.logs: $OS_STATE/logs
cluster.routing.allocation.disk.threshold_enabled: false
action.destructive_requires_name: false
EOF
  if is_root; then
    chown -R "$OS_USER:" "$home" "$OS_STATE"
    # the state dir must be reachable by the OpenSearch user
    chmod 755 "$(dirname "$OS_STATE")"
  fi

  local heap_max
  case "$HEAP_MIN" in
  512m) heap_max="1g" ;;
  *) heap_max="$HEAP_MIN" ;;
  esac
  log "starting OpenSearch $OPENSEARCH_VERSION on $OS_URL (transport $OS_TRANSPORT_PORT, heap $HEAP_MIN-$heap_max)"
  local -a cmd=(env
    "JAVA_HOME=$jhome" "OPENSEARCH_JAVA_HOME=$jhome"
    "OPENSEARCH_PATH_CONF=$OS_STATE/config"
    "OPENSEARCH_TMPDIR=$OS_STATE/tmp"
    "OPENSEARCH_JAVA_OPTS=-Xms$HEAP_MIN -Xmx$heap_max"
    "$home/bin/opensearch" -d -p "$OS_PIDFILE")
  if is_root; then
    (cd / && runuser -u "$OS_USER" -- "${cmd[@]}" >"$OS_STARTLOG" 2>&1 </dev/null 9>&-) ||
      {
        tail -n 60 "$OS_STARTLOG" >&2
        die "OpenSearch failed to launch"
      }
  else
    (cd / && "${cmd[@]}" >"$OS_STARTLOG" 2>&1 </dev/null 9>&-) || {
      tail -n 60 "$OS_STARTLOG" >&2
      die "OpenSearch failed to launch"
    }
  fi
  wait_for "OpenSearch" opensearch_healthy "$OS_PIDFILE" "org.opensearch.bootstrap.OpenSearch" "$OS_STATE/logs/twingate-stack-$OS_PORT.log"
  log "OpenSearch is $(opensearch_health) at $OS_URL"
}

start_moto() {
  if pid_alive "$MOTO_PIDFILE" "moto_server"; then
    if moto_healthy; then
      log "moto already running at $MOTO_URL (pid $(cat "$MOTO_PIDFILE"))"
      return
    fi
    wait_for "moto" moto_healthy "$MOTO_PIDFILE" "moto_server" "$MOTO_LOG"
    return
  fi
  if port_in_use "$MOTO_PORT"; then
    if moto_healthy; then
      log "moto on $MOTO_URL was not started by this script; using it as is (down will not stop it)"
      return
    fi
    die "port $MOTO_PORT is in use by something else; choose another with STACK_MOTO_PORT"
  fi
  install_moto
  mkdir -p "$RUN_DIR" "$(dirname "$MOTO_LOG")"
  log "starting moto $MOTO_VERSION (S3, SQS, SNS) on $MOTO_URL"
  # setsid: own session, so the server outlives the shell that started it (npm test, CI steps)
  setsid "$VENV/bin/moto_server" -H 127.0.0.1 -p "$MOTO_PORT" >"$MOTO_LOG" 2>&1 </dev/null 9>&- &
  echo $! >"$MOTO_PIDFILE"
  wait_for "moto" moto_healthy "$MOTO_PIDFILE" "moto_server" "$MOTO_LOG"
  log "moto is up at $MOTO_URL"
}

stop_pid() {
  local what="$1" pidfile="$2" word="$3" pid i
  if ! pid_alive "$pidfile" "$word"; then
    rm -f "$pidfile"
    log "$what: not running (nothing started by this script)"
    return
  fi
  pid="$(tr -dc '0-9' <"$pidfile")"
  log "stopping $what (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 60); do
    [ -d "/proc/$pid" ] || break
    sleep 0.5
  done
  if [ -d "/proc/$pid" ]; then
    log "$what did not stop in 30s; killing it"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}

# ---------------------------------------------------------------- commands

print_env() {
  cat <<EOF
export OPENSEARCH_URL=$OS_URL
export S3_ENDPOINT=$MOTO_URL
export SQS_ENDPOINT=$MOTO_URL
export SNS_ENDPOINT=$MOTO_URL
export AWS_REGION=us-east-1
export AWS_ACCESS_KEY_ID=test
export AWS_SECRET_ACCESS_KEY=test
EOF
}

with_lock() {
  mkdir -p "$RUN_DIR"
  # the servers are started with fd 9 closed, so the lock ends with this script
  exec 9>"$RUN_DIR/up.lock"
  flock -w 600 9 || die "another stack.sh holds $RUN_DIR/up.lock"
}

cmd_up() {
  with_lock
  # first use: fetch OpenSearch while pip installs moto
  local bg=""
  if [ ! -x "$OS_BASE/opensearch-$OPENSEARCH_VERSION/bin/opensearch" ]; then
    install_opensearch >/dev/null 9>&- &
    bg=$!
  fi
  start_moto
  if [ -n "$bg" ]; then
    wait "$bg" || die "OpenSearch could not be installed (see above)"
  fi
  start_opensearch
  log "stack is up:"
  log "  OpenSearch  $OS_URL"
  log "  S3/SQS/SNS  $MOTO_URL (moto; region us-east-1, keys test/test)"
  log "use it with:  eval \"\$(npm run -s stack env)\""
  print_env >&2
}

cmd_down() {
  with_lock
  stop_pid "OpenSearch" "$OS_PIDFILE" "org.opensearch.bootstrap.OpenSearch"
  stop_pid "moto" "$MOTO_PIDFILE" "moto_server"
}

cmd_status() {
  local rc=0 s
  s="$(opensearch_health)"
  if [ -n "$s" ]; then
    printf 'opensearch  %-28s %s%s\n' "$OS_URL" "up ($s)" "$(pid_alive "$OS_PIDFILE" org.opensearch.bootstrap.OpenSearch && echo ", pid $(cat "$OS_PIDFILE")" || echo ", not started by stack.sh")"
  else
    printf 'opensearch  %-28s %s\n' "$OS_URL" "down"
    rc=1
  fi
  if moto_healthy; then
    printf 'moto        %-28s %s%s\n' "$MOTO_URL" "up (S3, SQS, SNS)" "$(pid_alive "$MOTO_PIDFILE" moto_server && echo ", pid $(cat "$MOTO_PIDFILE")" || echo ", not started by stack.sh")"
  else
    printf 'moto        %-28s %s\n' "$MOTO_URL" "down"
    rc=1
  fi
  return $rc
}

cmd_logs() {
  echo "== OpenSearch ($OS_STATE/logs)"
  tail -n "${1:-40}" "$OS_STARTLOG" "$OS_STATE/logs/twingate-stack-$OS_PORT.log" 2>/dev/null || true
  echo "== moto ($MOTO_LOG)"
  tail -n "${1:-40}" "$MOTO_LOG" 2>/dev/null || true
}

case "${1:-}" in
up) cmd_up ;;
down) cmd_down ;;
status) cmd_status ;;
env) print_env ;;
logs) cmd_logs "${2:-40}" ;;
*)
  echo "usage: $0 up|down|status|env|logs" >&2
  exit 2
  ;;
esac
