#!/bin/sh
# compare.sh: the load test against two messengerd binaries, alternating
# (base, new, base, new, ...) in one run on the same machine, with one
# load tool binary. Prints one JSON report line per run, prefixed by the
# binary's label.
#
#   sh messengerd/loadtest/compare.sh LOADTEST DATA CLIENTS REPEATS base=/tmp/a/messengerd new=/tmp/b/messengerd [-- loadtest flags]
#
# DATA holds the accounts (loadtest -create -data DATA -clients N); each
# run works on a fresh copy of it.
set -eu
lt=$1 data=$2 clients=$3 reps=$4
shift 4
bins=""
while [ $# -gt 0 ] && [ "$1" != "--" ]; do bins="$bins $1"; shift; done
[ "${1:-}" = "--" ] && shift
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
i=0
while [ $i -lt "$reps" ]; do
	for lb in $bins; do
		label=${lb%%=*} bin=${lb#*=}
		rm -rf "$work/data" "$work/ready" && cp -r "$data" "$work/data"
		"$bin" serve -data "$work/data" -addr 127.0.0.1:0 -https 127.0.0.1:0 >"$work/ready" 2>"$work/log" &
		pid=$!
		n=0
		while [ ! -s "$work/ready" ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
		addr=$(sed 's/.*"addr":"\([^"]*\)".*/\1/' "$work/ready")
		nexus=$(sed 's/.*"nexus":"\([^"]*\)".*/\1/' "$work/ready")
		out=$("$lt" -addr "$addr" -nexus "$nexus" -ca "$work/data/ca.pem" -pid $pid -clients "$clients" "$@" 2>"$work/lt.err") || cat "$work/lt.err" >&2
		echo "$label $out"
		kill $pid
		wait $pid || true
	done
	i=$((i + 1))
done
