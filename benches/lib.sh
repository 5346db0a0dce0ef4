# Shared by benches/load.sh and benches/reports.sh (sourced, not run): the release build,
# a throw-away folder, the server on loopback, signing in, and wrk judged against goals.
# The caller sets: DURATION, CONNECTIONS, THREADS, ONLY; it gets: BIN, WORK, BASE,
# FAILED, REPORT.

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

bench_setup() {
  need wrk wrk
  need curl curl
  if ! command -v initdb >/dev/null 2>&1 && ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
    need initdb postgresql
  fi
  # ATTEST_BENCH_BIN measures a binary built earlier (e.g. a copy of the release build
  # before a change) instead of building this tree.
  if [ -n "${ATTEST_BENCH_BIN:-}" ]; then
    BIN=$ATTEST_BENCH_BIN
  else
    cargo build --release --quiet
    BIN=${CARGO_TARGET_DIR:-target}/release/attest
  fi
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/attest-bench.XXXXXX")
  # When run as root the cluster runs as the postgres user, which must reach the folder.
  chmod 755 "$WORK"
  SERVER=
  FAILED=0
  LAST_RPS=0
  REPORT=()
  trap bench_stop EXIT
  trap 'exit 130' INT TERM
  # The server starts its own cluster under the data folder when DATABASE_URL is unset.
  unset DATABASE_URL
  # BENCH_RUST_LOG asks the server for more (its log is copied to BENCH_KEEP_LOG).
  export RUST_LOG=${BENCH_RUST_LOG:-warn}
}

bench_stop() {
  if [ -n "$SERVER" ] && kill -0 "$SERVER" 2>/dev/null; then
    kill -TERM "$SERVER" 2>/dev/null || true # graceful: the server stops its cluster
    wait "$SERVER" 2>/dev/null || true
  fi
  if [ -n "${BENCH_KEEP_LOG:-}" ] && [ -f "$WORK/serve.log" ]; then cp "$WORK/serve.log" "$BENCH_KEEP_LOG"; fi
  rm -rf "$WORK"
}

read_fixture() { # file → the associative array F
  declare -gA F
  while IFS='=' read -r key value; do F[$key]=$value; done <"$1"
}

serve() { # data folder
  ATTEST_DATA_DIR="$1" "$BIN" serve --addr 127.0.0.1:0 >"$WORK/serve.log" 2>&1 &
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
}

sign_in() { # email → the session cookie "attest_session=…"
  local jar="$WORK/jar-$1"
  curl -sS -o /dev/null -c "$jar" -H 'Sec-Fetch-Site: same-origin' \
    --data-urlencode "email=$1" --data-urlencode "password=${F[password]}" "$BASE/login"
  awk '$6 == "attest_session" { print $6 "=" $7 }' "$jar"
}

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

to_ms() { # wrk's "1.23ms" / "850.00us" / "1.02s" → milliseconds
  awk -v v="$1" 'BEGIN {
    n = v + 0
    if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n *= 1; else if (v ~ /m$/) n *= 60000; else if (v ~ /s$/) n *= 1000
    printf "%.2f", n }'
}

# The machine's CPU counters (/proc/stat's first line): busy and stolen jiffies, then the
# server process's own (user and system, /proc/PID/stat), then its model threads' (the
# suggestions' background walk, `attest-model-N`), 0 when it is not running.
cpu_counters() {
  awk '$1 == "cpu" { printf "%s %s %s ", $2 + $3 + $4 + $7 + $8, $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat
  { sed 's/^.*) //' "/proc/${SERVER:-0}/stat" 2>/dev/null || echo; } | awk '{ printf "%s ", ($12 + $13) + 0 }'
  cat "/proc/${SERVER:-0}"/task/*/stat 2>/dev/null |
    awk '/\(attest-model-/ { sub(/^.*\) /, ""); n += $12 + $13 } END { print n + 0 }'
}

# What the whole machine spent on each request between two `cpu_counters` readings (the
# server, its database and the load generator together), the server's and the load
# generator's own parts of it (the rest is mostly the database), and the share the host
# took back (steal). The same code gives different latencies on
# a host that lends it less CPU; these say which kind of run a figure comes from. The
# model's threads run only in time the rest leaves (SCHED_IDLE): their CPU is left out
# of the machine's and the server's and said apart, as the time they filled.
machine_cost() { # before, after, requests, the load generator's CPU seconds
  awk -v b="$1" -v a="$2" -v n="$3" -v load="${4:-0}" -v hz="$(getconf CLK_TCK)" 'BEGIN {
    split(b, x, " "); split(a, y, " ")
    busy = y[1] - x[1]; steal = y[2] - x[2]; all = y[3] - x[3]; server = y[4] - x[4]
    idle = y[5] - x[5]; busy -= idle; server -= idle
    if (n <= 0 || all <= 0) { print "machine: -"; exit }
    printf "machine: %.3f ms CPU a request, server %.3f, wrk %.3f, steal %.0f %%, model in idle time %.0f %%",
      busy * 1000 / hz / n, server * 1000 / hz / n, load * 1000 / n, 100 * steal / all, 100 * idle / all }'
}

# Whether ONLY (an extended regular expression matched against the whole name, so
# "report-.*|csv" picks several) lets this measure run.
only() { [ -z "$ONLY" ] || [[ $1 =~ ^($ONLY)$ ]]; }

# Runs wrk and judges p50 and p99 against their goals (ms, or - for none). Uses
# CONNECTIONS unless MEASURE_CONNECTIONS is set for this one call.
measure() { # name, path, p50 target, p99 target, wrk arguments...
  local name=$1 path=$2 p50_target=$3 p99_target=$4
  shift 4
  only "$name" || return 0
  local connections=${MEASURE_CONNECTIONS:-$CONNECTIONS}
  local threads=$THREADS
  [ "$threads" -gt "$connections" ] && threads=$connections
  echo "wrk: $name ($connections connections, $DURATION, after 2 s of warm-up)" >&2
  # Not counted: every pool connection prepares its statements, the page is kept.
  wrk -t "$threads" -c "$connections" -d 2s --timeout 10s "$@" "$BASE$path" >/dev/null
  local before after
  before=$(cpu_counters)
  local TIMEFORMAT='%3U %3S'
  { time wrk --latency -t "$threads" -c "$connections" -d "$DURATION" --timeout 10s "$@" "$BASE$path" \
      >"$WORK/wrk-$name"; } 2>"$WORK/wrk-cpu-$name"
  after=$(cpu_counters)
  sed 's/^/    /' "$WORK/wrk-$name" >&2
  local p50 p99 rps verdict=ok machine
  machine=$(machine_cost "$before" "$after" "$(awk '/requests in/ { print $1 }' "$WORK/wrk-$name")" \
    "$(awk 'END { print $1 + $2 }' "$WORK/wrk-cpu-$name")")
  p50=$(to_ms "$(awk '$1 == "50%" { print $2 }' "$WORK/wrk-$name")")
  p99=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$WORK/wrk-$name")")
  rps=$(awk '/^Requests\/sec/ { print $2 }' "$WORK/wrk-$name")
  LAST_RPS=$rps
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
  REPORT+=("$(printf '%-22s %3s conn  p50 %8s ms (goal %3s)  p99 %8s ms (goal %3s)  %9s req/s  %-6s  (%s)' \
    "$name" "$connections" "$p50" "$p50_target" "$p99" "$p99_target" "$rps" "$verdict" "$machine")")
}

# The tick POST's wrk script: the assessor ticks, then unticks, criteria that carry no
# tick on the item, so every request changes something (and, when it confirms a criterion
# no other item confirms or takes the last confirmation away, marks the enrolment for its
# automatic audit). As in a centre, where each assessor works on their own learner, each
# tick in flight is on a learner of its own: a connection sends its next tick to a
# learner whose last tick has come back (the answer names the enrolment: the form's
# redirect, the in-place row's form), as a person ticks through one item after another.
# (Going round the learners in turn, as this script once did, sent about one tick in six
# to a learner whose tick was still in flight whenever answers came back out of order.)
# On each learner the criteria are taken in turn, each from its own place in the list,
# ticked and then unticked. How many ticks went to a learner with one still in flight
# is printed at the end.
tick_script() { # file, cookie, caseload ("enrolment:item,..."), extra header line (or empty)
  cat >"$1" <<LUA
local all = {}
for c in string.gmatch("${F[free_criteria]}", "[^,]+") do all[#all + 1] = c end
local pairs_ = {}
for p in string.gmatch("$3", "[^,]+") do pairs_[#pairs_ + 1] = p end
local threads = {}
function setup(thread)
  thread:set("part", #threads)
  threads[#threads + 1] = thread
end
function init(args)
  mine, learner_of = {}, {}
  for i, p in ipairs(pairs_) do
    if (i - 1) % ${THREADS} == part then
      local e, item = string.match(p, "([^:]+):([^:]+)")
      mine[#mine + 1] = "/enrolments/" .. e .. "/evidence/" .. item .. "/ticks"
      learner_of[e] = #mine
    end
  end
  -- Learners whose last tick came back, oldest first (free[head..tail]).
  free, head, tail = {}, 1, #mine
  sent, in_flight, crowded, next_any = {}, {}, 0, 0
  for k = 1, #mine do
    free[k], sent[k] = k, 0
  end
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
  wrk.headers["Cookie"] = "$2"
  wrk.headers["Sec-Fetch-Site"] = "same-origin"
  $4
end
function request()
  local k
  if head <= tail then
    k, free[head], head = free[head], nil, head + 1
  else
    -- Only when an answer did not name its learner: then any, in turn.
    next_any = next_any % #mine + 1
    k = next_any
  end
  if in_flight[k] then crowded = crowded + 1 end
  in_flight[k] = true
  local m = sent[k]
  sent[k] = m + 1
  local c = all[(math.floor(m / 2) + (k - 1) * 7) % #all + 1]
  local action = (m % 2 == 0) and "tick" or "untick"
  return wrk.format(nil, mine[k], nil, "criterion=" .. c .. "&action=" .. action)
end
function response(status, headers, body)
  local e = string.match(headers["location"] or headers["Location"] or body, "/enrolments/([0-9a-f%-]+)/")
  local k = e and learner_of[e]
  if k then
    in_flight[k] = false
    tail = tail + 1
    free[tail] = k
  end
end
function done(summary, latency, requests)
  local crowded = 0
  for _, t in ipairs(threads) do crowded = crowded + t:get("crowded") end
  io.stderr:write(string.format("ticks sent to a learner with a tick in flight: %d of %d\n",
    crowded, summary.requests))
end
LUA
}

# A wrk script that asks for each path in turn (one list per thread).
paths_script() { # file, cookie, paths...
  local file=$1 cookie=$2
  shift 2
  {
    echo "local paths = {"
    for p in "$@"; do printf '  "%s",\n' "$p"; done
    echo "}"
    cat <<LUA
local n = 0
function request()
  n = n + 1
  return wrk.format("GET", paths[(n % #paths) + 1], {
    ["Cookie"] = "$cookie",
    ["Accept-Encoding"] = "gzip, deflate, br",
  })
end
LUA
  } >"$file"
}

print_report() { # title
  echo
  echo "$1: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $DURATION each"
  printf '%s\n' "${REPORT[@]}"
}
