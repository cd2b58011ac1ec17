#!/usr/bin/env bash
# The HTTP gateway (issue 9, item 11): flowent-gateway on the dev cluster,
# logged in as a non-superuser member of flowent_gateway, with baselines
# measured in the same run:
#  1. the peers' 5-node flow (../shared/peers/README.md, bench/peers_flow.sql)
#     through the signed synchronous webhook POST /api/hooks/<id>?wait=true,
#     wrk 2 threads at c=10 and c=50 with post.lua's bodies, each request
#     signed once (pre-computed with python3 right before each run: a
#     signature is accepted once, a timestamp for 5 minutes); baselines: the
#     same two SQL statements the gateway sends, from pgbench, right after
#     each wrk run (ROUNDS rounds, medians), flowent.run alone, and Node-RED
#     (../shared/peers/node-red.sh) in the same run.  Every run is checked to
#     be committed (execution row, 6 node logs, the right output).
#  2. GET /api/pipelines with 1,000 workflows of the token's user (each run
#     once, 5 of the first page 100 times), wrk c=10; baseline: the same SQL
#     (gateway_login + api_list_pipelines in one transaction) from pgbench;
#     again after the webhook load added another user's executions.
#  3. commit -> WebSocket frame latency of workflow:complete events (its ts,
#     set before the commit, to the frame's arrival) while 4 sessions run the
#     flow at RATE/s; baseline: the same events on a direct LISTEN.
#  4. SOCKETS (1,000) WebSockets joined to one workflow: events per socket
#     for FANOUT_RUNS runs against the number sent (12 per run).
#  5. the gateway's RSS idle, with the idle sockets, under the webhook load.
# Prints figures and ratios, asserts no timing.  Needs the dev cluster
# (bash scripts/cluster.sh start) and `make gateway`; DURATION s per load.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
eval "$(bash scripts/cluster.sh env)"
export PGHOST PGPORT PGUSER
DURATION=${DURATION:-10}
WARM=${WARM:-5}
PORT=${PORT:-3950}              # the first free port from here
SOCKETS=${SOCKETS:-1000}
FANOUT_RUNS=${FANOUT_RUNS:-100}
RATE=${RATE:-200}
FANOUT_RATE=${FANOUT_RATE:-10}
ROUNDS=${ROUNDS:-3}
HOOK_CAP=${HOOK_CAP:-10000}       # signed requests prepared per second of a wrk run
PEERS_DIR=${PEERS_DIR:-$ROOT/../shared/peers}
GW=${GW_BIN:-$ROOT/src/gateway/flowent-gateway}
DB=flowent_bench_gateway
ROLE=bench_gw
ADMIN="host=$PGHOST port=$PGPORT dbname=$DB user=postgres"
CONNINFO="host=$PGHOST port=$PGPORT dbname=$DB user=$ROLE application_name=bench-gateway"
ulimit -n 4096 2>/dev/null || ulimit -n "$(ulimit -Hn)"
while ss -Hltn "sport = :$PORT" | grep -q .; do PORT=$((PORT + 1)); done   # a free port
TMP=$(mktemp -d)
GWPID=
NRPID=
NCPID=
cleanup() {
	[ -z "$NCPID" ] || { kill -TERM "$NCPID" 2>/dev/null; wait "$NCPID" 2>/dev/null || true; }
	[ -z "$NRPID" ] || { kill "$NRPID" 2>/dev/null; wait "$NRPID" 2>/dev/null || true; }
	if [ -n "$GWPID" ] && kill -0 "$GWPID" 2>/dev/null; then
		kill -TERM "$GWPID"
		wait "$GWPID" 2>/dev/null || true
	fi
	dropdb --if-exists "$DB" >/dev/null 2>&1 || true
	rm -rf "$TMP"
}
trap cleanup EXIT
[ -x "$GW" ] || { echo "gateway: $GW missing: run make gateway" >&2; exit 1; }
bash scripts/cluster.sh status >/dev/null || bash scripts/cluster.sh start >/dev/null
q() { psql -X -At -q -v ON_ERROR_STOP=1 -d "$DB" "$@"; }
qgw() { psql -X -At -q -v ON_ERROR_STOP=1 -d "$DB" -U "$ROLE" "$@"; }
f2() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}'; }
kv() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -1; }   # kv LINE KEY
note() { echo "[$(date +%T)] $*"; }
gw_rss() { ps -o rss= -p "$GWPID" | awk '{printf "%.1f", $1 / 1024}'; }
gw_cpu() { awk '{print $14 + $15}' "/proc/$GWPID/stat"; }   # utime + stime, ticks

. "$ROOT/test/lib/gateway_db.sh"
gateway_db "$DB" "$ROLE"
token() { "$GW" token create --db "$ADMIN" --user "$1" | tail -n 1; }
ALICE=$(token alice)    # owns the 1,000 pipelines
BOB=$(token bob)        # owns the peers' flow (webhooks, WebSockets)
# the workflows are made as their users through the gateway's role (set_acting_user)
WF=$(qgw -1 -c "SELECT flowent.set_acting_user('bob')" -f bench/peers_flow.sql | grep -E '^[0-9a-f-]{36}$')
SECRET=$(qgw -1 -c "SELECT flowent.set_acting_user('bob')" -c "SELECT flowent.publish('$WF') ->> 'webhookSecret'" | tail -n 1)
qgw -1 >/dev/null <<'SQL'
SELECT flowent.set_acting_user('alice');
CREATE TEMP TABLE w ON COMMIT DROP AS SELECT i, flowent.create_workflow('pipeline ' || i,
 '[{"id":"t","type":"trigger","position":{"x":0,"y":0},"data":{}},
   {"id":"s","type":"set-variable","position":{"x":200,"y":0},"data":{"name":"n","value":"{{trigger.payload.n}}"}},
   {"id":"o","type":"output","position":{"x":400,"y":0},"data":{"value":"{{variables.n}}"}}]',
 '[{"id":"e1","source":"t","target":"s"},{"id":"e2","source":"s","target":"o"}]') AS id
FROM generate_series(1, 1000) i;
-- every pipeline run once, the first 5 of the list's first page 100 times: 1,495 executions
SELECT count(flowent.run(w.id, '{"n": 0}')) FROM w;
SELECT count(flowent.run(p.id, jsonb_build_object('n', k)))
FROM (SELECT id FROM flowent.workflows ORDER BY updated_at DESC NULLS LAST, id LIMIT 5) p, generate_series(1, 99) k;
SQL
q -c "ANALYZE"
cc -O2 -o "$TMP/listen" test/tools/listen.c -I"$(pg_config --includedir)" -lpq

# the gateway: rate limit off (it is per token: 200/s by default), the rest default
"$GW" --db "$CONNINFO" --listen "127.0.0.1:$PORT" --rate-limit 0 >"$TMP/gateway.log" 2>&1 &
GWPID=$!
BASE=http://127.0.0.1:$PORT
for _ in $(seq 1 100); do curl -sf -o /dev/null "$BASE/health" && break; sleep 0.1; done
curl -sf -o /dev/null "$BASE/health" || { cat "$TMP/gateway.log"; exit 1; }
# a second gateway that keeps no answers: every list is made by its SQL (the pipelines' baseline)
NCPORT=$((PORT + 1))
while ss -Hltn "sport = :$NCPORT" | grep -q .; do NCPORT=$((NCPORT + 1)); done
"$GW" --db "$CONNINFO" --listen "127.0.0.1:$NCPORT" --rate-limit 0 --answer-cache-mb 0 >"$TMP/gateway-nocache.log" 2>&1 &
NCPID=$!
for _ in $(seq 1 100); do curl -sf -o /dev/null "http://127.0.0.1:$NCPORT/health" && break; sleep 0.1; done
GW_HEAD="$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src/gateway sql || echo "+uncommitted"), binary built $(date -u -r "$GW" '+%F %T')"
echo "flowent-gateway pid $GWPID ($GW, tree $GW_HEAD), pool 8 (default), $(nproc) cores, synchronous_commit = $(q -c 'SHOW synchronous_commit'), ${DURATION}s per load"
echo "loadavg before: $(cut -d' ' -f1-3 /proc/loadavg)"
sleep 1
RSS_IDLE=$(gw_rss)
note "gateway RSS idle: $RSS_IDLE MB"

# ---- GET /api/pipelines
cat >"$TMP/get.lua" <<EOF
wrk.headers["Authorization"] = "Bearer $ALICE"
done = function(s, lat, req)
  local e = s.errors
  io.write(string.format("RESULT rps=%.1f p50_ms=%.2f p99_ms=%.2f requests=%d non2xx=%d sock_errors=%d\n",
    s.requests / (s.duration / 1e6), lat:percentile(50) / 1000, lat:percentile(99) / 1000,
    s.requests, e.status, e.connect + e.read + e.write + e.timeout))
end
EOF
printf '%s\n' "SELECT flowent.gateway_login('$ALICE') \\; SELECT flowent.api_list_pipelines('{}'::jsonb);" >"$TMP/list.sql"
cat >"$TMP/page.py" <<'PY'
import json, sys
d = json.load(sys.stdin)
p = d['pipelines']
print(f"{len(p)} pipelines of {d['meta']['total']}, {len(json.dumps(d))} bytes, "
      f"{sum(x['execution_count'] for x in p)} executions counted on the page")
PY
pipelines() {	# pipelines LABEL: wrk c=10 through the gateway, then the same SQL from pgbench
	local body r b n
	q -c "ANALYZE flowent.workflow_executions" -c "ANALYZE flowent.workflows"
	body=$(curl -s -H "Authorization: Bearer $ALICE" "$BASE/api/pipelines")
	note >&2 "GET /api/pipelines ($1; $(q -c "SELECT count(*) FROM flowent.workflow_executions") executions in the database): $(echo "$body" | python3 "$TMP/page.py")"
	wrk -t2 -c10 -d2s -s "$TMP/get.lua" "$BASE/api/pipelines" >/dev/null
	r=$(wrk -t2 -c10 -d"${DURATION}s" --timeout 10s -s "$TMP/get.lua" "$BASE/api/pipelines" | grep '^RESULT')
	b=$(pgbench -n -M simple -U "$ROLE" -c 10 -j 2 -T "$DURATION" -f "$TMP/list.sql" "$DB" 2>&1 | awk '/^tps/ {printf "%d", $3} /latency average/ {l = $4} END {printf " %s", l}')
	# kept answers off: each request runs the list's SQL
	n=$(wrk -t2 -c10 -d"${DURATION}s" --timeout 10s -s "$TMP/get.lua" "http://127.0.0.1:$NCPORT/api/pipelines" | grep '^RESULT' | tr ' ' '\n' | sed -n 's/^rps=//p')
	echo "$r nokept=$n $b"
}
P1=$(pipelines "1,000 pipelines, 1,495 executions")
note "pipelines: $P1"

# ---- the webhook: the peers' flow, signed, synchronous
echo "sample answers: $(python3 - "$BASE" "$WF" "$SECRET" <<'PY'
import sys, os
sys.path.insert(0, os.path.join('test', 'gateway'))
from gwclient import http, sign
base, wf, secret = sys.argv[1:]
hook = lambda body, h: http(base, 'POST', f'/api/hooks/{wf}?wait=true', raw=body, headers=h)
out = []
for body in (b'{"id":1,"value":70}', b'{"id":2,"value":20}'):
    r = hook(body, sign(secret, body))
    out.append(f'{r.status} {r.json and r.json.get("output")}')
body = b'{"id":3,"value":30}'
h = sign(secret, body)
out.append(f'one signed request sent twice: {hook(body, h).status}, then {hook(body, h).status}')
print('; '.join(out))
PY
)"
cat >"$TMP/gen.py" <<'PY'
import hashlib, hmac, sys, time
secret, prefix, n, start = sys.argv[1].encode(), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
ts = str(int(time.time())).encode()
files = [open(f'{prefix}.{t}', 'wb') for t in range(2)]     # one file per wrk thread
for k in range(n):
    i = start + k
    body = b'{"id":%d,"value":%d}' % (i, i % 100)
    mac = hmac.new(secret, ts + b'.' + body, hashlib.sha256).hexdigest().encode()
    files[k % 2].write(ts + b' sha256=' + mac + b' ' + body + b'\n')
for f in files:
    f.close()
PY
cat >"$TMP/hook.lua" <<'LUA'
-- each request once: thread tid sends the lines of FILE.tid in order; stops when they run out
local counter, threads = 0, {}
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  threads[#threads + 1] = thread
end
function init(args)
  reqs = {}
  for line in io.lines(args[1] .. "." .. tid) do
    local ts, sig, body = line:match("^(%d+) (%S+) (.*)$")
    reqs[#reqs + 1] = wrk.format("POST", args[2], {["Content-Type"] = "application/json",
      ["X-Flowent-Timestamp"] = ts, ["X-Flowent-Signature"] = sig}, body)
  end
  used, exhausted, navail = 0, 0, #reqs
end
function request()
  if used >= navail then
    exhausted = 1
    wrk.thread:stop()
    return reqs[navail]
  end
  used = used + 1
  return reqs[used]
end
function done(s, lat, req)
  local sent, avail, ex = 0, 0, 0
  for _, t in ipairs(threads) do
    sent = sent + t:get("used"); avail = avail + t:get("navail"); ex = ex + t:get("exhausted")
  end
  local e = s.errors
  io.write(string.format("RESULT rps=%.1f p50_ms=%.2f p99_ms=%.2f requests=%d non2xx=%d sock_errors=%d sent=%d prepared=%d exhausted=%d\n",
    s.requests / (s.duration / 1e6), lat:percentile(50) / 1000, lat:percentile(99) / 1000,
    s.requests, e.status, e.connect + e.read + e.write + e.timeout, sent, avail, ex))
end
LUA
HOOK=/api/hooks/$WF?wait=true
NEXT_ID=1000
hook_run() {	# hook_run CONNS SECONDS FIRST_ID: one wrk run over freshly signed requests; prints its RESULT line
	local n=$((HOOK_CAP * $2)) r
	python3 "$TMP/gen.py" "$SECRET" "$TMP/req" "$n" "$3"
	r=$(wrk -t2 -c"$1" -d"$2s" --timeout 10s -s "$TMP/hook.lua" "$BASE$HOOK" -- "$TMP/req" "$HOOK" | grep '^RESULT')
	[ "$(kv "$r" exhausted)" = 0 ] || note >&2 "WARNING: wrk used up the $n prepared requests: raise HOOK_CAP"
	echo "$r"
}
delete_plan() {	# what the replay table's clean-up costs per webhook (_webhook_deliveries_prune's DELETE, its settings)
	q -c "SET enable_seqscan = off" -c "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON) DELETE FROM flowent.webhook_deliveries d
		WHERE d.ctid = ANY (ARRAY(SELECT o.ctid FROM flowent.webhook_deliveries o
		WHERE o.received_at < now() - interval '10 minutes' LIMIT 100 FOR UPDATE SKIP LOCKED))" |
		awk '/Scan on webhook_deliveries o|Index Scan using .* on webhook_deliveries o/ {sub(/^ *(->)? */, ""); s = $0} /Execution Time/ {t = $3} END {printf "%s, %s ms", s, t}'
	printf ' (%s rows)' "$(q -c "SELECT count(*) FROM flowent.webhook_deliveries")"
}
HOOK0=$(q -c "SELECT count(*) FROM flowent.workflow_executions WHERE trigger_type = 'webhook'")
note "webhook warm-up ${WARM}s at c=10 on the new database (replay table analyzed while empty, with the rest after setup)"
WARMR=$(hook_run 10 "$WARM" "$NEXT_ID")
NEXT_ID=$((NEXT_ID + HOOK_CAP * WARM))
note "warm-up: $WARMR; replay clean-up: $(delete_plan)"
# what autovacuum does within a minute; it also ends the gateway sessions' cached plan of the
# replay clean-up made while the table was empty (a nested loop: quadratic in its rows)
q -c "ANALYZE flowent.webhook_deliveries"
note "after ANALYZE flowent.webhook_deliveries: $(delete_plan)"
# baseline: the gateway's statement for a webhook whose secret it remembers, from pgbench
# (the signature check aside; its payloads are marked, so the checks below leave them out)
DIGEST=$(printf %s "$SECRET" | sha256sum | cut -d' ' -f1)
printf '%s\n' '\set id random(1, 1000000)' \
	"SELECT answer FROM flowent.gateway_webhook_deliver(ARRAY['$WF'::uuid], ARRAY[md5(random()::text || clock_timestamp()::text)],
	 ARRAY[jsonb_build_object('id', CAST(:id AS int), 'value', CAST(:id AS int) % 100, 'baseline', true)::text], ARRAY[true], ARRAY['$DIGEST']);" >"$TMP/hook.sql"
med() { printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
# Node-RED, the same flow and load (in memory, nothing durable): its own script once (it also
# installs it), then a second instance measured back to back with each round below, because
# the VM's speed drifts by up to 2x within a run
note "Node-RED (../shared/peers/node-red.sh, DUR=$DURATION)"
NR=$(cd "$PEERS_DIR" && DUR=$DURATION WARM=$WARM bash ./node-red.sh 2>"$TMP/node-red.err" | grep '^RESULT' || true)
[ -n "$NR" ] || { tail -n 20 "$TMP/node-red.err"; note "Node-RED did not run"; }
echo "$NR"
declare -A NRR
for c in 10 50; do NRR[$c]=$(echo "$NR" | grep " c=$c " | head -n 1 || true); done
NR_HOME=${PEERS:-/tmp/peers}/node-red
if [ -n "$NR" ] && [ -x "$NR_HOME/node_modules/.bin/node-red" ]; then
	mkdir -p "$TMP/nr"
	cp "$PEERS_DIR/node-red/flows.json" "$PEERS_DIR/node-red/settings.js" "$TMP/nr/"
	"$NR_HOME/node_modules/.bin/node-red" -u "$TMP/nr" -s "$TMP/nr/settings.js" >"$TMP/nr.log" 2>&1 &
	NRPID=$!
	for _ in $(seq 1 600); do curl -s -o /dev/null http://127.0.0.1:1880/ && break; sleep 0.1; done
	wrk -t2 -c10 -d"${WARM}s" -s "$PEERS_DIR/post.lua" http://127.0.0.1:1880/bench >/dev/null
fi
nr_run() { [ -z "$NRPID" ] || wrk -t2 -c"$1" -d"${DURATION}s" --timeout 10s -s "$PEERS_DIR/post.lua" http://127.0.0.1:1880/bench | grep '^RESULT'; }

# ROUNDS rounds, each: gateway, pgbench and Node-RED at c=10, then at c=50 (the VM's speed drifts:
# the three measured back to back)
declare -A RPS P50 P99 BAD SQLR RAT RSSL GWUS LSUS NRS NRAT
HZ=$(getconf CLK_TCK)
ANSWERED=$(kv "$WARMR" requests)
SENT=$(kv "$WARMR" sent)
for r in $(seq 1 "$ROUNDS"); do
	for c in 10 50; do
		( while :; do ps -o rss= -p "$GWPID" >>"$TMP/rss.$c" || break; sleep 0.25; done ) &
		SAMPLER=$!
		c0=$(gw_cpu)
		h=$(hook_run "$c" "$DURATION" "$NEXT_ID")
		c1=$(gw_cpu)
		NEXT_ID=$((NEXT_ID + HOOK_CAP * DURATION))
		kill "$SAMPLER" 2>/dev/null; wait "$SAMPLER" 2>/dev/null || true
		b=$(pgbench -n -M prepared -U "$ROLE" -c "$c" -j 2 -T "$DURATION" -f "$TMP/hook.sql" "$DB" 2>&1 | awk '/^tps/ {printf "%d", $3}')
		c2=$(gw_cpu)
		n=$(nr_run "$c")
		[ -z "$n" ] || { NRS[$c]="${NRS[$c]:-} $(kv "$n" rps)"; NRAT[$c]="${NRAT[$c]:-} $(f2 "$(kv "$h" rps)" "$(kv "$n" rps)")"; }
		# the gateway's CPU per webhook, and per run while it only listens (pgbench's runs send it their events)
		GWUS[$c]="${GWUS[$c]:-} $(awk -v t=$((c1 - c0)) -v n="$(kv "$h" requests)" -v hz="$HZ" 'BEGIN {printf "%.0f", t / hz / n * 1e6}')"
		LSUS[$c]="${LSUS[$c]:-} $(awk -v t=$((c2 - c1)) -v n="$b" -v d="$DURATION" -v hz="$HZ" 'BEGIN {printf "%.0f", t / hz / (n * d) * 1e6}')"
		note "round $r, webhook c=$c: $h; same SQL from pgbench: $b/s; Node-RED: $(kv "$n" rps) req/s; gateway CPU per webhook / per pgbench run: $(echo ${GWUS[$c]} | awk '{print $NF}') / $(echo ${LSUS[$c]} | awk '{print $NF}') us; replay clean-up: $(delete_plan)"
		RPS[$c]="${RPS[$c]:-} $(kv "$h" rps)"; P50[$c]="${P50[$c]:-} $(kv "$h" p50_ms)"; P99[$c]="${P99[$c]:-} $(kv "$h" p99_ms)"
		BAD[$c]=$(( ${BAD[$c]:-0} + $(kv "$h" non2xx) + $(kv "$h" sock_errors) ))
		SQLR[$c]="${SQLR[$c]:-} $b"; RAT[$c]="${RAT[$c]:-} $(f2 "$(kv "$h" rps)" "$b")"
		ANSWERED=$((ANSWERED + $(kv "$h" requests))); SENT=$((SENT + $(kv "$h" sent)))
	done
done
for c in 10 50; do RSSL[$c]=$(sort -n "$TMP/rss.$c" | tail -n 1 | awk '{printf "%.1f", $1 / 1024}'); done
[ -z "$NRPID" ] || { kill "$NRPID"; wait "$NRPID" 2>/dev/null || true; NRPID=; }
# durability and answers: every 2xx is a committed run with its 6 node logs and the right output
sleep 1
HOOKS=$(( $(q -c "SELECT count(*) FROM flowent.workflow_executions WHERE trigger_type = 'webhook' AND NOT input ? 'baseline'") - HOOK0 ))
CHECK=$(q -F ' ' -c "SELECT count(*) FILTER (WHERE e.status <> 'success'),
		count(*) FILTER (WHERE e.output IS DISTINCT FROM jsonb_build_object('id', e.input -> 'id', 'value', e.input -> 'value',
			'doubled', (e.input ->> 'value')::int * 2, 'tier', CASE WHEN (e.input ->> 'value')::int * 2 >= 100 THEN 'high' ELSE 'low' END)),
		count(*) FILTER (WHERE (SELECT count(*) FROM flowent.workflow_node_logs l WHERE l.execution_id = e.id) <> 6),
		count(DISTINCT e.input ->> 'id') = count(*)
	FROM flowent.workflow_executions e WHERE e.trigger_type = 'webhook' AND NOT e.input ? 'baseline' AND (e.input ->> 'id')::int >= 1000")
note "webhook runs committed: $HOOKS (wrk: $ANSWERED answered, $SENT sent); not success / wrong output / not 6 node logs / ids unique: $CHECK"
printf '%s\n' '\set id random(1, 1000000)' \
	"SELECT flowent.run('$WF', jsonb_build_object('id', CAST(:id AS int), 'value', CAST(:id AS int) % 100));" >"$TMP/flowent.sql"
FR=$(pgbench -n -M prepared -c 10 -j 2 -T "$DURATION" -f "$TMP/flowent.sql" "$DB" 2>&1 | awk '/^tps/ {printf "%d", $3}')
note "flowent.run of the flow alone from pgbench as the superuser, c=10: $FR/s"

# ---- commit -> WebSocket frame latency, with the direct LISTEN of the same events beside it
printf '%s\n' '\set id random(1, 1000000)' 'BEGIN;' "SELECT flowent.set_acting_user('bob');" \
	"SELECT flowent.run('$WF', jsonb_build_object('id', CAST(:id AS int), 'value', CAST(:id AS int) % 100)) IS NOT NULL;" \
	'COMMIT;' >"$TMP/run.sql"
python3 bench/gateway_ws.py latency 127.0.0.1 "$PORT" "$BOB" "$WF" 3 $((DURATION + 60)) >"$TMP/ws.out" 2>"$TMP/ws.err" &
WSPID=$!
for _ in $(seq 1 100); do grep -q joined "$TMP/ws.out" && break; sleep 0.1; done
PGDATABASE=$DB "$TMP/listen" flowent 3000 $((DURATION * 1000 + 60000)) >"$TMP/listen.out" 2>"$TMP/listen.err" &
LPID=$!
for _ in $(seq 1 100); do grep -q listening "$TMP/listen.err" 2>/dev/null && break; sleep 0.05; done
pgbench -n -M prepared -U "$ROLE" -c 4 -j 2 -R "$RATE" -T "$DURATION" -f "$TMP/run.sql" "$DB" >"$TMP/pgbench.out" 2>&1
wait "$WSPID" "$LPID"
WSLAT=$(grep '^RESULT' "$TMP/ws.out")
LSLAT=$(python3 - "$TMP/listen.out" "$WF" <<'PY'
import json, sys, datetime
lat = []
for line in open(sys.argv[1]):
    t, payload = line.rstrip('\n').split(' ', 1)
    p = json.loads(payload)
    for e in (p if isinstance(p, list) else [p]):
        if e.get('event') == 'workflow:complete' and e.get('workflowId') == sys.argv[2]:
            ts = datetime.datetime.fromisoformat(e['ts'].replace('Z', '')).replace(tzinfo=datetime.timezone.utc)
            lat.append(int(t) / 1000.0 - ts.timestamp() * 1000.0)
lat.sort()
pick = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))]
print(f'RESULT runs={len(lat)} p50_ms={pick(0.5):.2f} p99_ms={pick(0.99):.2f} max_ms={lat[-1]:.2f}')
PY
)
note "commit -> frame, 4 sessions at $RATE runs/s: WebSocket $WSLAT; direct LISTEN $LSLAT"

# ---- SOCKETS WebSockets on one workflow; RSS with them idle
BEFORE=$(q -c "SELECT count(*) FROM flowent.workflow_executions WHERE workflow_id = '$WF'")
RSS_PRE=$(gw_rss)
python3 bench/gateway_ws.py fanout 127.0.0.1 "$PORT" "$BOB" "$WF" "$SOCKETS" 3 120 >"$TMP/fan.out" 2>"$TMP/fan.err" &
FPID=$!
for _ in $(seq 1 300); do grep -q '^joined' "$TMP/fan.out" && break; sleep 0.1; done
note "$(head -n 1 "$TMP/fan.out")"
sleep 1
RSS_SOCK=$(gw_rss)
note "gateway RSS with $SOCKETS idle sockets: $RSS_SOCK MB ($RSS_PRE MB before they opened)"
CPU0=$(gw_cpu)
T0=$(date +%s.%N)
pgbench -n -M prepared -U "$ROLE" -c 2 -j 2 -R "$FANOUT_RATE" -t $((FANOUT_RUNS / 2)) -f "$TMP/run.sql" "$DB" >"$TMP/pgbench.out" 2>&1
wait "$FPID" || true
CPU1=$(gw_cpu)
FAN=$(grep '^RESULT' "$TMP/fan.out" || true)
RUNS=$(( $(q -c "SELECT count(*) FROM flowent.workflow_executions WHERE workflow_id = '$WF'") - BEFORE ))
PER_RUN=$(q -c "SELECT max(seq) FROM flowent.workflow_executions WHERE workflow_id = '$WF' AND status = 'success'")
EXPECTED=$((RUNS * PER_RUN))
[ -s "$TMP/fan.err" ] && note "fanout client: $(head -c 600 "$TMP/fan.err")"
FAN_CPU=$(awk -v t="$((CPU1 - CPU0))" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.1f", t / hz}')
FAN_WALL=$(awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')
note "$SOCKETS sockets, $RUNS runs x $PER_RUN events = $EXPECTED expected per socket: $FAN; gateway CPU $FAN_CPU s in $FAN_WALL s"

P2=$(pipelines "after the webhook load")
note "pipelines again: $P2"
RSS_END=$(gw_rss)
ERRS=$(grep -ciE 'error|fail|warn' "$TMP/gateway.log" || true)
[ "$ERRS" = 0 ] || { note "gateway log ($ERRS lines with error/fail/warn):"; grep -iE 'error|fail|warn' "$TMP/gateway.log" | head -n 10; }

echo
echo "== flowent-gateway, $(date -u '+%Y-%m-%d %H:%M UTC'), tree $GW_HEAD, ${DURATION}s per load, loadavg $(cut -d' ' -f1-3 /proc/loadavg)"
row() { printf '%-58s %s\n' "$1" "$2"; }
for c in 10 50; do
	m=$(med ${RPS[$c]})
	row "webhook ?wait=true, signed, c=$c (median of $ROUNDS)" "$m req/s (rounds:${RPS[$c]}), p50 $(med ${P50[$c]}) ms, p99 $(med ${P99[$c]}) ms, non-2xx + socket errors ${BAD[$c]}"
	row "  same SQL from pgbench, c=$c" "$(med ${SQLR[$c]})/s (rounds:${SQLR[$c]}); gateway/pgbench median $(med ${RAT[$c]}) (${RAT[$c]# })"
	row "  gateway CPU per webhook; per run of pgbench's (LISTEN only)" "$(med ${GWUS[$c]}) us; $(med ${LSUS[$c]}) us (medians)"
	n=${NRR[$c]}
	[ -z "$n" ] || row "  Node-RED 4.1.15 (in memory), c=$c, its own script" "$(kv "$n" rps) req/s, p50 $(kv "$n" p50_ms) ms, p99 $(kv "$n" p99_ms) ms (flowent median/Node-RED $(f2 "$m" "$(kv "$n" rps)"))"
	[ -z "${NRS[$c]:-}" ] || row "  Node-RED, c=$c, right after each round" "$(med ${NRS[$c]}) req/s (rounds:${NRS[$c]}); flowent/Node-RED per round${NRAT[$c]}, median $(med ${NRAT[$c]})"
done
row "  flowent.run alone from pgbench (superuser), c=10" "$FR/s (webhook c=10 median / flowent.run $(f2 "$(med ${RPS[10]})" "$FR"))"
row "  warm-up, replay table analyzed while empty (see README)" "$(kv "$WARMR" rps) req/s, p99 $(kv "$WARMR" p99_ms) ms"
row "  durability" "$HOOKS runs committed for $ANSWERED answers ($SENT sent); bad: $CHECK"
for p in "1 1,000 pipelines, 1,495 executions" "2 after the webhook load"; do
	r=$([ "${p%% *}" = 1 ] && echo "$P1" || echo "$P2")
	b=$(echo "$r" | awk '{print $(NF - 1)}')
	row "GET /api/pipelines c=10 (${p#* })" "$(kv "$r" rps) req/s, p50 $(kv "$r" p50_ms) ms, p99 $(kv "$r" p99_ms) ms, non-2xx $(kv "$r" non2xx); kept answers off $(kv "$r" nokept) req/s; same SQL from pgbench $b/s (ratio $(f2 "$(kv "$r" rps)" "$b"))"
done
row "commit -> WebSocket frame, workflow:complete, $RATE runs/s" "p50 $(kv "$WSLAT" p50_ms) ms, p99 $(kv "$WSLAT" p99_ms) ms, max $(kv "$WSLAT" max_ms) ms ($(kv "$WSLAT" runs) runs)"
row "  same events on a direct LISTEN" "p50 $(kv "$LSLAT" p50_ms) ms, p99 $(kv "$LSLAT" p99_ms) ms, max $(kv "$LSLAT" max_ms) ms (WebSocket - LISTEN p50: $(awk -v a="$(kv "$WSLAT" p50_ms)" -v b="$(kv "$LSLAT" p50_ms)" 'BEGIN {printf "%.2f", a - b}') ms)"
row "$SOCKETS sockets on one workflow, $RUNS runs at $FANOUT_RATE/s" "events per socket min $(kv "$FAN" events_min) / max $(kv "$FAN" events_max), expected $EXPECTED; joined $(kv "$FAN" joined), closed by the server $(kv "$FAN" closed_by_server)"
row "  workflow:complete on all sockets (the Python client's lag incl.)" "p50 $(kv "$FAN" complete_p50_ms) ms, p99 $(kv "$FAN" complete_p99_ms) ms; CPU in ${FAN_WALL} s: gateway $FAN_CPU s, client $(kv "$FAN" client_cpu_s) s"
row "gateway RSS" "idle $RSS_IDLE MB, $SOCKETS idle sockets $RSS_SOCK MB ($RSS_PRE before), webhook load c=10 / c=50 max ${RSSL[10]} / ${RSSL[50]} MB, at the end $RSS_END MB"
