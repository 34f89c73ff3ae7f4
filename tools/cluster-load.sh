#!/usr/bin/env bash
# Measures a chargedesk cluster under load: NODES `chargedesk serve` processes
# on one PostgreSQL schema and one NATS server of its own, each given PER_NODE
# lightweight chargers by its own `chargedesk sim -load` process (Heartbeats
# at HB_RATE/s and operator commands on the bus at CMD_RATE/s per node).
# Prints each node's figures (the load tool's summary) and
# each server's resident memory.
#
#   tools/cluster-load.sh                       # 3 nodes × 10,000 chargers
#   NODES=2 PER_NODE=1000 DURATION=10s tools/cluster-load.sh
#   KEEP_LOGS=1 tools/cluster-load.sh           # keep the nodes' logs
#
# Needs: go, psql, nats-server on PATH; CHARGEDESK_TEST_POSTGRES (a DSN
# whose role may create schemas). Loopback only; stops everything it started.
set -euo pipefail
cd "$(dirname "$0")/.."
NODES=${NODES:-3}
PER_NODE=${PER_NODE:-10000}
HB_RATE=${HB_RATE:-1000}
CMD_RATE=${CMD_RATE:-20}
DURATION=${DURATION:-20s}
BASE=${CHARGEDESK_TEST_POSTGRES:?set CHARGEDESK_TEST_POSTGRES to a PostgreSQL DSN}

work=$(mktemp -d)
pids=()
schema="chargedesk_load_$(head -c 4 /dev/urandom | od -An -tx1 | tr -d ' \n')"
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  psql "$BASE" -qc "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null 2>&1 || true
  if [ -n "${KEEP_LOGS:-}" ]; then
    rm -f "$work/chargedesk"
    echo "logs kept in $work"
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT

go build -o "$work/chargedesk" ./cmd/chargedesk
psql "$BASE" -qc "CREATE SCHEMA $schema"
sep='?'; [[ "$BASE" == *\?* ]] && sep='&'
dsn="${BASE}${sep}search_path=$schema"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
nats_port=$(free_port)
nats-server -a 127.0.0.1 -p "$nats_port" >"$work/nats.log" 2>&1 &
pids+=($!)
sleep 1

start_node() { # name http ocpp
  CHARGEDESK_DATABASE_URL="$dsn" CHARGEDESK_NATS_URL="nats://127.0.0.1:$nats_port" \
  CHARGEDESK_API_KEYS="ops:load-test-key-0123456789" CHARGEDESK_ALLOW_UNAUTHENTICATED=true \
  CHARGEDESK_LOG_LEVEL=warn \
    "$work/chargedesk" serve -node "$1" -http "127.0.0.1:$2" -ocpp "127.0.0.1:$3" -data "$work/$1" >"$work/$1.log" 2>&1 &
  pids+=($!)
  node_pids+=($!)
  for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$2/readyz" >/dev/null && return; sleep 0.5; done
  echo "node $1 did not start; its log:"; tail -20 "$work/$1.log"; exit 1
}

node_pids=()
ocpp_ports=()
names=()
for i in $(seq 0 $((NODES - 1))); do
  name="node-$(printf "\\x$(printf %x $((97 + i)))")"
  names+=("$name")
  http=$(free_port); ocpp=$(free_port)
  ocpp_ports+=("$ocpp")
  if [ "$i" -eq 0 ]; then
    start_node "$name" "$http" "$ocpp"   # migrates the schema
    # Every load charger registered, Accepted, without a password.
    PGOPTIONS="-c search_path=$schema" psql "$BASE" -qc "INSERT INTO chargers (id, registration_status, registered_at)
      SELECT p || lpad(n::text, 6, '0'), 'Accepted', now()
      FROM unnest(ARRAY[$(for j in $(seq 0 $((NODES - 1))); do printf "'L%s-'," "$j"; done | sed 's/,$//')]) p,
           generate_series(0, $((PER_NODE - 1))) n"
  else
    start_node "$name" "$http" "$ocpp"
  fi
done

echo "load average before: $(cat /proc/loadavg)"
loads=()
for i in $(seq 0 $((NODES - 1))); do
  "$work/chargedesk" sim -load -url "ws://127.0.0.1:${ocpp_ports[$i]}/ocpp" -nats "nats://127.0.0.1:$nats_port" \
    -id-prefix "L$i-" -chargers "$PER_NODE" -heartbeat-rate "$HB_RATE" -commands-rate "$CMD_RATE" \
    -duration "$DURATION" >"$work/load-$i.txt" 2>"$work/load-$i.err" &
  loads+=($!)
done
for p in "${loads[@]}"; do wait "$p" || true; done
echo "load average after: $(cat /proc/loadavg)"
for i in $(seq 0 $((NODES - 1))); do
  rss=$(awk '/VmRSS/ {print $2}' "/proc/${node_pids[$i]}/status" 2>/dev/null || echo "?")
  echo "${names[$i]}: server RSS ${rss} kB for $PER_NODE chargers"
  cat "$work/load-$i.txt" || tail -5 "$work/load-$i.err"
  echo
done
