#!/usr/bin/env bash
# N GenLab replicas behind HAProxy on this machine's loopback (127.0.0.1 only).
#
#   deploy/replicas.sh start [N]     # N replicas (default 2) on 127.0.0.1:8511.., HAProxy on 127.0.0.1:8501
#   deploy/replicas.sh status        # which processes run, and HAProxy's view of the replicas
#   deploy/replicas.sh stop          # stop HAProxy and every replica this script started
#   deploy/replicas.sh kill I        # SIGKILL replica I (a crash in the middle of a class)
#   deploy/replicas.sh revive I      # start replica I again
#   deploy/replicas.sh config [N]    # print the HAProxy config for N replicas (starts nothing)
#
# Environment: PYTHON (the replicas' interpreter, default python3), GENLAB_RUN_DIR (pid files, logs and the
# generated HAProxy config; default /tmp/genlab-replicas), HAPROXY (default haproxy; Debian's `haproxy`
# package). Run it from anywhere: the replicas run app.py from the repository that holds this script.
#
# Why a script and not a process manager: it is what a lab machine (and a benchmark) needs to start, kill
# and restart replicas by hand; compose.yaml and kubernetes.yaml are the managed ways.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$HERE")"
RUN="${GENLAB_RUN_DIR:-/tmp/genlab-replicas}"
PYTHON="${PYTHON:-python3}"
HAPROXY="${HAPROXY:-haproxy}"
FIRST_PORT=8511          # replica i listens on FIRST_PORT + i - 1, as in haproxy.cfg
HEALTH_PATH=/_stcore/health
START_TIMEOUT_S=120      # a cold replica imports torch and Streamlit; on a busy machine that takes a while

port_of() { echo $((FIRST_PORT + $1 - 1)); }

# haproxy.cfg with its `server` lines replaced by one per replica (every other line as written).
config() {
  local n="${1:-2}"
  awk -v n="$n" -v first="$FIRST_PORT" '
    /^[[:space:]]*server[[:space:]]/ {
      if (!done) { for (i = 1; i <= n; i++) printf "    server r%d 127.0.0.1:%d cookie r%d\n", i, first + i - 1, i; done = 1 }
      next
    }
    { print }' "$HERE/haproxy.cfg"
}

healthy() { "$PYTHON" - "$1" "$HEALTH_PATH" <<'PY'
import sys, urllib.request
try:
    sys.exit(urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}{sys.argv[2]}", timeout=2).read() != b"ok")
except OSError:
    sys.exit(1)
PY
}

alive() { [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

start_replica() {
  local i="$1" port
  port="$(port_of "$i")"
  if alive "$RUN/r$i.pid"; then echo "replica r$i already runs (pid $(cat "$RUN/r$i.pid"))"; return; fi
  # setsid: the replica is not in this shell's process group, so a Ctrl-C here does not kill it.
  # STREAMLIT_SERVER_COOKIE_SECRET: one secret for all replicas, so a cookie Streamlit signs on one replica
  # (st.login's) stays valid on the others after a move (GenLab has no login, but a fork might; the XSRF
  # cookie is not signed and works across replicas anyway).
  # Only the command itself goes to the background (so $! is the replica's own pid), with no descriptor of
  # this shell left open (a caller piping this script's output would otherwise wait for the replicas).
  (
    cd "$ROOT"
    GENLAB_TORCH_THREADS="${GENLAB_TORCH_THREADS:-1}" STREAMLIT_SERVER_COOKIE_SECRET="$(cat "$RUN/secret")" \
      setsid "$PYTHON" -m streamlit run app.py --server.address 127.0.0.1 --server.port "$port" \
        --server.headless true --client.showErrorDetails none >"$RUN/r$i.log" 2>&1 </dev/null &
    echo $! >"$RUN/r$i.pid"
  )
  echo "replica r$i: pid $(cat "$RUN/r$i.pid"), 127.0.0.1:$port, log $RUN/r$i.log"
}

wait_healthy() {
  local i="$1" port deadline=$((SECONDS + START_TIMEOUT_S))
  port="$(port_of "$i")"
  until healthy "$port"; do
    alive "$RUN/r$i.pid" || { echo "replica r$i exited; see $RUN/r$i.log" >&2; return 1; }
    ((SECONDS < deadline)) || { echo "replica r$i not healthy after ${START_TIMEOUT_S} s" >&2; return 1; }
    sleep 0.5
  done
  echo "replica r$i healthy ($HEALTH_PATH on port $port)"
}

start() {
  local n="${1:-2}" i
  [[ "$n" =~ ^[1-9][0-9]?$ ]] || { echo "N must be 1..99, not '$n'" >&2; exit 2; }
  command -v "$HAPROXY" >/dev/null || { echo "no $HAPROXY (apt-get install -y haproxy)" >&2; exit 1; }
  mkdir -p "$RUN"
  [[ -s "$RUN/secret" ]] || "$PYTHON" -c "import secrets; print(secrets.token_hex(32))" >"$RUN/secret"
  echo "$n" >"$RUN/replicas"
  config "$n" >"$RUN/haproxy.cfg"
  "$HAPROXY" -c -q -f "$RUN/haproxy.cfg"
  for ((i = 1; i <= n; i++)); do start_replica "$i"; done
  for ((i = 1; i <= n; i++)); do wait_healthy "$i"; done
  # -db: HAProxy in the foreground of its own session, so its log (haproxy.cfg logs to stderr: one line per
  # request, with the replica that served it) goes to haproxy.log; a daemon (-D) would drop it.
  local old=()
  alive "$RUN/haproxy.pid" && old=(-sf "$(cat "$RUN/haproxy.pid")")  # running (another N): a soft reload
  setsid "$HAPROXY" -db -f "$RUN/haproxy.cfg" "${old[@]}" >>"$RUN/haproxy.log" 2>&1 </dev/null &
  echo $! >"$RUN/haproxy.pid"
  sleep 0.5
  alive "$RUN/haproxy.pid" || { echo "HAProxy did not start; see $RUN/haproxy.log" >&2; exit 1; }
  echo "HAProxy: http://127.0.0.1:8501 -> $n replica(s); stats http://127.0.0.1:8404/stats"
}

stop_pid_file() {
  local file="$1" pid t
  alive "$file" || { rm -f "$file"; return 0; }
  pid="$(cat "$file")"
  kill -TERM "$pid" 2>/dev/null || true
  for ((t = 0; t < 100; t++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true   # torch-heavy shutdowns can hang
  rm -f "$file"
  echo "stopped $(basename "$file" .pid) (pid $pid)"
}

stop() {
  local f
  [[ -d "$RUN" ]] || { echo "nothing runs ($RUN does not exist)"; return; }
  stop_pid_file "$RUN/haproxy.pid"
  for f in "$RUN"/r*.pid; do [[ -e "$f" ]] && stop_pid_file "$f"; done
  return 0
}

status() {
  local f name
  [[ -d "$RUN" ]] || { echo "nothing runs ($RUN does not exist)"; return; }
  for f in "$RUN"/haproxy.pid "$RUN"/r*.pid; do
    [[ -e "$f" ]] || continue
    name="$(basename "$f" .pid)"
    if alive "$f"; then echo "$name: running (pid $(cat "$f"))"; else echo "$name: not running"; fi
  done
  # HAProxy's own view: proxy, server, status (UP/DOWN), current sessions, total sessions
  "$PYTHON" - <<'PY' || true
import csv, io, urllib.request
try:
    rows = csv.DictReader(io.StringIO(urllib.request.urlopen("http://127.0.0.1:8404/stats;csv", timeout=2)
                                      .read().decode().lstrip("# ")))
    for r in rows:
        if r["pxname"] == "replicas":
            print(f"  haproxy: {r['svname']:8s} {r['status']:6s} sessions now {r['scur']:>4s}, total {r['stot']:>6s}")
except OSError as e:
    print(f"  haproxy stats unavailable: {e}")
PY
}

replica_index() {
  [[ "${1:-}" =~ ^[1-9][0-9]?$ ]] || { echo "give a replica number, e.g. 1" >&2; exit 2; }
  echo "$1"
}

case "${1:-}" in
  start) start "${2:-2}" ;;
  stop) stop ;;
  status) status ;;
  config) config "${2:-2}" ;;
  kill)
    i="$(replica_index "${2:-}")"
    alive "$RUN/r$i.pid" || { echo "replica r$i is not running" >&2; exit 1; }
    kill -KILL "$(cat "$RUN/r$i.pid")" && rm -f "$RUN/r$i.pid" && echo "killed replica r$i (SIGKILL)" ;;
  revive)
    i="$(replica_index "${2:-}")"
    start_replica "$i" && wait_healthy "$i" ;;
  *) sed -n '2,12p' "$0"; exit 2 ;;
esac
