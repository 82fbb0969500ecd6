#!/usr/bin/env bash
# Scale check (issue 4, target 4): 10 000 concurrent users with a between(1, 5) wait against
# a local nginx, driven from the dashboard with a client reading /events as a browser would.
# Measures: how long the users took to start against the asked spawn rate, Surge's peak RSS,
# and the jitter of the dashboard's one-second tick (arrival of each snapshot event).
# Loopback only; bounded by DURATION.
#   bash scripts/scale-10k.sh            USERS=10000 SPAWN=500 DURATION=60
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
USERS=${USERS:-10000}
SPAWN=${SPAWN:-500}
DURATION=${DURATION:-60}
PORT=${PORT:-18090}
WEB_PORT=${WEB_PORT:-18089}
SURGE=${SURGE:-./target/release/surge}
NGINX=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
OUT=${OUT:-$(mktemp -d)}
mkdir -p "$OUT/nginx"
[ -x "$SURGE" ] || { echo "build first: cargo build --release" >&2; exit 2; }
[ -x "$NGINX" ] || { echo "nginx not found: apt-get install nginx-light" >&2; exit 2; }

cat > "$OUT/nginx/nginx.conf" <<NGX
worker_processes 1;
worker_rlimit_nofile 40000;
pid $OUT/nginx/nginx.pid;
error_log $OUT/nginx/error.log warn;
events { worker_connections 30000; }
http {
  access_log off;
  keepalive_requests 100000000;
  keepalive_timeout 120s;
  client_body_temp_path $OUT/nginx/body;
  proxy_temp_path $OUT/nginx/proxy;
  fastcgi_temp_path $OUT/nginx/fastcgi;
  uwsgi_temp_path $OUT/nginx/uwsgi;
  scgi_temp_path $OUT/nginx/scgi;
  server {
    listen 127.0.0.1:$PORT backlog=4096;
    location / { default_type text/plain; return 200 "ok"; }
  }
}
NGX
"$NGINX" -p "$OUT/nginx" -c "$OUT/nginx/nginx.conf" -g 'daemon off;' > "$OUT/nginx/stdout" 2>&1 &
NGINX_PID=$!
trap 'kill $NGINX_PID 2>/dev/null || true; kill $PID 2>/dev/null || true' EXIT
sleep 1

"$SURGE" -f scripts/scale-plan.toml -H "http://127.0.0.1:$PORT" -u "$USERS" -r "$SPAWN" \
  -t "${DURATION}s" --autostart --web-port "$WEB_PORT" --csv "$OUT/surge" --json "$OUT/surge.json" \
  > "$OUT/surge.txt" 2>&1 &
PID=$!
# RSS every second.
( while kill -0 "$PID" 2>/dev/null; do
    awk -v t="$(date +%s.%N)" '/VmRSS/ {print t, $2}' "/proc/$PID/status" 2>/dev/null || true
    sleep 1
  done ) > "$OUT/rss.txt" &
sleep 0.5

python3 - "$WEB_PORT" "$USERS" "$SPAWN" "$OUT" <<'PY'
import json, sys, time, urllib.request
port, users, spawn, out = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
for _ in range(50):
    try:
        stream = urllib.request.urlopen(f"http://127.0.0.1:{port}/events", timeout=30)
        break
    except OSError:
        time.sleep(0.2)
else:
    sys.exit("dashboard did not come up")
arrivals, event = [], None
for raw in stream:
    line = raw.decode().rstrip("\n")
    if line.startswith("event:"):
        event = line[6:].strip()
    elif line.startswith("data:") and event in ("snapshot", "state"):
        snap = json.loads(line[5:])["snapshot"]
        arrivals.append((time.monotonic(), snap["state"], snap["user_count"], snap["total"]["num_requests"],
                         snap.get("generator", {}).get("lag_ms")))
        if snap["state"] == "stopped" and len(arrivals) > 3:
            break
json.dump(arrivals, open(f"{out}/arrivals.json", "w"))
running = [a for a in arrivals if a[1] in ("spawning", "running")]
gaps = [b[0] - a[0] for a, b in zip(running, running[1:])]
jitter = max(abs(g - 1.0) for g in gaps) if gaps else float("nan")
first = running[0][0] if running else 0
full = next((a[0] for a in running if a[2] >= users), None)
expected = users / spawn
print(f"snapshots while running: {len(running)}; tick interval min {min(gaps):.3f} s, max {max(gaps):.3f} s; "
      f"max jitter {jitter * 1000:.0f} ms")
if full is None:
    print(f"users: never reached {users} (peak {max(a[2] for a in arrivals)})")
else:
    print(f"users: {users} started after {full - first:.1f} s (spawn rate {spawn:g}/s asks for {expected:.1f} s)")
print(f"requests: {arrivals[-1][3]}; generator lag up to {max((a[4] or 0) for a in running):.1f} ms")
ok = full is not None and abs((full - first) - expected) <= 2.0 and jitter < 0.100
open(f"{out}/verdict.txt", "w").write("PASS" if ok else "FAIL")
PY
# The dashboard keeps serving after its test stopped: Ctrl-C ends it (files are written).
kill -INT "$PID" 2>/dev/null || true
wait "$PID" || true
python3 - "$OUT" <<'PY'
import sys
out = sys.argv[1]
rows = [tuple(map(float, l.split())) for l in open(f"{out}/rss.txt") if len(l.split()) == 2]
peak = max(r[1] for r in rows) / 1024
print(f"RSS: peak {peak:.1f} MB over {len(rows)} samples (limit 300 MB)")
verdict = open(f"{out}/verdict.txt").read()
if peak > 300:
    verdict = "FAIL"
print(f"verdict: {verdict} (all users started at the spawn rate within 2 s, tick jitter < 100 ms, RSS <= 300 MB)")
sys.exit(0 if verdict == "PASS" else 1)
PY
grep -E "Generator health|WARNING" "$OUT/surge.txt" | head -5 || true
echo "files: $OUT"
