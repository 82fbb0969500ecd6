#!/usr/bin/env bash
# Memory soak: run Surge against a target that answers every unique URL with a unique error
# message, sample Surge's RSS every 10 s, and fail if RSS grows more than 10 % between the
# sample at 1/4 of the run and the end. Loopback only; bounded by DURATION.
#   DURATION=10m USERS=20 bash scripts/rss-soak.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
DURATION=${DURATION:-10m}
USERS=${USERS:-20}
PORT=${PORT:-18093}
SURGE=${SURGE:-./target/release/surge}
OUT=${OUT:-$(mktemp -d)}
mkdir -p "$OUT"
[ -x "$SURGE" ] || { echo "build first: cargo build --release" >&2; exit 2; }
python3 scripts/unique-target.py "$PORT" & TARGET=$!
trap 'kill $TARGET 2>/dev/null || true' EXIT
sleep 1
"$SURGE" --headless -f scripts/unique-plan.toml -H "http://127.0.0.1:$PORT" -u "$USERS" -r 100 \
  -t "$DURATION" --only-summary --csv "$OUT/soak" > "$OUT/surge.txt" 2>&1 & PID=$!
echo "seconds rss_kb" > "$OUT/rss.txt"
start=$(date +%s)
while kill -0 "$PID" 2>/dev/null; do
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$PID/status" 2>/dev/null || true)
  [ -n "$rss" ] && echo "$(( $(date +%s) - start )) $rss" >> "$OUT/rss.txt"
  sleep 10
done
wait "$PID" || true
grep -E "Aggregated" "$OUT/surge.txt" | head -1
python3 - "$OUT/rss.txt" <<'PY'
import sys
rows = [tuple(map(int, l.split())) for l in open(sys.argv[1]).read().split("\n")[1:] if l.strip()]
if len(rows) < 4:
    sys.exit("too few RSS samples")
quarter = rows[len(rows) // 4]
last = rows[-1]
print("RSS (MB): start %.1f, at %ds %.1f, end (%ds) %.1f, peak %.1f" % (
    rows[0][1] / 1024, quarter[0], quarter[1] / 1024, last[0], last[1] / 1024,
    max(r[1] for r in rows) / 1024))
growth = (last[1] - quarter[1]) / quarter[1]
print("growth after the first quarter: %+.1f%%" % (growth * 100))
sys.exit(1 if growth > 0.10 else 0)
PY
echo "samples and CSV files: $OUT"
