#!/usr/bin/env bash
# The long fuzzing run behind `make fuzz-long` (issue 16): every libFuzzer
# target of tests/unit.mk for a fixed number of executions, the grown
# corpus minimised back into tests/fuzz/corpus/<target>, and clang
# source-based coverage of the code under test printed per target.
#
#   tests/fuzz/long.sh                  10,000,000 executions per target
#   FUZZ_EXECS=N tests/fuzz/long.sh     N executions per target
#   FUZZ_SECONDS=S tests/fuzz/long.sh   at most S seconds per target (with
#                                       FUZZ_EXECS too: whichever comes first)
#   FUZZ_ONLY="madt tcp"                only these targets
#   FUZZ_JOBS=2                         two libFuzzer processes per target,
#                                       sharing its corpus (N/2 runs each)
#   FUZZ_MAX_LEN=N                      inputs of at most N bytes (default
#                                       4096, libFuzzer's own default; without
#                                       it a seed larger than that raises the
#                                       limit, as fuzz_control's 17 KiB
#                                       upload of hello.elf would, to a third
#                                       of the speed; such seeds are still
#                                       replayed whole for coverage)
#   BUILD=build-x                       build folder (default build)
#
# libFuzzer never writes into the tree: each target fuzzes a scratch copy
# under $BUILD/fuzz-long/<target>/, and only the minimised result is
# copied back, so `git status` shows what grew. Seeds with names of our
# own (not libFuzzer's 40-hex-digit ones) are always kept as they are.
# Exits 1 when a target crashed (the artifact is named) or a step failed.
set -u
cd "$(dirname "$0")/../.."

BUILD=${BUILD:-build}
MAKE=${MAKE:-make}
JOBS=${FUZZ_JOBS:-1}
MAX_LEN=${FUZZ_MAX_LEN:-4096}
if [ -n "${FUZZ_SECONDS:-}" ] && [ -z "${FUZZ_EXECS:-}" ]; then
    EXECS=-1
else
    EXECS=${FUZZ_EXECS:-10000000}
fi
SCRATCH=$BUILD/fuzz-long
FAILED=()
SUMMARY=()

# llvm_tool NAME: the llvm tool NAME matching the installed clang's major
# version (llvm-cov-14 for clang 14), else plain NAME; empty if neither.
llvm_tool() {
    local major
    major=$(clang --version 2>/dev/null | sed -n 's/.*clang version \([0-9]*\).*/\1/p' | head -1)
    command -v "$1-$major" 2>/dev/null || command -v "$1" 2>/dev/null
}

PROFDATA=$(llvm_tool llvm-profdata)
LLVMCOV=$(llvm_tool llvm-cov)
if [ -z "$PROFDATA" ] || [ -z "$LLVMCOV" ]; then
    echo "fuzz-long: llvm-profdata/llvm-cov not found; install the Debian package llvm-14" \
         "(or llvm-<N> for clang <N>)" >&2
    exit 1
fi

# The targets and the sources each links, from tests/unit.mk.
mapfile -t TARGET_LINES < <("$MAKE" -s --no-print-directory BUILD="$BUILD" fuzz-cov-list)
if [ ${#TARGET_LINES[@]} -eq 0 ]; then
    echo "fuzz-long: no fuzz targets listed by 'make fuzz-cov-list'" >&2
    exit 1
fi

echo "== fuzz-long: building fuzz targets (sanitised and coverage) into $BUILD"
"$MAKE" -s --no-print-directory BUILD="$BUILD" -j2 fuzz fuzz-cov || {
    echo "fuzz-long: building the fuzz targets failed (see above)" >&2
    exit 1
}

# is_ours FILE: true when FILE's name is not one libFuzzer gave (a SHA-1).
is_ours() {
    ! [[ $(basename "$1") =~ ^[0-9a-f]{40}$ ]]
}

# fuzz_one T DIR: fuzzes target T on DIR/work for EXECS runs; writes
# artifacts as DIR/crash-* etc. and logs as DIR/fuzz*.log. Sets RUNS
# (executions done) and CRASHES (artifacts written).
fuzz_one() {
    local t=$1 dir=$2 bin opts=() rc=0 a
    bin=$PWD/$BUILD/tests/fuzz/fuzz_$t
    opts=(-timeout=5 -rss_limit_mb=2048 -max_len="$MAX_LEN" -print_final_stats=1
          -artifact_prefix="$PWD/$dir/")
    [ -n "${FUZZ_SECONDS:-}" ] && opts+=(-max_total_time="$FUZZ_SECONDS")
    if [ "$JOBS" -gt 1 ]; then
        local per=$EXECS
        [ "$EXECS" -gt 0 ] && per=$(( (EXECS + JOBS - 1) / JOBS ))
        (cd "$dir" && "$bin" "${opts[@]}" -runs="$per" -jobs="$JOBS" -workers="$JOBS" work \
            >fuzz.log 2>&1) || rc=$?
    else
        "$bin" "${opts[@]}" -runs="$EXECS" "$dir/work" >"$dir/fuzz.log" 2>&1 || rc=$?
    fi
    # With -jobs each process writes fuzz-<n>.log, and the parent's
    # fuzz.log repeats them: count the processes' own logs only.
    local logs=("$dir/fuzz.log")
    [ "$JOBS" -gt 1 ] && logs=("$dir"/fuzz-*.log)
    RUNS=$(cat "${logs[@]}" | sed -n 's/^stat::number_of_executed_units: *//p' |
           awk '{s += $1} END {print s + 0}')
    CRASHES=0
    for a in "$dir"/crash-* "$dir"/leak-* "$dir"/timeout-* "$dir"/oom-* "$dir"/slow-unit-*; do
        [ -e "$a" ] || continue
        case $(basename "$a") in slow-unit-*) continue ;; esac
        CRASHES=$((CRASHES + 1))
        echo "FAIL: fuzz_$t: artifact $a (reproduce: $bin $a)"
    done
    if [ "$rc" -ne 0 ] && [ "$CRASHES" -eq 0 ]; then
        CRASHES=1
        echo "FAIL: fuzz_$t exited $rc without an artifact; log: $dir/fuzz.log"
    fi
    [ "$CRASHES" -gt 0 ] && { tail -30 "$dir"/fuzz*.log; FAILED+=("fuzz_$t"); }
}

# minimise_one T DIR: merges DIR/work into a fresh DIR/min that starts with
# our own seeds, then makes tests/fuzz/corpus/T hold exactly DIR/min.
minimise_one() {
    local t=$1 dir=$2 tree=tests/fuzz/corpus/$1 f
    mkdir -p "$dir/min" "$tree"
    for f in "$tree"/*; do
        [ -f "$f" ] && is_ours "$f" && cp "$f" "$dir/min/"
    done
    if ! "$BUILD/tests/fuzz/fuzz_$t" -merge=1 -timeout=5 -rss_limit_mb=2048 \
            "$dir/min" "$dir/work" >"$dir/merge.log" 2>&1; then
        echo "FAIL: fuzz_$t: merge failed; log: $dir/merge.log"
        FAILED+=("fuzz_$t merge")
        return
    fi
    for f in "$tree"/*; do
        [ -f "$f" ] && ! [ -e "$dir/min/$(basename "$f")" ] && rm -f "$f"
    done
    cp "$dir"/min/* "$tree/" 2>/dev/null
}

# cover_one T DIR SOURCES...: replays DIR/min in the coverage build and
# prints llvm-cov's report for SOURCES. Sets COVER ("lines a/b (p%),
# regions c/d (q%)").
cover_one() {
    local t=$1 dir=$2 bin total
    shift 2
    bin=$BUILD/tests/fuzzcov/fuzz_$t
    rm -f "$dir"/*.profraw
    LLVM_PROFILE_FILE="$PWD/$dir/cov-%p.profraw" "$bin" -runs=0 "$dir/min" >"$dir/cov.log" 2>&1
    COVER="coverage n/a"
    if ! "$PROFDATA" merge -sparse "$dir"/*.profraw -o "$dir/cov.profdata" 2>>"$dir/cov.log"; then
        echo "FAIL: fuzz_$t: no coverage profile; log: $dir/cov.log"
        FAILED+=("fuzz_$t coverage")
        return
    fi
    "$LLVMCOV" report "$bin" -instr-profile="$dir/cov.profdata" "$@" | tee "$dir/cov.txt"
    # TOTAL  regions missed cover  functions missed cover  lines missed cover ...
    total=$(grep '^TOTAL' "$dir/cov.txt")
    COVER=$(echo "$total" | awk '{
        printf "lines %d/%d (%s), regions %d/%d (%s)", $8 - $9, $8, $10, $2 - $3, $2, $4 }')
}

for line in "${TARGET_LINES[@]}"; do
    read -r t srcs <<<"$line"
    if [ -n "${FUZZ_ONLY:-}" ] && ! [[ " $FUZZ_ONLY " == *" $t "* ]]; then
        continue
    fi
    dir=$SCRATCH/$t
    rm -rf "$dir"
    mkdir -p "$dir/work"
    [ -d "tests/fuzz/corpus/$t" ] && cp tests/fuzz/corpus/"$t"/* "$dir/work/" 2>/dev/null
    echo "== fuzz_$t: $([ "$EXECS" -gt 0 ] && echo "$EXECS executions" || echo "${FUZZ_SECONDS}s")" \
         "on $(ls "$dir/work" | wc -l) seeds, $JOBS process(es)"
    start=$(date +%s)
    fuzz_one "$t" "$dir"
    secs=$(( $(date +%s) - start ))
    minimise_one "$t" "$dir"
    files=$(ls "$dir/min" | wc -l)
    kib=$(( ($(cat "$dir"/min/* 2>/dev/null | wc -c) + 1023) / 1024 ))
    # The code under test: the target's sources less the formatting and
    # string helpers every target links,
    under=()
    for s in $srcs; do
        case $s in hv/fmt.c | hv/str.c) ;; *) under+=("$s") ;; esac
    done
    # and any module the harness #includes whole (fuzz_control: hv/control.c).
    for s in $(sed -n 's/^#include "\(.*\.c\)"/\1/p' "tests/fuzz/fuzz_$t.c"); do
        under+=("$(realpath --relative-to=. "tests/fuzz/$s")")
    done
    cover_one "$t" "$dir" "${under[@]}"
    SUMMARY+=("fuzz_$t: $RUNS executions in ${secs}s, $CRASHES crashes, corpus $files files ($kib KiB), $COVER")
done

echo "== fuzz-long summary ($( [ "$EXECS" -gt 0 ] && echo "FUZZ_EXECS=$EXECS" || echo "FUZZ_SECONDS=$FUZZ_SECONDS"))"
printf '%s\n' "${SUMMARY[@]}"
if [ ${#FAILED[@]} -gt 0 ]; then
    echo "fuzz-long: FAILED: ${FAILED[*]}"
    exit 1
fi
echo "fuzz-long: all targets passed; new corpus files: git status tests/fuzz/corpus"
