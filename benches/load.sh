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

need() { # command, apt package
  command -v "$1" >/dev/null 2>&1 && return
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "$1 not found: installing $2 with apt-get" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
  else
    echo "$1 is needed: install your system's $2 package" >&2
    exit 1
  fi
}
need wrk wrk
need curl curl
if ! command -v initdb >/dev/null 2>&1 && ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
  need initdb postgresql
fi

cargo build --release --quiet
BIN=${CARGO_TARGET_DIR:-target}/release/attest

WORK=$(mktemp -d "${TMPDIR:-/tmp}/attest-load.XXXXXX")
# When run as root the cluster runs as the postgres user, which must reach the folder.
chmod 755 "$WORK"
SERVER=
stop() {
  if [ -n "$SERVER" ] && kill -0 "$SERVER" 2>/dev/null; then
    kill -TERM "$SERVER" 2>/dev/null || true # graceful: the server stops its cluster
    wait "$SERVER" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap stop EXIT
trap 'exit 130' INT TERM

# The server starts its own cluster under the data folder when DATABASE_URL is unset.
unset DATABASE_URL
export ATTEST_DATA_DIR="$WORK/data" RUST_LOG=warn

echo "Loading the benchmark centre..." >&2
"$BIN" bench-fixture >"$WORK/fixture"
declare -A F
while IFS='=' read -r key value; do F[$key]=$value; done <"$WORK/fixture"
echo "  ${F[evidence_items]} evidence items, ${F[ticks]} ticks on enrolment ${F[enrolment]}" >&2

"$BIN" serve --addr 127.0.0.1:0 >"$WORK/serve.log" 2>&1 &
SERVER=$!
BASE=
for _ in $(seq 600); do
  BASE=$(sed -n 's/^attest is serving on \(http:[^ ]*\)$/\1/p' "$WORK/serve.log")
  [ -n "$BASE" ] && break
  kill -0 "$SERVER" 2>/dev/null || { cat "$WORK/serve.log" >&2; exit 1; }
  sleep 0.1
done
[ -n "$BASE" ] || { echo "the server did not start" >&2; cat "$WORK/serve.log" >&2; exit 1; }
echo "Serving on $BASE" >&2

sign_in() { # email → the session cookie "attest_session=…"
  local jar="$WORK/jar-$1"
  curl -sS -o /dev/null -c "$jar" -H 'Sec-Fetch-Site: same-origin' \
    --data-urlencode "email=$1" --data-urlencode "password=${F[password]}" "$BASE/login"
  awk '$6 == "attest_session" { print $6 "=" $7 }' "$jar"
}
LEARNER_COOKIE=$(sign_in "${F[learner]}")
ASSESSOR_COOKIE=$(sign_in "${F[assessor]}")
[ -n "$LEARNER_COOKIE" ] && [ -n "$ASSESSOR_COOKIE" ] || { echo "signing in failed" >&2; exit 1; }

ENROLMENT=/enrolments/${F[enrolment]}
EVIDENCE_PAGE=$ENROLMENT/evidence/${F[evidence]}

# Each page once first: it must be the real page (200, not a redirect to sign in).
check_page() { # path, cookie, text the page must hold
  local code
  code=$(curl -sS -o "$WORK/page" -w '%{http_code}' -H "Cookie: $2" "$BASE$1")
  if [ "$code" != 200 ] || ! grep -q "$3" "$WORK/page"; then
    echo "GET $1 answered $code without \"$3\"" >&2
    exit 1
  fi
  echo "  GET $1: $(wc -c <"$WORK/page") bytes, $(curl -sS -H "Cookie: $2" -H 'Accept-Encoding: gzip' "$BASE$1" | wc -c) with gzip" >&2
}
check_page "$EVIDENCE_PAGE" "$LEARNER_COOKIE" 'Criteria'
check_page "$ENROLMENT/progress" "$LEARNER_COOKIE" 'Progress'
check_page "$ENROLMENT/matrix" "$LEARNER_COOKIE" 'Matrix'

# The tick POST: the assessor ticks, then unticks, criteria that carry no tick on the
# item, so every request changes something (and marks the enrolment for its automatic
# audit). As in a centre, where each assessor works on their own learner, the ticks in
# flight are spread over the assessor's caseload (32 learners, each with a portfolio
# like the first): each wrk thread takes every THREADS-th enrolment and goes round
# them, and on each enrolment round all of its free criteria (each from its own place
# in the list) before unticking, so no two requests in flight touch the same tick. "tick-one" puts every tick on the one
# learner instead (32 writers taking turns on one enrolment's row): reported, not
# judged, since no centre works that way.
tick_script() { # file, caseload ("enrolment:item,..."), extra header line (or empty)
  cat >"$1" <<LUA
local all = {}
for c in string.gmatch("${F[free_criteria]}", "[^,]+") do all[#all + 1] = c end
local pairs_ = {}
for p in string.gmatch("$2", "[^,]+") do pairs_[#pairs_ + 1] = p end
local threads = 0
function setup(thread)
  thread:set("part", threads)
  threads = threads + 1
end
function init(args)
  mine = {}
  for i, p in ipairs(pairs_) do
    if (i - 1) % ${THREADS} == part then
      local e, item = string.match(p, "([^:]+):([^:]+)")
      mine[#mine + 1] = "/enrolments/" .. e .. "/evidence/" .. item .. "/ticks"
    end
  end
  n = 0
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
  wrk.headers["Cookie"] = "${ASSESSOR_COOKIE}"
  wrk.headers["Sec-Fetch-Site"] = "same-origin"
  $3
end
function request()
  local k = n % #mine
  local path = mine[k + 1]
  local round = math.floor(n / #mine)
  -- Each learner's assessor is at their own place in the list, as people are.
  local c = all[(round + k * 7) % #all + 1]
  local action = (math.floor(round / #all) % 2 == 0) and "tick" or "untick"
  n = n + 1
  return wrk.format(nil, path, nil, "criterion=" .. c .. "&action=" .. action)
end
LUA
}
tick_script "$WORK/tick.lua" "${F[caseload]}" ""
# As a browser with JavaScript ticks: htmx asks, and is answered with the criterion's
# row and the item's accept-all counts instead of a redirect.
tick_script "$WORK/tick-htmx.lua" "${F[caseload]}" 'wrk.headers["HX-Request"] = "true"'
tick_script "$WORK/tick-one.lua" "${F[enrolment]}:${F[evidence]}" ""

FAILED=0
REPORT=()
to_ms() { # wrk's "1.23ms" / "850.00us" / "1.02s" → milliseconds
  awk -v v="$1" 'BEGIN {
    n = v + 0
    if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n *= 1; else if (v ~ /m$/) n *= 60000; else if (v ~ /s$/) n *= 1000
    printf "%.2f", n }'
}
measure() { # name, path, p50 target (ms or -), p99 target (ms or -), wrk arguments...
  local name=$1 path=$2 p50_target=$3 p99_target=$4
  shift 4
  [ -n "$ONLY" ] && [ "$ONLY" != "$name" ] && return
  echo "wrk: $name ($CONNECTIONS connections, $DURATION, after 2 s of warm-up)" >&2
  # Not counted: every pool connection prepares its statements, the page is kept.
  wrk -t "$THREADS" -c "$CONNECTIONS" -d 2s --timeout 10s "$@" "$BASE$path" >/dev/null
  wrk --latency -t "$THREADS" -c "$CONNECTIONS" -d "$DURATION" --timeout 10s "$@" "$BASE$path" >"$WORK/wrk-$name"
  sed 's/^/    /' "$WORK/wrk-$name" >&2
  local p50 p99 rps verdict=ok
  p50=$(to_ms "$(awk '$1 == "50%" { print $2 }' "$WORK/wrk-$name")")
  p99=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$WORK/wrk-$name")")
  rps=$(awk '/^Requests\/sec/ { print $2 }' "$WORK/wrk-$name")
  if grep -qE 'Non-2xx|Socket errors' "$WORK/wrk-$name"; then
    verdict="ERRORS"
  fi
  if [ "$p50_target" != - ] && awk -v a="$p50" -v b="$p50_target" 'BEGIN { exit !(a > b) }'; then
    verdict="MISSED"
  fi
  if [ "$p99_target" != - ] && awk -v a="$p99" -v b="$p99_target" 'BEGIN { exit !(a > b) }'; then
    verdict="MISSED"
  fi
  [ "$verdict" = ok ] || FAILED=1
  REPORT+=("$(printf '%-11s p50 %8s ms (target %3s)   p99 %8s ms (target %3s)   %8s req/s   %s' \
    "$name" "$p50" "$p50_target" "$p99" "$p99_target" "$rps" "$verdict")")
}

# As a browser asks for them: every browser sends Accept-Encoding with gzip.
GZIP="Accept-Encoding: gzip, deflate, br"
measure evidence "$EVIDENCE_PAGE" 5 25 -H "Cookie: $LEARNER_COOKIE" -H "$GZIP"
measure progress "$ENROLMENT/progress" 5 25 -H "Cookie: $LEARNER_COOKIE" -H "$GZIP"
measure matrix "$ENROLMENT/matrix" 60 - -H "Cookie: $LEARNER_COOKIE" -H "$GZIP"
measure tick "$EVIDENCE_PAGE/ticks" - 20 -s "$WORK/tick.lua"
measure tick-htmx "$EVIDENCE_PAGE/ticks" - 20 -s "$WORK/tick-htmx.lua"
measure tick-one "$EVIDENCE_PAGE/ticks" - - -s "$WORK/tick-one.lua"

echo
echo "attest load test: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $CONNECTIONS connections, $DURATION each"
printf '%s\n' "${REPORT[@]}"
exit "$FAILED"
