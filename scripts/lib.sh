# shellcheck shell=bash
# Shared helpers for Meander's scripts. Source it; don't run it.
#
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#
# Sourcing cd's to the repository root and sets MEANDER_ROOT.

if [[ -n "${_MEANDER_LIB_LOADED:-}" ]]; then
    return 0
fi
_MEANDER_LIB_LOADED=1

# CI may start us with standard input closed; give children /dev/null instead.
if ! { true <&0; } 2>/dev/null; then
    exec </dev/null
fi

MEANDER_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export MEANDER_ROOT
cd "$MEANDER_ROOT" || exit 1

# ---------------------------------------------------------------- output

if [[ -t 1 && -z "${NO_COLOR:-}" && -z "${CI:-}" ]]; then
    _c_red=$'\033[31m' _c_green=$'\033[32m' _c_yellow=$'\033[33m' _c_bold=$'\033[1m' _c_off=$'\033[0m'
else
    _c_red='' _c_green='' _c_yellow='' _c_bold='' _c_off=''
fi

log() { printf '%s\n' "$*" >&2; }
info() { printf '%s[%s]%s %s\n' "$_c_bold" "$(basename "$0")" "$_c_off" "$*" >&2; }
warn() { printf '%s[%s] warning:%s %s\n' "$_c_yellow" "$(basename "$0")" "$_c_off" "$*" >&2; }
die() {
    printf '%s[%s] error:%s %s\n' "$_c_red" "$(basename "$0")" "$_c_off" "$*" >&2
    exit 1
}
banner() { printf '\n%s== %s ==%s\n' "$_c_bold" "$*" "$_c_off"; }
say_pass() { printf '%sPASS%s %s\n' "$_c_green" "$_c_off" "$*"; }
say_fail() { printf '%sFAIL%s %s\n' "$_c_red" "$_c_off" "$*"; }
say_skip() { printf '%sSKIP%s %s\n' "$_c_yellow" "$_c_off" "$*"; }

# ---------------------------------------------------------------- cleanup stack
# Register shell snippets to run on EXIT (last registered runs first). Call
# `cleanup_install_traps` once; INT/TERM exit with 130/143 and so run EXIT.

_CLEANUP_CMDS=()

cleanup_push() { _CLEANUP_CMDS+=("$1"); }

_cleanup_run() {
    local rc=$?
    set +e
    local i
    for ((i = ${#_CLEANUP_CMDS[@]} - 1; i >= 0; i--)); do
        eval "${_CLEANUP_CMDS[i]}"
    done
    _CLEANUP_CMDS=()
    return "$rc"
}

cleanup_install_traps() {
    trap '_cleanup_run' EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    trap 'exit 129' HUP
}

# ---------------------------------------------------------------- processes

# stop_pid PID [GRACE_SECONDS]: SIGTERM, wait, then SIGKILL. Returns the exit
# status of the process when it was our child, else 0.
stop_pid() {
    local pid="$1" grace="${2:-15}" i
    [[ -n "$pid" ]] || return 0
    kill -0 "$pid" 2>/dev/null || {
        wait "$pid" 2>/dev/null
        return $?
    }
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < grace * 10; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        warn "process $pid ignored SIGTERM for ${grace}s; sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null
}

# ---------------------------------------------------------------- network

# free_port: prints a free TCP port on 127.0.0.1 (asked of the kernel).
free_port() {
    python3 - <<'PY'
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
PY
}

# http_status URL [curl args...]: prints the HTTP status code (000 if no answer).
http_status() {
    local url="$1"
    shift
    curl -sS -o /dev/null -w '%{http_code}' --connect-timeout 2 --max-time 10 "$@" "$url" 2>/dev/null || true
}

# wait_http URL [TIMEOUT_SECONDS] [EXPECTED_STATUS] [PID]: polls until URL answers
# EXPECTED_STATUS (default 200). If PID is given and dies, gives up at once.
wait_http() {
    local url="$1" timeout="${2:-60}" want="${3:-200}" pid="${4:-}" code deadline
    deadline=$((SECONDS + timeout))
    while ((SECONDS < deadline)); do
        code="$(http_status "$url")"
        [[ "$code" == "$want" ]] && return 0
        if [[ -n "$pid" ]] && ! kill -0 "$pid" 2>/dev/null; then
            log "process $pid exited before $url answered $want"
            return 1
        fi
        sleep 0.25
    done
    log "timed out after ${timeout}s waiting for $url to answer $want (last: ${code:-none})"
    return 1
}

# ---------------------------------------------------------------- tools

# ensure_pg_tools: makes sure initdb/pg_ctl/postgres are on PATH (Debian keeps
# them in /usr/lib/postgresql/N/bin).
ensure_pg_tools() {
    if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
        return 0
    fi
    local d
    for d in /usr/lib/postgresql/15/bin /usr/lib/postgresql/*/bin; do
        if [[ -x "$d/initdb" && -x "$d/pg_ctl" ]]; then
            PATH="$d:$PATH"
            export PATH
            return 0
        fi
    done
    die "initdb/pg_ctl not found; install PostgreSQL 15 (apt-get install postgresql-15)"
}

# gen_key: base64 of 32 random bytes (for MEANDER_TOKEN_SIGNING_KEY / MEANDER_MASTER_KEY).
gen_key() { head -c 32 /dev/urandom | base64 | tr -d '\n'; }

# ---------------------------------------------------------------- the meander binary

# meander_bin_path: prints where `swift build` puts the meander executable.
meander_bin_path() {
    if [[ -n "${MEANDER_BIN:-}" ]]; then
        printf '%s\n' "$MEANDER_BIN"
        return 0
    fi
    local bin_dir
    bin_dir="$(swift build --show-bin-path 2>/dev/null)" || bin_dir="$MEANDER_ROOT/.build/debug"
    printf '%s/meander\n' "$bin_dir"
}

# ensure_meander: builds the meander product unless MEANDER_SKIP_BUILD=1 (then
# only checks it exists). Sets MEANDER_BIN.
ensure_meander() {
    if [[ "${MEANDER_SKIP_BUILD:-0}" != 1 ]]; then
        info "swift build --product meander"
        swift build --product meander >&2 || die "swift build --product meander failed"
    fi
    MEANDER_BIN="$(meander_bin_path)"
    [[ -x "$MEANDER_BIN" ]] || die "meander executable not found at $MEANDER_BIN (run: swift build)"
    export MEANDER_BIN
}
