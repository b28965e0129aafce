#!/bin/sh
# Run each libFuzzer target for a short time on its seed corpus (`make fuzz-smoke` in a build
# configured with --enable-fuzz). One process per target, one after the other; new inputs go to
# a scratch directory that is removed afterwards, so the tree's corpora are never changed.
#
# Usage: fuzz-smoke.sh SRCDIR TARGET...   (targets as paths: test/fuzz/fuzz_<name>)
# Environment: FUZZ_SECONDS (per target, default 10), FUZZ_SMOKE_ONLY (names to run, e.g.
# "rpc args"; default all), FUZZ_SMOKE_ARGS (extra libFuzzer options).
#
# Exits 1 when a target crashes, leaks, times out or runs out of memory; its input is kept as
# fuzz-artifacts/<name>-crash-<sha1> (or leak-, timeout-, oom-) and the end of its log printed.
set -u
srcdir="$1"
shift
seconds="${FUZZ_SECONDS:-10}"
only="${FUZZ_SMOKE_ONLY:-}"
scratch=$(mktemp -d "${TMPDIR:-/tmp}/p2pd-fuzz-smoke-XXXXXX") || exit 1
trap 'rm -rf "$scratch"' EXIT
mkdir -p fuzz-artifacts
failed=""
total_start=$(date +%s)

for target in "$@"; do
	name=$(basename "$target")
	name=${name#fuzz_}
	if [ -n "$only" ] && ! echo " $only " | grep -q " $name "; then
		continue
	fi
	corpus="$srcdir/test/fuzz/corpus/$name"
	dict="$srcdir/test/fuzz/dict/$name.dict"
	mkdir -p "$scratch/$name"
	set -- -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="fuzz-artifacts/$name-"
	[ -f "$dict" ] && set -- "$@" -dict="$dict"
	# shellcheck disable=SC2086
	"$target" "$@" ${FUZZ_SMOKE_ARGS:-} "$scratch/$name" "$corpus" >"$scratch/$name.log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$scratch/$name.log")
	cov=$(grep -E '^#[0-9]+.*(DONE|pulse|NEW|REDUCE|INITED)' "$scratch/$name.log" | tail -1 |
		sed -n 's/.*cov: \([0-9]*\) ft: \([0-9]*\).*/cov: \1 ft: \2/p')
	if [ $rc -eq 0 ]; then
		echo "fuzz-smoke: $name: ok (${seconds}s, ${runs:-?} runs, ${cov:-no coverage line})"
	else
		echo "fuzz-smoke: $name: FAILED (exit $rc); last lines of its log:"
		tail -40 "$scratch/$name.log" | sed 's/^/  /'
		failed="$failed $name"
	fi
done

echo "fuzz-smoke: done in $(($(date +%s) - total_start))s"
rmdir fuzz-artifacts 2>/dev/null
if [ -n "$failed" ]; then
	echo "fuzz-smoke: FAILED:$failed (inputs in fuzz-artifacts/; replay one with" \
		"./test/fuzz/fuzz_<name> <file>, fix, then add it to test/fuzz/corpus/<name>/)"
	exit 1
fi
exit 0
