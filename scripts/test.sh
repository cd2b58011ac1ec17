#!/usr/bin/env bash
# README command #2: build, install and run every test suite against the local cluster.
# Every step runs even when an earlier one failed (unless it needs what failed); a summary
# follows, and the exit status is non-zero when anything failed.
#
#   CI_FAST=1        skip the fuzzers
#   FUZZ_SECONDS=N   seconds per fuzz target (default 15)
#   FLOWENT_PGPORT   cluster port (default 54329)
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1

SUMMARY=()
FAILED=0
SKIP_REASON=""
T0=$(date +%s)

# step NAME FUNCTION: run it, record PASS / FAIL / SKIP (the function returns 77 and sets SKIP_REASON).
step() {
	local name=$1 fn=$2 t rc
	echo
	echo "======== $name"
	t=$(date +%s)
	SKIP_REASON=""
	"$fn"
	rc=$?
	t=$(($(date +%s) - t))
	if [ $rc -eq 0 ]; then
		SUMMARY+=("PASS  $name (${t}s)")
	elif [ $rc -eq 77 ]; then
		SUMMARY+=("SKIP  $name: $SKIP_REASON")
		echo "######## SKIPPED $name: $SKIP_REASON"
	else
		SUMMARY+=("FAIL  $name (exit $rc, ${t}s)")
		echo "######## FAILED $name (exit $rc)"
		FAILED=1
	fi
}

skip() { SKIP_REASON=$1; return 77; }

# Loud, because an empty directory must not pass for a green run.
no_tests() {
	echo "!!!!!!!! no tests in $1"
	skip "no tests in $1"
}

BUILD_OK=0
CLUSTER_OK=0

do_deps() { bash scripts/install-deps.sh; }

do_build() {
	make -j"$(nproc)" && make install && make gateway || return 1
	BUILD_OK=1
}

do_cluster() {
	[ $BUILD_OK -eq 1 ] || skip "the build failed: not testing a stale flowent.so" || return
	bash scripts/cluster.sh start || return 1
	eval "$(bash scripts/cluster.sh env)"
	# Tests get PGHOST/PGPORT/PGUSER; each one names its own database.
	export PGHOST PGPORT PGUSER
	unset PGDATABASE
	CLUSTER_OK=1
}

do_unit() {
	compgen -G 'test/unit/test_*.c' >/dev/null || no_tests test/unit || return
	make unit && make gateway-unit UNIT_SANITIZE="-fsanitize=address,undefined -fno-sanitize-recover=all" -B
}

need_cluster() {
	[ $CLUSTER_OK -eq 1 ] || skip "no cluster (build or start failed)"
}

do_regress() {
	compgen -G 'test/sql/*.sql' >/dev/null || no_tests test/sql || return
	need_cluster || return
	if ! timeout 1200 make installcheck; then
		[ -f regression.diffs ] && cat regression.diffs
		return 1
	fi
}

do_pgtap() {
	[ -n "$(find test/pgtap -name '*.sql' 2>/dev/null)" ] || no_tests test/pgtap || return
	need_cluster || return
	psql -X -q -v ON_ERROR_STOP=1 -d postgres -c 'SET client_min_messages = warning' \
		-c 'DROP DATABASE IF EXISTS flowent_test WITH (FORCE)' \
		-c 'CREATE DATABASE flowent_test' || return 1
	psql -X -q -v ON_ERROR_STOP=1 -d flowent_test \
		-c 'CREATE EXTENSION pgtap' -c 'CREATE EXTENSION flowent' || return 1
	# --ext .sql matters: without it pg_prove finds nothing and reports success.
	timeout 1200 pg_prove -d flowent_test --ext .sql -r test/pgtap/
}

do_scripts() {
	local s any=0 bad=0 rc
	need_cluster || return
	for s in test/scripts/*.sh; do
		[ -e "$s" ] || continue
		if [ ! -x "$s" ]; then
			# a test nobody runs passes nothing: fail, so it is noticed
			echo "!!!!!!!! $s is not executable (chmod +x it)"
			SUMMARY+=("FAIL  script $s: not executable")
			bad=1
			continue
		fi
		any=1
		echo "-------- $s"
		timeout 600 "./$s"
		rc=$?
		[ $rc -ne 124 ] || echo "######## $s timed out after 600 s"
		if [ $rc -eq 0 ]; then
			SUMMARY+=("PASS  script $s")
		else
			SUMMARY+=("FAIL  script $s (exit $rc)")
			bad=1
		fi
	done
	[ $any -eq 1 ] || no_tests test/scripts || return
	return $bad
}

do_fuzz() {
	local before after
	[ -z "${CI_FAST:-}" ] || skip "CI_FAST is set" || return
	compgen -G 'test/fuzz/fuzz_*.c' >/dev/null || no_tests test/fuzz || return
	# A crash leaves crash-/leak-/timeout-/oom- files in the working directory: count new ones too,
	# in case the fuzzer's exit status gets lost in a pipe.
	before=$(find . -maxdepth 1 \( -name "crash-*" -o -name "leak-*" -o -name "timeout-*" -o -name "oom-*" \) | sort)
	make fuzz gateway-fuzz FUZZ_SECONDS="${FUZZ_SECONDS:-15}" || return 1
	after=$(find . -maxdepth 1 \( -name "crash-*" -o -name "leak-*" -o -name "timeout-*" -o -name "oom-*" \) | sort)
	if [ "$before" != "$after" ]; then
		echo "fuzzer artifacts appeared:"
		comm -13 <(echo "$before") <(echo "$after")
		return 1
	fi
}

step "install dependencies" do_deps
step "build and install (make && make install)" do_build
step "cluster start" do_cluster
step "C unit tests (make unit, make gateway-unit)" do_unit
step "pg_regress (make installcheck)" do_regress
step "pgTAP (pg_prove test/pgtap)" do_pgtap
step "cluster scripts (test/scripts)" do_scripts
step "fuzzers (make fuzz gateway-fuzz)" do_fuzz

echo
echo "======== summary ($(($(date +%s) - T0))s)"
printf '%s\n' "${SUMMARY[@]}"
if [ $FAILED -ne 0 ]; then
	echo "RESULT: FAILED"
	exit 1
fi
echo "RESULT: OK"
