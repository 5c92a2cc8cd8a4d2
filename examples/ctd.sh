#!/bin/sh
# Click-to-dial through Junction's FIFO, SER text protocol (the seed's examples/ctd.sh):
# Junction calls CALLER with an on-hold INVITE; once answered it sends REFER (Refer-To: CALLEE),
# then BYE; the caller then calls CALLEE itself.
#
#   examples/ctd.sh [CALLER] [CALLEE]
#   env: JUNCTION_FIFO (default /tmp/junction_fifo), JUNCTION_FIFO_REPLY_DIR (the server's
#        mi.fifo_reply_dir, default /tmp)
set -u
CALLER=${1:-}
CALLEE=${2:-}
FIFO=${JUNCTION_FIFO:-/tmp/junction_fifo}
REPLY_DIR=${JUNCTION_FIFO_REPLY_DIR:-/tmp}

if [ -z "$CALLER" ]; then
  CALLER=sip:113311@192.168.2.16
  echo "caller unspecified -- taking default value $CALLER"
fi
if [ -z "$CALLEE" ]; then
  CALLEE=sip:23@192.168.2.16
  echo "destination unspecified -- taking default value $CALLEE"
fi
# One argument per line in the text protocol: a URI may hold no blank or control character.
for uri in "$CALLER" "$CALLEE"; do
  case "$uri" in
    sip:*|sips:*) ;;
    *) echo "not a SIP URI: $uri" >&2; exit 2 ;;
  esac
  case "$uri" in
    *[[:space:][:cntrl:]]*) echo "bad character in $uri" >&2; exit 2 ;;
  esac
done
[ -p "$FIFO" ] || { echo "no FIFO at $FIFO (is Junction running with mi.fifo?)" >&2; exit 1; }

name="ctd_reply_$$"
reply="$REPLY_DIR/$name"
mkfifo -m 600 "$reply" || exit 1
trap 'rm -f "$reply"' EXIT INT TERM
printf ':ctd:%s\n%s\n%s\n\n' "$name" "$CALLER" "$CALLEE" > "$FIFO"
out=$(cat "$reply")
status=$(printf '%s\n' "$out" | head -n 1)
case "$status" in
  2*)
    printf '%s\n' "$out" | while IFS= read -r line; do
      case "$line" in
        "invite: 2"*) echo "invitation succeeded" ;;
        "refer: 2"*) echo "refer succeeded" ;;
        "bye: 2"*) echo "bye succeeded" ;;
      esac
    done
    exit 0
    ;;
  *)
    echo "click-to-dial failed: $out" >&2
    exit 1
    ;;
esac
