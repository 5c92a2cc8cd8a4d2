#!/bin/sh
# exec_dset helper of call_forwarding.ts: $1 is the Request-URI; prints the forwarding targets of
# its user from the table (`user uri [uri ...]` per line), one per line. No entry: exit 1.
table=${FORWARDS:-$(dirname "$0")/forwards.txt}
user=${1#*:}
user=${user%%@*}
targets=$(awk -v u="$user" '$1 == u { for (i = 2; i <= NF; i++) print $i; found = 1 } END { exit !found }' "$table") || exit 1
printf '%s\n' "$targets"
