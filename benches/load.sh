#!/usr/bin/env bash
# Load test over loopback: builds the release binary, loads the benchmark centre (a
# learner on the 60-unit × 25-criteria qualification with 60 evidence items) into a
# throw-away data folder, serves it on 127.0.0.1, and runs wrk against the evidence
# page, the progress page, the matrix and a tick POST. Prints p50/p99 against the
# targets and exits non-zero if one is missed. Stops the server and its PostgreSQL
# cluster, and removes the folder, however it ends.
#
#   benches/load.sh                 # 10 s per target at 32 connections
#   LOAD_DURATION=30s LOAD_CONNECTIONS=64 benches/load.sh
#   LOAD_ONLY=matrix benches/load.sh        # one target: evidence|progress|matrix|tick|tick-htmx|tick-one
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${LOAD_DURATION:-10s}
CONNECTIONS=${LOAD_CONNECTIONS:-32}
# One wrk thread drives 32 connections at these rates; a second would only take CPU
# from the server it measures (they share this machine's cores).
THREADS=${LOAD_THREADS:-1}
ONLY=${LOAD_ONLY:-}

. benches/lib.sh
bench_setup

echo "Loading the benchmark centre..." >&2
ATTEST_DATA_DIR="$WORK/data" "$BIN" bench-fixture >"$WORK/fixture"
read_fixture "$WORK/fixture"
echo "  ${F[evidence_items]} evidence items, ${F[ticks]} ticks on enrolment ${F[enrolment]}" >&2

serve "$WORK/data"
LEARNER_COOKIE=$(sign_in "${F[learner]}")
ASSESSOR_COOKIE=$(sign_in "${F[assessor]}")
[ -n "$LEARNER_COOKIE" ] && [ -n "$ASSESSOR_COOKIE" ] || { echo "signing in failed" >&2; exit 1; }

ENROLMENT=/enrolments/${F[enrolment]}
EVIDENCE_PAGE=$ENROLMENT/evidence/${F[evidence]}

check_page "$EVIDENCE_PAGE" "$LEARNER_COOKIE" 'Criteria'
check_page "$ENROLMENT/progress" "$LEARNER_COOKIE" 'Progress'
check_page "$ENROLMENT/matrix" "$LEARNER_COOKIE" 'Matrix'

# The tick POST (see tick_script in benches/lib.sh). "tick-one" puts every tick on the
# one learner instead (32 writers taking turns on one enrolment's row): reported, not
# judged, since no centre works that way.
tick_script "$WORK/tick.lua" "$ASSESSOR_COOKIE" "${F[caseload]}" ""
# As a browser with JavaScript ticks: htmx asks, and is answered with the criterion's
# row and the item's accept-all counts instead of a redirect.
tick_script "$WORK/tick-htmx.lua" "$ASSESSOR_COOKIE" "${F[caseload]}" 'wrk.headers["HX-Request"] = "true"'
tick_script "$WORK/tick-one.lua" "$ASSESSOR_COOKIE" "${F[enrolment]}:${F[evidence]}" ""

# As a browser asks for them: every browser sends Accept-Encoding with gzip.
GZIP="Accept-Encoding: gzip, deflate, br"
measure evidence "$EVIDENCE_PAGE" 5 25 -H "Cookie: $LEARNER_COOKIE" -H "$GZIP"
measure progress "$ENROLMENT/progress" 5 25 -H "Cookie: $LEARNER_COOKIE" -H "$GZIP"
measure matrix "$ENROLMENT/matrix" 60 - -H "Cookie: $LEARNER_COOKIE" -H "$GZIP"
measure tick "$EVIDENCE_PAGE/ticks" - 20 -s "$WORK/tick.lua"
measure tick-htmx "$EVIDENCE_PAGE/ticks" - 20 -s "$WORK/tick-htmx.lua"
measure tick-one "$EVIDENCE_PAGE/ticks" - - -s "$WORK/tick-one.lua"

print_report "attest load test"
exit "$FAILED"
