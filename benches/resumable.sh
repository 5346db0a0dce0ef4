#!/usr/bin/env bash
# A big video sent as a resumable upload (issue 15, point 4) over loopback: the release
# server with the benchmark centre; the learner creates an upload of UPLOAD_MB (500),
# sends it in pieces of UPLOAD_PIECE_MB (50), and the connection of one piece is cut
# half-way (curl gives up after a second at a throttled rate). The script asks where the
# upload stands and sends only the rest, then names the upload in the evidence form.
# Reports: time and rate, bytes sent in all against the file's size (what was sent
# twice), and the server's peak memory while receiving against its memory before.
#
# With UPLOAD_STORAGE=s3 the server keeps files in a bucket of moto's S3 server (as the
# tests do, from target/moto): the form then sends the file to the bucket in parts, and
# the report adds how long that took and the server's peak memory while it did.
#
#   benches/resumable.sh
#   UPLOAD_MB=100 UPLOAD_PIECE_MB=10 benches/resumable.sh
#   UPLOAD_STORAGE=s3 UPLOAD_MB=1000 benches/resumable.sh
set -euo pipefail
cd "$(dirname "$0")/.."

SIZE_MB=${UPLOAD_MB:-500}
PIECE_MB=${UPLOAD_PIECE_MB:-50}
DURATION=1s CONNECTIONS=1 THREADS=1 ONLY=
. benches/lib.sh
bench_setup

echo "Loading the benchmark centre..." >&2
# The limit for a video: the file must fit.
export ATTEST_MAX_MEDIA_MB=$((SIZE_MB + 10))
ATTEST_DATA_DIR="$WORK/data" "$BIN" bench-fixture >"$WORK/fixture"
read_fixture "$WORK/fixture"
MOTO=
if [ "${UPLOAD_STORAGE:-local}" = s3 ]; then
  MOTO_BIN=${ATTEST_MOTO_SERVER:-target/moto/bin/moto_server}
  [ -x "$MOTO_BIN" ] || { echo "$MOTO_BIN is missing: scripts/test installs it" >&2; exit 1; }
  MOTO_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  "$MOTO_BIN" -H 127.0.0.1 -p "$MOTO_PORT" >"$WORK/moto.log" 2>&1 &
  MOTO=$!
  trap 'kill "$MOTO" 2>/dev/null || true; bench_stop' EXIT
  for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$MOTO_PORT/" && break; sleep 0.1; done
  export ATTEST_STORAGE="s3://bench?endpoint=http://127.0.0.1:$MOTO_PORT&region=eu-west-2"
  export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench
fi
serve "$WORK/data"
COOKIE=$(sign_in "${F[learner]}")
[ -n "$COOKIE" ] || { echo "signing in failed" >&2; exit 1; }
ENROLMENT=${F[enrolment]}

FILE=$WORK/video.mp4
{ printf '\0\0\0\030ftypmp42\0\0\0\0mp42isom'; head -c $((SIZE_MB * 1024 * 1024 - 24)) /dev/urandom; } >"$FILE"
SIZE=$(stat -c %s "$FILE")
PIECE=$((PIECE_MB * 1024 * 1024))
TUS=(-H 'Tus-Resumable: 1.0.0' -H "Cookie: $COOKIE" -H 'Sec-Fetch-Site: same-origin')

kb() { awk -v k="^$1:" '$0 ~ k { print $2 }' "/proc/$SERVER/status"; }
# The server's memory before, and its peak from here on (writing 5 resets the peak).
BEFORE=$(kb VmRSS)
echo 5 >"/proc/$SERVER/clear_refs" 2>/dev/null || echo "(peak memory not resettable: it includes start-up)" >&2

AT=$(curl -sS -o /dev/null -D - -X POST "${TUS[@]}" -H "Upload-Length: $SIZE" \
  -H "Upload-Metadata: filename $(printf 'site visit.mp4' | base64)" "$BASE/enrolments/$ENROLMENT/uploads" |
  tr -d '\r' | sed -n 's/^[Ll]ocation: //p')
[ -n "$AT" ] || { echo "the upload was not created" >&2; exit 1; }

offset() { curl -sS -o /dev/null -D - -I "${TUS[@]}" "$BASE$AT" | tr -d '\r' | sed -n 's/^[Uu]pload-[Oo]ffset: //p'; }
piece() { # offset, length, extra curl arguments → bytes curl sent
  tail -c +$(($1 + 1)) "$FILE" | head -c "$2" |
    curl -sS -o /dev/null -w '%{size_upload}' -X PATCH "${TUS[@]}" -H "Upload-Offset: $1" \
      -H 'Content-Type: application/offset+octet-stream' -H "Content-Length: $2" \
      --data-binary @- "${@:3}" "$BASE$AT" || true
}

SENT=0
CUT_AT=$((SIZE / 2 / PIECE * PIECE))
STARTED=$(date +%s.%N)
at=0
while [ "$at" -lt "$SIZE" ]; do
  len=$((SIZE - at < PIECE ? SIZE - at : PIECE))
  if [ "$at" -eq "$CUT_AT" ] && [ -z "${CUT:-}" ]; then
    CUT=1
    # The signal goes half-way through this piece.
    sent=$(piece "$at" "$len" --limit-rate $((len / 2)) --max-time 1)
  else
    sent=$(piece "$at" "$len")
  fi
  SENT=$((SENT + ${sent:-0}))
  at=$(offset)
  [ -n "${CUT:-}" ] && [ -z "${STOOD:-}" ] && STOOD=$at && echo "  cut: the upload stood at $at of $SIZE bytes" >&2
done
ENDED=$(date +%s.%N)
PEAK=$(kb VmHWM)

ID=${AT##*/}
echo 5 >"/proc/$SERVER/clear_refs" 2>/dev/null || true
FORM_STARTED=$(date +%s.%N)
NAME=$(curl -sS -H "Cookie: $COOKIE" "$BASE/" | sed -n 's/.*<h1>Welcome, \([^<]*\)<\/h1>.*/\1/p' | head -1)
CODE=$(curl -sS -o /dev/null -w '%{http_code}' -H "Cookie: $COOKIE" -H 'Sec-Fetch-Site: same-origin' \
  -F title="Site visit, filmed" -F kind=photo -F declared=yes -F "signed_name=$NAME" \
  -F upload="$ID" -F client_key="$(cat /proc/sys/kernel/random/uuid)" "$BASE/enrolments/$ENROLMENT/evidence")

FORM_ENDED=$(date +%s.%N)
FORM_PEAK=$(kb VmHWM)
SECONDS_TAKEN=$(awk -v a="$STARTED" -v b="$ENDED" 'BEGIN { printf "%.2f", b - a }')
echo
echo "resumable upload: ${SIZE_MB} MB in ${PIECE_MB} MB pieces, one cut half-way"
echo "  time                 ${SECONDS_TAKEN} s ($(awk -v s="$SIZE" -v t="$SECONDS_TAKEN" 'BEGIN { printf "%.0f", s / 1048576 / t }') MB/s, the last piece's content check and digest included)"
echo "  bytes sent           $SENT for a file of $SIZE: $((SENT - SIZE)) sent twice"
echo "  server memory        $((BEFORE / 1024)) MB before, peak $((PEAK / 1024)) MB while receiving"
echo "  evidence form        answered $CODE (303: the item holds the upload) in $(awk -v a="$FORM_STARTED" -v b="$FORM_ENDED" 'BEGIN { printf "%.2f", b - a }') s, the file kept in ${UPLOAD_STORAGE:-local} storage; server peak $((FORM_PEAK / 1024)) MB meanwhile"
