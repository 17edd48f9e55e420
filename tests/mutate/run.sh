#!/usr/bin/env bash
# Mutation check (issue 16): applies each breakage of a list
# (tests/mutate/mutations.list) alone to a scratch copy of HEAD, builds
# what its tests need there and runs them; an entry is "caught" when
# every one of its tests fails. /work/main's own files are never edited.
#
#   tests/mutate/run.sh [LIST] [NAME-REGEX]
#   tests/mutate/run.sh --check [LIST]
#
# --check (seconds, part of make test) only checks that every entry still
# applies to the working tree: its file is there, its snippet is found
# exactly once, its breakage changes something, and each test it names
# exists (tests/unit/test_NAME.c, tests/fuzz/fuzz_NAME.c, or a system
# script with a function of that case's name). A refactor that moves a
# snippet fails make test at once instead of the next full make mutate.
#
# Environment:
#   MUTATE_BASELINE=0  skip the first pass that runs each entry's tests on
#                      the unbroken copy (a test that fails there proves
#                      nothing, so by default such an entry is not caught)
#   MUTATE_TMP=DIR     the scratch directory (default: a new one in /tmp,
#                      removed at the end unless MUTATE_KEEP=1)
#   MUTATE_JOBS=N      make -j (default 2)
#   MUTATE_REV=REV     the commit to copy (default HEAD)
#   MUTATE_LOGS=DIR    where the build and test logs go (default: under
#                      the scratch directory; `make mutate` keeps them in
#                      $(BUILD)/mutate-logs)
# Exit status: 0 when every entry was caught, 1 otherwise, 2 on misuse.
set -u

REPO=$(cd "$(dirname "$0")/../.." && pwd)
CHECK_ONLY=0
[ "${1:-}" = --check ] && { CHECK_ONLY=1; shift; }
LIST=${1:-$REPO/tests/mutate/mutations.list}
ONLY=${2:-}
JOBS=${MUTATE_JOBS:-2}
REV=${MUTATE_REV:-HEAD}

[ -f "$LIST" ] || { echo "mutate: no list at $LIST (give a list file)" >&2; exit 2; }
LIST=$(cd "$(dirname "$LIST")" && pwd)/$(basename "$LIST")

# ---- --check: the list against the working tree, nothing built ----------

# check_snippet FILE FROM TO: the snippet is in $REPO/FILE exactly once and
# the breakage changes it; says why not.
check_snippet() {
    python3 "$REPO/tests/mutate/snippet.py" check "$REPO/$1" "$2" "$3"
}

# check_test LINE: the test a "test" line names exists; says why not.
check_test() {
    local kind name arg before c
    read -r kind name arg before <<< "$1"
    case $kind in
        unit) [ -f "$REPO/tests/unit/test_$name.c" ] || { echo "no tests/unit/test_$name.c"; return 1; } ;;
        fuzz) [ -f "$REPO/tests/fuzz/fuzz_$name.c" ] || { echo "no tests/fuzz/fuzz_$name.c"; return 1; } ;;
        system)
            [ -f "$REPO/tests/system/$name" ] || { echo "no tests/system/$name"; return 1; }
            for c in $arg $before; do
                grep -qE "^$c\(\)" "$REPO/tests/system/$name" ||
                    { echo "tests/system/$name has no case $c (no function '$c()')"; return 1; }
            done ;;
        *) echo "unknown test kind '$kind' (unit, fuzz, system)"; return 1 ;;
    esac
}


if [ "$CHECK_ONLY" = 0 ]; then
    if [ -n "${MUTATE_TMP:-}" ]; then
        TMP=$MUTATE_TMP
        mkdir -p "$TMP"
    else
        TMP=$(mktemp -d /tmp/mayfly-mutate.XXXXXX)
    fi
    [ "${MUTATE_KEEP:-0}" = 1 ] || trap 'rm -rf "$TMP"' EXIT
    TREE=$TMP/tree
    B=$TMP/build
    LOGS=${MUTATE_LOGS:-$TMP/logs}
    rm -rf "$TREE" "$LOGS"
    mkdir -p "$TREE" "$LOGS"
fi

# ---- the list ----------------------------------------------------------

# Entries as parallel arrays; tests of entry i are E_TESTS[i], one per line.
E_NAME=() E_FILE=() E_FROM=() E_TO=() E_TESTS=()

list_flush() {
    [ -n "$cur_name" ] || return 0
    if [ -z "$cur_file" ] || [ -z "$cur_from" ] || [ -z "$cur_tests" ]; then
        echo "mutate: $LIST: entry '$cur_name' needs file, from and at least one test" >&2
        exit 2
    fi
    if [ -z "$ONLY" ] || [[ $cur_name =~ $ONLY ]]; then
        E_NAME+=("$cur_name") E_FILE+=("$cur_file") E_FROM+=("$cur_from")
        E_TO+=("$cur_to") E_TESTS+=("$cur_tests")
    fi
    cur_name= cur_file= cur_from= cur_to= cur_tests=
}

list_read() {
    local line key val n=0
    cur_name= cur_file= cur_from= cur_to= cur_tests=
    while IFS= read -r line || [ -n "$line" ]; do
        n=$((n + 1))
        if [[ $line =~ ^[[:space:]]*(#|$) ]]; then
            list_flush
            continue
        fi
        key=${line%%[[:space:]]*}
        val=${line#"$key"}
        val=${val#"${val%%[![:space:]]*}"}
        case $key in
            entry) list_flush; cur_name=$val ;;
            file) cur_file=$val ;;
            from) cur_from=$val ;;
            to) cur_to=$val ;;
            test) cur_tests+="$val"$'\n' ;;
            *) echo "mutate: $LIST:$n: unknown key '$key' (entry, file, from, to, test)" >&2
               exit 2 ;;
        esac
        if [ -z "$cur_name" ]; then
            echo "mutate: $LIST:$n: '$key' before any 'entry NAME' line" >&2
            exit 2
        fi
    done < "$LIST"
    list_flush
}

# ---- breaking and restoring a file ---------------------------------------

# mutate_apply FILE FROM TO: replaces the one occurrence of FROM in FILE
# (under $TREE). Fails, saying why, when FROM is not there exactly once.
mutate_apply() {
    python3 "$REPO/tests/mutate/snippet.py" apply "$TREE/$1" "$2" "$3"
}

# The pristine file goes back with a new mtime, so make rebuilds it.
mutate_restore() {
    cp "$TMP/pristine" "$TREE/$1" && touch "$TREE/$1"
}

# ---- tests ---------------------------------------------------------------

# make targets that the test line $1 needs.
test_targets() {
    set -- $1
    case $1 in
        unit) echo "$B/tests/unit/test_$2" ;;
        fuzz) echo "$B/tests/fuzz/fuzz_$2" ;;
        system) echo all ;;
        *) echo "mutate: unknown test kind '$1' (unit, fuzz, system)" >&2; return 1 ;;
    esac
}

# test_run LINE LOG: runs one test line in $TREE; 0 when it passed.
test_run() {
    local kind name arg before out filter
    read -r kind name arg before <<< "$1"
    case $kind in
        unit)
            (cd "$TREE" && "$B/tests/unit/test_$name") > "$2" 2>&1 ;;
        fuzz)
            out=$TMP/fuzz-corpus-$name
            rm -rf "$out" && mkdir -p "$out"
            (cd "$TREE" && "$B/tests/fuzz/fuzz_$name" -max_total_time="${arg:-5}" \
                -print_final_stats=1 "$out" \
                $( [ -d "tests/fuzz/corpus/$name" ] && echo "tests/fuzz/corpus/$name" )) \
                > "$2" 2>&1 ;;
        system)
            # The scripts print PASS:/FAIL: per case and exit 0 either way;
            # a case that printed no PASS line (it failed, or never ran) fails.
            # A check on an earlier boot names that boot's case (and the
            # steps it judges) after it: they run too, and must not fail.
            out=$B/test-output/system
            filter=$(echo $arg $before | tr ' ' '|')
            (cd "$TREE" && CASE_FILTER="^($filter)\$" MAYFLY_BUILD=$B SYSTEST_OUT=$out \
                bash "tests/system/$name") > "$2" 2>&1
            grep -q "^PASS: $arg\$" "$2" && ! grep -q "^FAIL: " "$2" ;;
    esac
}

# build_for i: builds what entry i's tests need; its log in $2.
build_for() {
    local targets=() line t
    while IFS= read -r line; do
        [ -n "$line" ] || continue
        t=$(test_targets "$line") || return 1
        targets+=("$t")
    done <<< "${E_TESTS[$1]}"
    (cd "$TREE" && make --no-print-directory BUILD="$B" -j"$JOBS" \
        $(printf '%s\n' "${targets[@]}" | sort -u)) > "$2" 2>&1
}

if [ "$CHECK_ONLY" = 1 ]; then
    list_read
    bad=0
    for i in "${!E_NAME[@]}"; do
        why=
        if [ ! -f "$REPO/${E_FILE[$i]}" ]; then
            why="no file ${E_FILE[$i]}"
        elif ! why=$(check_snippet "${E_FILE[$i]}" "${E_FROM[$i]}" "${E_TO[$i]}" 2>&1); then
            :
        else
            why=
            while IFS= read -r line; do
                [ -n "$line" ] || continue
                w=$(check_test "$line") || why+="$w; "
            done <<< "${E_TESTS[$i]}"
        fi
        if [ -n "$why" ]; then
            echo "mutate: entry ${E_NAME[$i]} (${E_FILE[$i]}) no longer applies: $why"
            bad=$((bad + 1))
        fi
    done
    echo "mutate: list check: ${#E_NAME[@]} entries, $bad that no longer apply"
    [ "$bad" = 0 ]
    exit
fi

# ---- main ----------------------------------------------------------------

list_read
[ ${#E_NAME[@]} -gt 0 ] || { echo "mutate: no entries${ONLY:+ match '$ONLY'}" >&2; exit 2; }

START=$SECONDS
(cd "$REPO" && git archive "$REV") | tar -x -C "$TREE" || {
    echo "mutate: could not copy $REV of $REPO to $TREE" >&2; exit 2; }
echo "mutate: ${#E_NAME[@]} entries, $REV ($(cd "$REPO" && git rev-parse --short "$REV")) copied to $TREE"

# Baseline: the unbroken tree must pass every test the list names.
declare -A BASE_OK=()
if [ "${MUTATE_BASELINE:-1}" != 0 ]; then
    for i in "${!E_NAME[@]}"; do
        if ! build_for "$i" "$LOGS/baseline-build.log"; then
            echo "mutate: the unbroken tree does not build (see $LOGS/baseline-build.log):"
            tail -n 15 "$LOGS/baseline-build.log" | sed 's/^/    /'
            exit 1
        fi
        while IFS= read -r line; do
            [ -n "$line" ] && [ -z "${BASE_OK[$line]+x}" ] || continue
            log=$LOGS/baseline-$(echo "$line" | tr -c 'A-Za-z0-9_.\n' '_').log
            if test_run "$line" "$log"; then
                BASE_OK[$line]=1
            else
                BASE_OK[$line]=0
                echo "mutate: baseline: '$line' FAILS on the unbroken tree (log: $log)"
            fi
        done <<< "${E_TESTS[$i]}"
    done
    echo "mutate: baseline done ($((SECONDS - START)) s)"
fi

caught=0 missed=0
for i in "${!E_NAME[@]}"; do
    name=${E_NAME[$i]} file=${E_FILE[$i]}
    t0=$SECONDS
    verdict= detail=
    if [ ! -f "$TREE/$file" ]; then
        verdict="NOT CAUGHT" detail="no file $file in $REV: update the entry"
    else
        cp "$TREE/$file" "$TMP/pristine"
        if ! why=$(mutate_apply "$file" "${E_FROM[$i]}" "${E_TO[$i]}" 2>&1); then
            verdict="NOT CAUGHT" detail=$why
        elif ! build_for "$i" "$LOGS/$name-build.log"; then
            verdict="NOT CAUGHT"
            detail="the broken tree does not build, so no test judged it: make the breakage compile ($LOGS/$name-build.log)"
        else
            verdict=caught
            while IFS= read -r line; do
                [ -n "$line" ] || continue
                log=$LOGS/$name-$(echo "$line" | tr -c 'A-Za-z0-9_.\n' '_').log
                if [ "${BASE_OK[$line]:-1}" = 0 ]; then
                    verdict="NOT CAUGHT"
                    detail+=" '$line' fails on the unbroken tree too, so its failure proves nothing;"
                elif test_run "$line" "$log"; then
                    verdict="NOT CAUGHT"
                    detail+=" '$line' passed with the breakage ($log);"
                else
                    detail+=" '$line' failed;"
                fi
            done <<< "${E_TESTS[$i]}"
        fi
        mutate_restore "$file"
    fi
    if [ "$verdict" = caught ]; then
        caught=$((caught + 1))
    else
        missed=$((missed + 1))
    fi
    printf '%-11s %s (%s, %d s):%s\n' "$verdict" "$name" "$file" $((SECONDS - t0)) "$detail"
done

echo "mutate: $caught caught, $missed not caught ($((SECONDS - START)) s in all)"
[ "$missed" = 0 ]
