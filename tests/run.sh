#!/usr/bin/env bash
# The test runner behind `make test`: unit tests (cmocka), fuzz targets
# (libFuzzer, briefly) and system tests (real images in Bochs and QEMU).
# It ends with one line: "N passed, N failed".
#
#   tests/run.sh                  everything
#   tests/run.sh unit|fuzz|system one group
#   TEST_FILTER=regex             only system test scripts whose name matches
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

run_system() {
    local s line
    for s in tests/system/*.sh; do
        [ -f "$s" ] || continue
        if [ -n "${TEST_FILTER:-}" ] && ! [[ $(basename "$s") =~ $TEST_FILTER ]]; then
            continue
        fi
        echo "== $(basename "$s")"
        while IFS= read -r line; do
            echo "$line"
            case $line in
                "PASS: "*) record pass "${line#PASS: }" ;;
                "FAIL: "*) record fail "${line#FAIL: }" ;;
                "SKIP: "*) SKIPPED=$((SKIPPED + 1)) ;;
            esac
        done < <(bash "$s" 2>&1)
    done
}

case $GROUP in
    unit) run_unit ;;
    fuzz) run_fuzz ;;
    system) run_system ;;
    all) run_unit; run_fuzz; run_system ;;
    *) echo "usage: tests/run.sh [unit|fuzz|system]"; exit 2 ;;
esac

if [ ${#FAILURES[@]} -gt 0 ]; then
    echo "failed:"
    printf '  %s\n' "${FAILURES[@]}"
fi
echo "$PASSED passed, $FAILED failed, $SKIPPED skipped"
[ "$FAILED" -eq 0 ]
