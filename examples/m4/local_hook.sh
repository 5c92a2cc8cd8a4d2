#!/bin/sh
# An M4 external script run as a local program (one process per call): the request is one JSON
# line on stdin, the answer one JSON line on stdout — nothing else may go to stdout.
#
#   connection_points: [{ ..., external_script: /path/to/examples/m4/local_hook.sh }]
#
# Policy of this example: calls to 0900… premium numbers are rejected; calls to national numbers
# starting 0 get the country code 370 instead of the 0; the source gets a "+" prefix.
# The caller's numbers are only compared with case patterns, never run or evaluated.
IFS= read -r line || exit 1
dst=$(printf '%s' "$line" | sed -n 's/.*"dst":"\([0-9A-Za-z+*#._-]*\)".*/\1/p')
case "$dst" in
  0900*) printf '%s\n' '{"status_code":1,"message":"premium numbers are blocked","reject_call":1}' ;;
  0*) printf '{"status_code":0,"message":"success","new_dst":"370%s","src_prefix":"+"}\n' "${dst#0}" ;;
  *) printf '%s\n' '{"status_code":0,"message":"unchanged","src_prefix":"+"}' ;;
esac
