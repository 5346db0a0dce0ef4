#!/usr/bin/env bash
# Apprenticeships at a real centre's size (issue 14): the benchmark centre of
# benches/reports.sh (10,000 enrolments) with every enrolment an apprenticeship holding
# 100 off-the-job entries and 8 progress reviews, served on 127.0.0.1 and measured with
# wrk against the goals:
#
#   an apprenticeship's OTJ page          p50 ≤ 10 ms at 1 connection
#   the funding-risk report, any view     p50 ≤ 30 ms at 1 connection
#   adding an OTJ entry (POST)            p99 ≤ 20 ms at 32 connections
#
# and reports (not judged) a review's page, the reviews list and the admin's dashboard
# with its funding-risk count. Reuses the loaded centre of benches/reports.sh:
#
#   REPORTS_DATA=/tmp/attest-10k benches/reports.sh      # loads it once (minutes)
#   REPORTS_DATA=/tmp/attest-10k benches/apprenticeships.sh
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${REPORTS_DURATION:-10s}
CONNECTIONS=${REPORTS_CONNECTIONS:-32}
THREADS=${REPORTS_THREADS:-1}
ONLY=${REPORTS_ONLY:-}

. benches/lib.sh
bench_setup

DATA=${REPORTS_DATA:?set REPORTS_DATA to a centre loaded by benches/reports.sh}
[ -f "$DATA/fixture" ] || { echo "no loaded centre in $DATA: run benches/reports.sh first" >&2; exit 1; }
read_fixture "$DATA/fixture"
start=$(date +%s)
ATTEST_DATA_DIR="$DATA/data" "$BIN" bench-apprenticeships >"$WORK/apprenticeships"
echo "  $(cat "$WORK/apprenticeships") (ready in $(($(date +%s) - start)) s)" >&2

serve "$DATA/data"
ADMIN=$(sign_in "${F[admin]}")
LEARNER=$(sign_in "${F[learner]}")
ASSESSOR=$(sign_in "${F[assessor]}")
for c in "$ADMIN" "$LEARNER" "$ASSESSOR"; do
  [ -n "$c" ] || { echo "signing in failed" >&2; exit 1; }
done
ENROLMENT=/enrolments/${F[enrolment]}
REVIEW=$(curl -sS -H "Cookie: $LEARNER" "$BASE$ENROLMENT/reviews" |
  sed -n 's/.*href="\/enrolments\/[0-9a-f-]*\/reviews\/\([0-9a-f-]*\)".*/\1/p' | head -1)
[ -n "$REVIEW" ] || { echo "no review on the learner's enrolment" >&2; exit 1; }

RISK_VIEWS=(
  "/admin/funding-risk"
  "/admin/funding-risk?risk=all&sort=approved"
  "/admin/funding-risk?risk=overdue&sort=review&dir=desc"
  "/admin/funding-risk?risk=unsigned&sort=unsigned"
  "/admin/funding-risk?risk=behind&sort=behind&page=40"
  "/admin/funding-risk?q=Patel&risk=all"
)
check_page "$ENROLMENT/otj" "$LEARNER" 'Where the hours stand'
check_page "$ENROLMENT/reviews/$REVIEW" "$LEARNER" 'Since the last review'
for v in "${RISK_VIEWS[@]}"; do check_page "$v" "$ADMIN" 'Funding risk'; done
check_page /admin/dashboard "$ADMIN" 'at funding risk'

GZIP="Accept-Encoding: gzip, deflate, br"
MEASURE_CONNECTIONS=1
measure otj-page "$ENROLMENT/otj" 10 - -H "Cookie: $LEARNER" -H "$GZIP"
measure otj-page-assessor "$ENROLMENT/otj" 10 - -H "Cookie: $ASSESSOR" -H "$GZIP"
n=0
for v in "${RISK_VIEWS[@]}"; do
  n=$((n + 1))
  measure "funding-risk-$n" "$v" 30 - -H "Cookie: $ADMIN" -H "$GZIP"
done
measure review-page "$ENROLMENT/reviews/$REVIEW" - - -H "Cookie: $LEARNER" -H "$GZIP"
measure reviews-list "$ENROLMENT/reviews" - - -H "Cookie: $LEARNER" -H "$GZIP"
measure dashboard /admin/dashboard - - -H "Cookie: $ADMIN" -H "$GZIP"
unset MEASURE_CONNECTIONS

# Adding entries, as the assessor, across their caseload (each request on a learner of
# its own, as in a centre): a minute each on one of the last 180 days (every loaded
# apprenticeship started longer ago), so a day holds a handful of entries, as a real log
# does, and never passes 24 hours however long the run. The loader of the next run takes
# these entries away again.
TODAY=$(date -u +%s)
cat >"$WORK/otj-add.lua" <<LUA
local enrolments = {}
for p in string.gmatch("${F[caseload]}", "[^,]+") do
  local e = string.match(p, "([^:]+):")
  enrolments[#enrolments + 1] = e
end
local n = 0
function init(args)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
  wrk.headers["Cookie"] = "$ASSESSOR"
  wrk.headers["Sec-Fetch-Site"] = "same-origin"
end
function request()
  n = n + 1
  local e = enrolments[(n % #enrolments) + 1]
  local day = os.date("!%Y-%m-%d", $TODAY - 86400 * (1 + math.floor(n / #enrolments) % 180))
  return wrk.format(nil, "/enrolments/" .. e .. "/otj", nil,
    "day=" .. day .. "&hours=0&minutes=1&activity=Shadowing&what=Shadowed+a+colleague")
end
function response(status, headers, body)
  if status ~= 303 then
    io.stderr:write("otj-add answered " .. status .. "\n")
  end
end
LUA
measure otj-add "$ENROLMENT/otj" - 20 -s "$WORK/otj-add.lua"
grep -c "otj-add answered" "$WORK/serve.log" >/dev/null 2>&1 || true

print_report "attest apprenticeships at ${F[centre_enrolments]} enrolments"
exit "$FAILED"
