#!/usr/bin/env bash
# The test runner behind `make test`: unit tests (cmocka), fuzz targets
# (libFuzzer, briefly) and system tests (real images in Bochs and QEMU).
# It ends with one line: "N passed, N failed".
#
#   tests/run.sh                  everything
#   tests/run.sh unit|fuzz|system one group (system starts with the selftest)
#   tests/run.sh selftest         only the runner's own check (run_selftest)
#                                 and the mutation list's (run_mutation_list)
#   TEST_FILTER=regex             only system test scripts whose name matches
#
# A system-test script counts as one more failure if it exits non-zero,
# prints no PASS/FAIL/SKIP line, or ends without its "END: <script>" line
# (tests/system/lib.sh's end_of_script): it died before it said what it
# had to.
set -u
cd "$(dirname "$0")/.."
ROOT=$(pwd)
"$ROOT/tools/install-deps.sh" --check-or-install || exit 2

PASSED=0
FAILED=0
SKIPPED=0
FAILURES=()
GROUP=${1:-all}
OUT=$ROOT/build/test-output
mkdir -p "$OUT"

record() {   # record pass|fail NAME
    if [ "$1" = pass ]; then
        PASSED=$((PASSED + 1))
    else
        FAILED=$((FAILED + 1))
        FAILURES+=("$2")
    fi
}

run_unit() {
    make -s unit || { record fail "build unit tests"; return; }
    local t log p f
    for t in build/tests/unit/test_*; do
        [ -x "$t" ] || continue
        log=$OUT/$(basename "$t").log
        "$t" >"$log" 2>&1
        local rc=$?
        cat "$log"
        p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
        f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
        PASSED=$((PASSED + ${p:-0}))
        FAILED=$((FAILED + ${f:-0}))
        if [ -z "$p$f" ] || { [ $rc -ne 0 ] && [ -z "$f" ]; }; then
            record fail "$(basename "$t") (crashed, exit $rc)"
        fi
        [ -n "$f" ] && [ "$f" -gt 0 ] && FAILURES+=("$(basename "$t")")
    done
}

run_fuzz() {
    make -s fuzz || { record fail "build fuzz targets"; return; }
    local t name log corpus
    for t in build/tests/fuzz/fuzz_*; do
        [ -x "$t" ] || continue
        name=$(basename "$t")
        log=$OUT/$name.log
        corpus=$OUT/corpus-$name
        mkdir -p "$corpus"
        [ -d "tests/fuzz/corpus/${name#fuzz_}" ] && cp -n tests/fuzz/corpus/"${name#fuzz_}"/* "$corpus/" 2>/dev/null
        if "$t" -max_total_time="${FUZZ_SECONDS:-8}" -timeout=5 -rss_limit_mb=2048 \
                -artifact_prefix="$OUT/$name-" "$corpus" >"$log" 2>&1; then
            echo "PASS: $name ($(grep -o 'Done [0-9]* runs' "$log" | tail -1))"
            record pass "$name"
        else
            echo "FAIL: $name"; tail -30 "$log"
            record fail "$name"
        fi
    done
}

# run_script SCRIPT: runs one system-test script, echoes and counts its
# PASS/FAIL/SKIP lines, and records a failure "<script> died (exit N) after
# K results" when it exits non-zero, when it never printed its own
# "END: <script>" line (it stopped half-way, even with exit 0), or when it
# exits with no result at all (unless CASE_FILTER may have left it nothing
# to run).
run_script() {
    local s=$1 name line rc rc_file results=0 ended=0
    name=$(basename "$s")
    rc_file=$(mktemp "${TMPDIR:-/tmp}/mayfly-rc.XXXXXX")
    echo "== $name"
    # The exit status is written before the substitution closes its end of
    # the pipe, so it is there once the loop has read everything.
    while IFS= read -r line; do
        echo "$line"
        case $line in
            "PASS: "*) record pass "${line#PASS: }"; results=$((results + 1)) ;;
            "FAIL: "*) record fail "${line#FAIL: }"; results=$((results + 1)) ;;
            "SKIP: "*) SKIPPED=$((SKIPPED + 1)); results=$((results + 1)) ;;
            "END: $name") ended=1 ;;
        esac
    done < <(bash "$s" 2>&1; echo "$?" >"$rc_file")
    rc=$(cat "$rc_file")
    rm -f "$rc_file"
    if [ "${rc:-?}" != 0 ] || [ "$ended" = 0 ] ||
       { [ "$results" -eq 0 ] && [ -z "${CASE_FILTER:-}" ]; }; then
        echo "FAIL: $name died (exit ${rc:-?}) after $results results"
        record fail "$name died (exit ${rc:-?}) after $results results"
    fi
}

run_system() {
    local s
    for s in tests/system/*.sh; do
        [ -f "$s" ] || continue
        [ "$(basename "$s")" = lib.sh ] && continue     # sourced by the others
        if [ -n "${TEST_FILTER:-}" ] && ! [[ $(basename "$s") =~ $TEST_FILTER ]]; then
            continue
        fi
        run_script "$s"
    done
}

# run_selftest: run_script on throwaway scripts that pass, die half-way,
# crash, say nothing, exit 0 half-way, and run a nested script that exits
# 0 half-way; the counts must show every death. Recorded as one result,
# runner_counts_dead_scripts.
run_selftest() {
    local s dir saved_p=$PASSED saved_f=$FAILED saved_s=$SKIPPED why= lib
    local saved_failures=("${FAILURES[@]}")
    dir=$(mktemp -d "${TMPDIR:-/tmp}/mayfly-selftest.XXXXXX")
    lib="source '$ROOT/tests/system/lib.sh'"
    printf '%s\necho "PASS: one"\necho "SKIP: two: not here"\nend_of_script\n' "$lib" >"$dir/a_fine.sh"
    printf 'echo "PASS: one"\necho "PASS: two"\nexit 3\n' >"$dir/b_dies.sh"
    printf 'echo "PASS: one"\nkill -SEGV $$\necho "PASS: never"\n' >"$dir/c_crashes.sh"
    printf 'echo "starting"\n' >"$dir/d_silent.sh"
    printf '%s\necho "FAIL: one: broken"\nend_of_script\n' "$lib" >"$dir/e_fails.sh"
    printf '%s\necho "PASS: one"\nexit 0\necho "PASS: never"\nend_of_script\n' "$lib" >"$dir/f_stops.sh"
    printf '%s\nbash "$(dirname "$0")/inner.sub" | nested_results in_ inner.sub\nend_of_script\n' \
        "$lib" >"$dir/g_nested.sh"
    cp "$dir/f_stops.sh" "$dir/inner.sub"
    PASSED=0 FAILED=0 SKIPPED=0 FAILURES=()
    for s in "$dir"/*.sh; do
        CASE_FILTER= run_script "$s"
    done >"$dir/log" 2>&1
    [ "$PASSED" -eq 6 ] || why="$why passed $PASSED, expected 6;"
    [ "$FAILED" -eq 6 ] || why="$why failed $FAILED, expected 6;"
    [ "$SKIPPED" -eq 1 ] || why="$why skipped $SKIPPED, expected 1;"
    for want in "b_dies.sh died (exit 3) after 2 results" \
                "c_crashes.sh died (exit 139) after 1 results" \
                "d_silent.sh died (exit 0) after 0 results" "one: broken" \
                "f_stops.sh died (exit 0) after 1 results" \
                "in_inner.sub died before its end (no 'END: inner.sub' line)"; do
        printf '%s\n' "${FAILURES[@]}" | grep -qxF "$want" || why="$why no failure '$want';"
    done
    printf '%s\n' "${FAILURES[@]}" | grep -q "a_fine\|e_fails\|g_nested" &&
        why="$why a script that ended well counted as dead;"
    PASSED=$saved_p FAILED=$saved_f SKIPPED=$saved_s FAILURES=("${saved_failures[@]}")
    if [ -z "$why" ]; then
        echo "PASS: runner_counts_dead_scripts"
        record pass runner_counts_dead_scripts
    else
        echo "FAIL: runner_counts_dead_scripts:$why"
        sed 's/^/    /' "$dir/log"
        record fail runner_counts_dead_scripts
    fi
    rm -rf "$dir"
}

# run_mutation_list: every entry of tests/mutate/mutations.list still
# applies to this tree (tests/mutate/run.sh --check: its snippet found
# exactly once, its tests there), so a refactor cannot leave the list
# behind until the next full make mutate. One result,
# mutation_list_applies.
run_mutation_list() {
    local log=$OUT/mutation-list.log
    if tests/mutate/run.sh --check >"$log" 2>&1; then
        echo "PASS: mutation_list_applies ($(tail -1 "$log" | sed 's/^mutate: list check: //'))"
        record pass mutation_list_applies
    else
        echo "FAIL: mutation_list_applies:"
        sed 's/^/    /' "$log"
        record fail mutation_list_applies
    fi
}

case $GROUP in
    unit) run_unit; run_mutation_list ;;
    fuzz) run_fuzz ;;
    system) run_selftest; run_system ;;
    selftest) run_selftest; run_mutation_list ;;
    all) run_unit; run_mutation_list; run_fuzz; run_selftest; run_system ;;
    *) echo "usage: tests/run.sh [unit|fuzz|system|selftest]"; exit 2 ;;
esac

if [ ${#FAILURES[@]} -gt 0 ]; then
    echo "failed:"
    printf '  %s\n' "${FAILURES[@]}"
fi
echo "$PASSED passed, $FAILED failed, $SKIPPED skipped"
[ "$FAILED" -eq 0 ]
