#!/usr/bin/env bash
# Memory soak (not a CI test): Surge's open model at RATE requests/s (default 2000) for
# DURATION (default 30m) against a target where every URL is new and every response is a 500
# with a new error message (the worst case for the name and failure-group caps). Surge's RSS
# is sampled every 10 s; the run FAILS (exit 1) if RSS at the end is more than 10 % above RSS
# at WARMUP (default 5m), or if the achieved rate is below 95 % of RATE. Prints the RSS curve
# (start, WARMUP, end, peak). Loopback only; everything stops by itself after DURATION.
#
#   cargo build --release && bash scripts/soak.sh
#   DURATION=3m WARMUP=1m RATE=3000 bash scripts/soak.sh      # a shorter look
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
DURATION=${DURATION:-30m}
WARMUP=${WARMUP:-5m}
RATE=${RATE:-2000}
USERS=${USERS:-200}
SURGE=${SURGE:-./target/release/surge}
OUT=${OUT:-$(mktemp -d)}
mkdir -p "$OUT"
[ -x "$SURGE" ] || { echo "build first: cargo build --release" >&2; exit 2; }
seconds() { # 30m, 90s, 1h, 45 → seconds
  case "$1" in *h) echo $(( ${1%h} * 3600 ));; *m) echo $(( ${1%m} * 60 ));;
    *s) echo "${1%s}";; *) echo "$1";; esac
}
WARMUP_S=$(seconds "$WARMUP")
PORT=${PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}

python3 scripts/unique-target.py "$PORT" & TARGET=$!
trap 'kill "$TARGET" 2>/dev/null || true' EXIT
for _ in $(seq 50); do
  python3 -c "import socket; socket.create_connection(('127.0.0.1', $PORT), 1)" 2>/dev/null && break
  sleep 0.1
done

"$SURGE" --headless -f scripts/unique-plan.toml -H "http://127.0.0.1:$PORT" --rate "$RATE" \
  -u "$USERS" -t "$DURATION" --only-summary --json "$OUT/soak.json" --csv "$OUT/soak" \
  > "$OUT/surge.txt" 2>&1 & PID=$!
echo "seconds rss_kb" > "$OUT/rss.txt"
echo "soak: $RATE req/s for $DURATION (pid $PID), samples in $OUT/rss.txt"
start=$(date +%s)
while kill -0 "$PID" 2>/dev/null; do
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$PID/status" 2>/dev/null || true)
  [ -n "$rss" ] && echo "$(( $(date +%s) - start )) $rss" >> "$OUT/rss.txt"
  sleep 10
done
wait "$PID" || true # failures are expected: every response is a 500

python3 - "$OUT/rss.txt" "$OUT/soak.json" "$WARMUP_S" "$RATE" <<'PY'
import json, sys
rss_file, json_file, warmup, rate = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
rows = [tuple(map(int, l.split())) for l in open(rss_file).read().split("\n")[1:] if l.strip()]
after = [r for r in rows if r[0] >= warmup]
if len(after) < 2:
    sys.exit("soak: too few RSS samples after the warm-up (is DURATION longer than WARMUP?)")
mb = lambda kb: kb / 1024
at_warmup, last = after[0], rows[-1]
print("RSS curve (MB):", " ".join("%ds=%.1f" % (s, mb(kb)) for s, kb in rows[:: max(1, len(rows) // 12)]))
print("RSS (MB): start %.1f, at %ds %.1f, end (%ds) %.1f, peak after warm-up %.1f" % (
    mb(rows[0][1]), at_warmup[0], mb(at_warmup[1]), last[0], mb(last[1]),
    mb(max(kb for _, kb in after))))
growth = (last[1] - at_warmup[1]) / at_warmup[1]
print("growth after the warm-up: %+.1f%% (limit +10%%)" % (growth * 100))
stats = json.load(open(json_file))
total = stats["total"]
requests = total["num_requests"]
elapsed = stats.get("duration_s") or last[0]
achieved = requests / elapsed
print("requests: %d in %.0f s = %.0f req/s (asked %.0f)" % (requests, elapsed, achieved, rate))
failed = growth > 0.10 or achieved < 0.95 * rate
print("soak: FAILED" if failed else "soak: passed")
sys.exit(1 if failed else 0)
PY
