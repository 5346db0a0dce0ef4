#!/usr/bin/env bash
# The plans of the hot statements, as the app runs them, on a loaded centre (issue 16):
# turns on PostgreSQL's auto_explain (every statement's plan, with its real row counts
# and buffers, statements inside triggers too), serves the folder, makes one request of
# each hot page and one tick POST, stops, turns auto_explain off again, and prints each
# distinct statement with its time and what it scanned. A sequential scan of a table
# holding more than EXPLAIN_BIG rows (10,000) is flagged, and fails the script.
#
#   EXPLAIN_DATA=/work/bench/g100k benches/explain.sh      # a folder reports.sh loaded
#   EXPLAIN_PLANS=1 ...                                     # print the plans too
#
# EXPLAIN_DATA is a folder `REPORTS_DATA=... benches/reports.sh` loaded (its `fixture`
# and `data`). The bulk audit's statements are explained by running its benchmark on the
# same folder with the same settings (BULK_AUDIT_DATA, 200 enrolments, once).
set -euo pipefail
cd "$(dirname "$0")/.."

DATA=${EXPLAIN_DATA:?EXPLAIN_DATA names a loaded folder (see benches/reports.sh)}
BIG=${EXPLAIN_BIG:-10000}
DURATION=1s
CONNECTIONS=1
THREADS=1
ONLY=

. benches/lib.sh
bench_setup
need python3 python3

read_fixture "$DATA/fixture"
PG=$DATA/data/postgres
AUTO=$PG/postgresql.auto.conf
cp "$AUTO" "$WORK/auto.conf"
restore() {
  cp "$WORK/auto.conf" "$AUTO"
  bench_stop
}
trap restore EXIT
# Read by each new connection; the server is started after this, so all of its are.
cat >>"$AUTO" <<'CONF'
session_preload_libraries = 'auto_explain'
auto_explain.log_min_duration = 0
auto_explain.log_analyze = on
auto_explain.log_buffers = on
auto_explain.log_timing = off
auto_explain.log_nested_statements = on
auto_explain.log_format = json
CONF
LOG=$PG/postgres.log
START=$(wc -c <"$LOG")

serve "$DATA/data"
ADMIN=$(sign_in "${F[admin]}")
ASSESSOR=$(sign_in "${F[assessor]}")
LEARNER=$(sign_in "${F[learner]}")
BIG_ASSESSOR=$(sign_in "${F[big_assessor]}")
BIG_IQA=$(sign_in "${F[big_iqa]}")
ENROLMENT=/enrolments/${F[enrolment]}
EVIDENCE=$ENROLMENT/evidence/${F[evidence]}
CRITERION=${F[free_criteria]%%,*}
get() { # cookie, path
  curl -sS -o /dev/null -w "  GET $2: %{http_code}\n" -H "Cookie: $1" "$BASE$2" >&2
}
post() { # cookie, path, body, extra header
  curl -sS -o /dev/null -w "  POST $2: %{http_code}\n" -H "Cookie: $1" -H 'Sec-Fetch-Site: same-origin' \
    ${4:+-H "$4"} --data "$3" "$BASE$2" >&2
}
get "$LEARNER" "$EVIDENCE"
get "$LEARNER" "$ENROLMENT/progress"
post "$ASSESSOR" "$EVIDENCE/ticks" "criterion=$CRITERION&action=tick"
post "$ASSESSOR" "$EVIDENCE/ticks" "criterion=$CRITERION&action=untick" "HX-Request: true"
for v in "/admin/enrolments" "/admin/enrolments?sort=progress" "/admin/enrolments?sort=claims&claims=1" \
  "/admin/enrolments?q=Patel" "/admin/enrolments?stale=1&sort=outcome" "/admin/enrolments?stale=1" \
  "/admin/enrolments?page=150"; do
  get "$ADMIN" "$v"
done
get "$ADMIN" /
get "$BIG_ASSESSOR" /
get "$BIG_IQA" /
bench_stop_server() {
  kill -TERM "$SERVER" 2>/dev/null || true
  wait "$SERVER" 2>/dev/null || true
  SERVER=
}
bench_stop_server
if [ -z "${EXPLAIN_SKIP_AUDIT:-}" ]; then
  echo "Bulk audit (its benchmark once, as cargo test runs it: 200 enrolments)..." >&2
  cargo bench --quiet --bench bulk_audit --no-run 2>/dev/null
  AUDIT_BIN=$(ls -t target/release/deps/bulk_audit-* | grep -v '\.d$' | head -1)
  BULK_AUDIT_DATA=$DATA/data "$AUDIT_BIN" 2>&1 | grep -E '^(loaded|first)' >&2
fi

tail -c +"$((START + 1))" "$LOG" >"$WORK/plans.log"
python3 - "$WORK/plans.log" "$BIG" "${EXPLAIN_PLANS:-}" <<'PY'
import json, re, sys

log, big, show = sys.argv[1], int(sys.argv[2]), sys.argv[3]
head = re.compile(r"^\S+ \S+ \S+ \[\d+\] LOG:  duration: ([\d.]+) ms  plan:$")
entries, current = [], None
for line in open(log, encoding="utf-8", errors="replace"):
    m = head.match(line.rstrip("\n"))
    if m:
        current = [float(m.group(1)), []]
        entries.append(current)
    elif current is not None and re.match(r"^\S+ \S+ \S+ \[\d+\] ", line):
        current = None
    elif current is not None:
        current[1].append(line)

def nodes(plan):
    yield plan
    for child in plan.get("Plans", []):
        yield from nodes(child)

statements = {}
for ms, lines in entries:
    try:
        doc = json.loads("".join(lines))
    except ValueError:
        continue
    text = " ".join(doc.get("Query Text", "").split())
    if text.startswith(("SELECT pg_advisory", "LISTEN", "SET ", "BEGIN", "COMMIT")):
        continue
    scans = []
    for n in nodes(doc["Plan"]):
        kind = n["Node Type"]
        if "Scan" in kind and "Relation Name" in n:
            where = n.get("Index Name", "")
            # Rows read: those it returned and those its filter threw away, every loop.
            read = (n.get("Actual Rows", 0) + n.get("Rows Removed by Filter", 0)) * n.get("Actual Loops", 1)
            scans.append((kind, n["Relation Name"], where, read))
    s = statements.setdefault(text, {"calls": 0, "ms": 0.0, "max": 0.0, "scans": set(), "plan": doc["Plan"]})
    s["calls"] += 1
    s["ms"] += ms
    s["max"] = max(s["max"], ms)
    for sc in scans:
        s["scans"].add(sc[:3])
    s.setdefault("rows", {})
    for sc in scans:
        s["rows"][sc[:3]] = max(s["rows"].get(sc[:3], 0), sc[3])

bad = 0
print(f"{len(statements)} distinct statements, {sum(s['calls'] for s in statements.values())} runs")
for text, s in sorted(statements.items(), key=lambda kv: -kv[1]["max"]):
    flags = []
    for kind, rel, idx in sorted(s["scans"]):
        rows = s["rows"][(kind, rel, idx)]
        label = f"{kind} on {rel}" + (f" using {idx}" if idx else "")
        if kind == "Seq Scan" and rows > big:
            label += f"  ** reads {rows} rows **"
            bad += 1
        flags.append(label)
    print(f"\n{s['max']:8.2f} ms max  {s['calls']:3} runs  {text[:160]}")
    for f in flags:
        print(f"           {f}")
    if show:
        print(json.dumps(s["plan"], indent=1))
print(f"\n{bad} sequential scans reading more than {big} rows")
sys.exit(1 if bad else 0)
PY
