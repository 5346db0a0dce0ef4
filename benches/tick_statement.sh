#!/usr/bin/env bash
# The tick statement alone (`db::ticks::change_logged_many`, as the app prepares it), on
# a loaded centre: pgbench on one connection sends batches of six changes (TICK_BATCH),
# as the tick writer does under load (half the learners' ticks added and the others'
# removed, then the other way round), each with its in-place answer. Its latency is the database's
# share of a tick without HTTP, the server or the host's other work, so a change to the
# statement or its triggers can be judged on a day when wrk's p99 is too noisy to.
#
#   TICK_DATA=/work/bench/g100k benches/tick_statement.sh   # a folder reports.sh loaded
#   TICK_ROUNDS=5 TICK_SECONDS=6 TICK_BATCH=6 ...            # the defaults
set -euo pipefail
cd "$(dirname "$0")/.."

DATA=${TICK_DATA:?TICK_DATA names a loaded folder (see benches/reports.sh)}
ROUNDS=${TICK_ROUNDS:-5}
SECONDS_EACH=${TICK_SECONDS:-6}
BATCH=${TICK_BATCH:-6}
DURATION=1s
CONNECTIONS=1
THREADS=1
ONLY=

. benches/lib.sh
bench_setup
need python3 python3
PGBENCH=${PGBENCH:-/usr/lib/postgresql/15/bin/pgbench}

read_fixture "$DATA/fixture"
trap bench_stop EXIT
# The server runs the migrations and keeps the cluster up; it is idle meanwhile.
serve "$DATA/data"
SOCKET=$DATA/data/postgres

python3 - "$DATA/fixture" "$SOCKET" "$WORK/batch.sql" "$BATCH" <<'PY'
import glob, json, subprocess, sys
fixture, socket, out, size = sys.argv[1:]
size = int(size)
F = dict(l.rstrip("\n").split("=", 1) for l in open(fixture) if "=" in l)
# One item of each of `size` learners (a batch never holds two changes of one learner).
pairs = list({e: (e, i) for e, i in (p.split(":") for p in F["caseload"].split(","))}.values())
assert len(pairs) >= size, f"the fixture's caseload has {len(pairs)} learners"
pairs = pairs[:size]
criterion = F["free_criteria"].split(",")[-1]
def query(sql):
    return subprocess.run(["psql", "-h", socket, "-U", "attest", "-d", "attest", "-Atc", sql],
                          check=True, capture_output=True, text=True).stdout.strip()
statement = next(json.load(open(f))["query"] for f in sorted(glob.glob(".sqlx/query-*.json"))
                 if "WITH req AS (SELECT * FROM UNNEST($1::uuid[]" in json.load(open(f))["query"])
enrolments = [e for e, _ in pairs]
rows = dict(r.split("|", 1) for r in query(
    "SELECT id || '|' || status || '|' || assessor_id FROM enrolments WHERE id IN ("
    + ",".join(f"'{e}'" for e in enrolments) + ")").splitlines())
def array(xs, kind):
    return "ARRAY[" + ",".join(f"'{x}'" for x in xs) + f"]::{kind}[]"
def batch(adding):
    args = [array(enrolments, "uuid"), array([rows[e].split("|")[0] for e in enrolments], "text"),
            array([i for _, i in pairs], "uuid"), array([criterion] * size, "uuid"),
            array(["assessor"] * size, "text"), array([rows[e].split("|")[1] for e in enrolments], "uuid"),
            "ARRAY[" + ",".join("true" if a else "false" for a in adding) + "]",
            array(["{}"] * size, "jsonb"), "ARRAY[" + ",".join(["true"] * size) + "]"]
    # No vouch (a tick after a fresh read): a remembered read's revision would not
    # survive the batch that follows it here.
    args += ["ARRAY[" + ",".join(["NULL"] * size) + f"]::{kind}[]"
             for kind in ("text", "int4", "text", "text", "int8")]
    s = statement
    for n in range(len(args), 0, -1):
        s = s.replace(f"${n}", args[n - 1])
    return " ".join(s.split()) + ";\n"
half = [True] * (size // 2) + [False] * (size - size // 2)
open(out, "w").write(batch(half) + batch([not a for a in half]))
PY

echo "tick statement, batches of $BATCH changes, 1 connection, $ROUNDS rounds of ${SECONDS_EACH}s:" >&2
for _ in $(seq "$ROUNDS"); do
  "$PGBENCH" -h "$SOCKET" -U attest -n -M prepared -f "$WORK/batch.sql" -T "$SECONDS_EACH" attest 2>&1 |
    awk '/latency average/ { printf "  %.3f ms a batch\n", $4 / 2 }'
done
