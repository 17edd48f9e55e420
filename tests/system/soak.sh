# The churn soak (issue 16): one long boot (Bochs, VT-x) that creates and
# destroys guests without pause, from its config and over the control
# channel, and checks that every resource comes back. SOAK_CYCLES
# create/destroy cycles in all (default 2000, the `make test` size;
# `make soak` runs 100,000).
#
# The config's lines churn SOAK_CYCLES less the control rounds' share
# through 3 small and 1 wide partition: guests that exit 0, fail with a
# status, fault (#UD), spin until their time limit, exit with a network
# port, and exit in the wide class. Meanwhile and afterwards the script
# drives SOAK_ROUNDS rounds over the control channel (SOAK_CYCLES / 500,
# at most 60): instances started
# behind the config's (pending) and cancelled, started and stopped with
# ports, started to exit 0 and to fail, STARTs refused (no such image, no
# such class, more instances than may wait), and an upload that replaces
# another (its store range must come back). Then launches that fail after
# their START was accepted: a Solo5 image with three network devices,
# started behind busy partitions, more instances than the Solo5 port pool
# holds; the one that finds too few ports must fail alone, its ports and
# partition back.
#
# Checked at the end and at intervals: the hypervisor's resource check
# (every FLEET_CHECK_EVERY ends and whenever the fleet drains: every
# partition, port, switch slot and pool byte where its owner says), each
# line "ok" and one per thousand ends; at the end every partition free,
# every port back, the pool as at boot, the store's free bytes as after
# the first upload, the fleet's counts and every guest's result as its
# kind says. The counts are printed ("soak: ...").
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/../lib/control.sh"

SOAK_CYCLES=${SOAK_CYCLES:-2000}
SOAK_ROUNDS=${SOAK_ROUNDS:-$(( SOAK_CYCLES / 500 > 60 ? 60 : SOAK_CYCLES / 500 ))}
# Rounds while the config's lines churn: their instances wait behind the
# config's (at most RUN_PENDING_MAX may wait), the rest run after.
SOAK_DURING=$(( SOAK_ROUNDS < 8 ? SOAK_ROUNDS / 2 : 4 ))
CHECK_EVERY=1000            # FLEET_CHECK_EVERY in hv/param.h
PARTS=4                     # partitions: 3 small, 1 wide
PER_ROUND=5                 # guests each control round starts that surely end
                            # (and 2 stopped: killed, or cancelled if still pending)
CONTROL_PENDING=8           # started behind the config's lines, half cancelled
EARLY_CANCELLED=0           # of them: cancelled, killed or exited (read from the log at the end)
EARLY_KILLED=0
EARLY_EXITED=0
# The config's kinds: name, share in percent, args (_ for a space),
# options (- for none); every_result_as_its_kind_says says how each ends.
# They print nothing (the hypervisor's lines say how each ended): console
# lines cost emulated serial time, which bounds the soak's pace.
KINDS='quick 35 quiet-exit_0 -
fails 15 quiet-exit_7 -
faulty 15 ud2 -
spinner 10 quiet-spin timeout=5
netted 15 quiet-exit_0 net=lan
wide 10 quiet-exit_0 class=wide'

declare -A WANT             # kind -> instances the config starts

# soak_config: the config text in SOAK_CONF, SOAK_CYCLES less the
# control share spread over the kinds in lines of at most 4096 instances
# (WANT: how many of each kind).
soak_config() {
    local total=$(( SOAK_CYCLES - SOAK_ROUNDS * PER_ROUND - CONTROL_PENDING / 2 ))
    local name share args opts n left line=0 c
    SOAK_CONF=$'partition small 2M x 3\npartition wide 4M x 1\nswitch lan\ncontrol com2 store=4M'
    left=$total
    while read -r name share args opts; do
        n=$(( total * share / 100 ))
        [ "$name" = wide ] && n=$left        # the last kind takes the rounding's remainder
        left=$(( left - n ))
        WANT[$name]=$n
        while [ "$n" -gt 0 ]; do
            c=$(( n > 4096 ? 4096 : n ))
            SOAK_CONF+=$'\n'"guest $name$line image=evil.elf count=$c args=\"${args//_/ }\""
            [ "$opts" = - ] || SOAK_CONF+=" $opts"
            n=$(( n - c ))
            line=$(( line + 1 ))
        done
    done <<<"$KINDS"
}

# count_lines REGEX: lines of the serial log matching REGEX.
count_lines() {
    grep -cE -- "$1" "$CASE_DIR/serial.log"
}

# soak_boot: the boot with the config's churn under way.
soak_boot() {
    soak_config
    RUN_SECONDS=$(( 600 + SOAK_CYCLES / 10 ))
    control_boot soak_boot "$SOAK_CONF" "$G/evil.elf" || { CASE_WHY=$BOOT_WHY; return 1; }
    CASE_DIR=$BOOT_DIR
}

# ids_asked COUNT: the ids of the last `ctl start --json`, started or pending.
ids_asked() {
    local first; first=$(json_field first_id)
    seq "$first" $(( first + $1 - 1 ))
}

STORE_FREE=
REFUSED=0                   # STARTs refused, as they should be
CONTROL_ENDS=0              # control instances that started and ended

# control_first: two uploads (the store's free bytes then are the mark),
# then instances behind the config's lines, every other one stopped. How
# many are still pending when the STOP comes depends on how far the
# config's churn has got (an mfctl start is many emulated milliseconds):
# each stopped one is cancelled if still pending, killed if running, or
# has exited already (the stop then finds nothing). The checks at the end
# count each outcome from the log and hold every count to them. hello.elf is started in the rounds; sleep.elf is uploaded
# again in each (never started, so never in use: replacing it is allowed).
control_first() {
    need_boot || return 1
    ctl load "$G/hello.elf" "$G/sleep.elf" "$G/hvt-net3.hvt"
    expect_ctl_rc 0 "load hello.elf sleep.elf hvt-net3.hvt" || return 1
    ctl stats --json
    STORE_FREE=$(json_field store_free)
    ctl start --json evil.elf --name early --args "exit 0" --count $CONTROL_PENDING
    expect_ctl_rc 0 "start early" || return 1
    local first id
    first=$(json_field first_id)
    for id in $(seq "$first" 2 $(( first + CONTROL_PENDING - 1 ))); do
        ctl stop "$id"
        [ "$CTL_RC" = 0 ] || grep -q "no guest $id is running or waiting" "$CASE_DIR/err" ||
            { CASE_WHY="stop $id: $(ctl_err_tail)"; return 1; }
    done
}

# wait_drained: until nothing runs or waits (the config's churn is done).
wait_drained() {
    local i
    for ((i = 0; i < RUN_SECONDS * 2; i++)); do
        ctl stats --json
        if [ "$CTL_RC" = 0 ] && [ "$(json_field guests_running)" = 0 ] &&
           [ "$(json_field guests_pending)" = 0 ]; then
            return 0
        fi
        kill -0 "$RUN_PID" 2>/dev/null || { CASE_WHY="the run ended"; return 1; }
        sleep 0.5
    done
    CASE_WHY="guests still running or pending after $RUN_SECONDS s"
    return 1
}

# control_round N: one round of starts, stops and refusals.
control_round() {
    local ids
    ctl start --json evil.elf --name held --args spin --net lan --count 2
    expect_ctl_rc 0 "start held (round $1)" || return 1
    ids=$(ids_asked 2)
    ctl stop $ids
    expect_ctl_rc 0 "stop held $ids (round $1)" || return 1
    ctl start --json hello.elf --name done --count 2
    expect_ctl_rc 0 "start done (round $1)" || return 1
    ctl start --json evil.elf --name bad --args "exit 2"
    expect_ctl_rc 0 "start bad (round $1)" || return 1
    ctl start --json evil.elf --name late --args "exit 0" --timeout-ms 1000
    expect_ctl_rc 0 "start late (round $1)" || return 1
    ctl start --json evil.elf --name timed --args spin --timeout-ms 2
    expect_ctl_rc 0 "start timed (round $1)" || return 1
    # Refused, changing nothing: no such image, no such class, more
    # instances than may wait for a partition.
    ctl start nosuch.elf --name x
    expect_ctl_rc 1 "start of an image nobody loaded (round $1)" || return 1
    ctl start evil.elf --name x --class huge
    expect_ctl_rc 1 "start in a class that does not exist (round $1)" || return 1
    ctl start evil.elf --name x --count 4096 --args spin
    expect_ctl_rc 1 "start of 4096 instances (round $1)" || return 1
    REFUSED=$(( REFUSED + 3 ))
    # The same name again: the old upload's store range must come back.
    ctl load "$G/sleep.elf"
    expect_ctl_rc 0 "load sleep.elf again (round $1)" || return 1
    CONTROL_ENDS=$(( CONTROL_ENDS + PER_ROUND + 2 ))
}

control_rounds() {
    need_boot || return 1
    local r
    for ((r = 1; r <= SOAK_ROUNDS; r++)); do
        control_round "$r" || return 1
        # Some rounds while the config churns, the rest after.
        [ "$r" = "$SOAK_DURING" ] && { wait_drained || return 1; }
    done
    wait_drained
}

# wait_for RUNNING PENDING: until that many guests run and wait.
wait_for() {
    local i
    for ((i = 0; i < 120; i++)); do
        ctl stats --json
        [ "$CTL_RC" = 0 ] && [ "$(json_field guests_running)" = "$1" ] &&
            [ "$(json_field guests_pending)" = "$2" ] && return 0
        sleep 0.5
    done
    CASE_WHY="not $1 running and $2 pending after 60 s: $(cat "$CASE_DIR/out")"
    return 1
}

# control_failed_launches: launches that fail after their START was
# accepted. NET_CONTROL_QUEUE_PORTS (8) Solo5 ports serve the control
# channel's hvt instances and hvt-net3 takes 3 each. A START is refused
# when the instances that start at once lack ports, but instances that
# wait for a partition take theirs only when they launch: with every
# partition held by a blocker, 3 instances are accepted and wait; once
# the blockers are stopped, short.0 and short.1 launch (6 ports) and stay
# (idle=0), short.2 finds 2 ports and fails, giving back its partition and
# the two ports it took.
LAUNCH_FAILED=1             # instances of short that fail to launch
control_failed_launches() {
    need_boot || return 1
    local blockers first
    ctl start --json evil.elf --name blocker --args quiet-spin --count $PARTS
    expect_ctl_rc 0 "start blocker" || return 1
    blockers=$(ids_asked $PARTS)
    wait_for $PARTS 0 || return 1
    ctl start --json hvt-net3.hvt --name short --net:service=lan --net:spare1=lan \
        --net:spare2=lan --args "ip=10.9.0.1 idle=0" --count 3
    expect_ctl_rc 0 "start short, behind the blockers" || return 1
    first=$(json_field first_id)
    [ "$(json_field pending)" = 3 ] || { CASE_WHY="short: not 3 pending: $(cat "$CASE_DIR/out")"; return 1; }
    ctl stop $blockers
    expect_ctl_rc 0 "stop blockers $blockers" || return 1
    wait_for 2 0 || return 1
    ctl stop "$first" $(( first + 1 ))
    expect_ctl_rc 0 "stop short $first $(( first + 1 ))" || return 1
    CONTROL_ENDS=$(( CONTROL_ENDS + PARTS + 2 ))
    wait_drained
}

failed_launches_counted() {
    expect_count "$LAUNCH_FAILED" '^mayfly: guest [0-9]+ short\.[0-9] not started: ' &&
    expect_line '^mayfly: guest [0-9]+ short\.2 not started: no free network port for device spare2 on switch lan ' &&
    expect_count 2 '^mayfly: guest [0-9]+ short\.[01] killed: stopped over the control channel$' &&
    expect_count "$PARTS" '^mayfly: guest [0-9]+ blocker\.[0-9] killed: stopped over the control channel$' &&
    expect_count 1 "^mayfly: $LAUNCH_FAILED instances could not be started \(see above\)$" &&
    expect_count "$LAUNCH_FAILED" '^mayfly: guest [0-9]+ .* not started: '
}

# The checks on the finished boot.
CONFIG_ENDS=
ALL_ENDS=

resources_checked_at_intervals() {
    local lines wrong k
    wrong=$(count_lines '^mayfly: resource check .*: WRONG')
    [ "$wrong" = 0 ] || { CASE_WHY="$wrong resource checks found something wrong: $(grep -m1 'resource check .*WRONG' "$CASE_DIR/serial.log")"; return 1; }
    for ((k = CHECK_EVERY; k <= ALL_ENDS; k += CHECK_EVERY)); do
        expect_line "^mayfly: resource check after $k guests ended: [0-9]+ of $PARTS partitions free, .*: ok$" || return 1
    done
    lines=$(count_lines '^mayfly: resource check after [0-9]+ guests ended: ')
    [ "$lines" -ge $(( ALL_ENDS / CHECK_EVERY + 1 )) ] ||
        { CASE_WHY="$lines resource checks for $ALL_ENDS ends"; return 1; }
}

everything_back_at_the_end() {
    local last ports
    last=$(grep -E '^mayfly: resource check after ' "$CASE_DIR/serial.log" | tail -1)
    [[ $last =~ ^mayfly:\ resource\ check\ after\ $ALL_ENDS\ guests\ ended:\ $PARTS\ of\ $PARTS\ partitions\ free,\ 0\ held\;\ ports\ ([0-9]+)\ free\ of\ ([0-9]+),\ 0\ held\;\ switch\ slots\ 0\ in\ use\;\ pool\ ([0-9]+)\ of\ [0-9]+\ bytes\ used\ \(([0-9]+)\ at\ boot\):\ ok$ ]] ||
        { CASE_WHY="the last resource check is not all free after $ALL_ENDS ends: '$last'"; return 1; }
    [ "${BASH_REMATCH[1]}" = "${BASH_REMATCH[2]}" ] && [ "${BASH_REMATCH[3]}" = "${BASH_REMATCH[4]}" ] ||
        { CASE_WHY="ports or pool not back: '$last'"; return 1; }
    ctl stats --json
    [ "$(json_field partitions_free)" = $PARTS ] && [ "$(json_field guests_running)" = 0 ] &&
    [ "$(json_field guests_pending)" = 0 ] ||
        { CASE_WHY="stats after the soak: $(cat "$CASE_DIR/out")"; return 1; }
    [ "$(json_field store_free)" = "$STORE_FREE" ] ||
        { CASE_WHY="store_free $(json_field store_free) after $SOAK_ROUNDS replacing uploads, $STORE_FREE after the first"; return 1; }
}

# expect_kind KIND REGEX N: N lines of the config's instances of KIND end as REGEX says.
expect_kind() {
    local n; n=$(count_lines "^mayfly: guest [0-9]+ $1[0-9]+\\.[0-9]+ $2")
    [ "$n" = "$3" ] && return 0
    CASE_WHY="$n instances of $1 ended with '$2', expected $3"
    return 1
}

every_result_as_its_kind_says() {
    local half=$EARLY_EXITED
    expect_no_line 'panic|never found a partition' &&
    expect_kind quick 'exited with status 0$' "${WANT[quick]}" &&
    expect_kind fails 'exited with status 7$' "${WANT[fails]}" &&
    expect_kind faulty 'killed: guest exception #UD' "${WANT[faulty]}" &&
    expect_kind spinner 'killed: time limit of 5 ms reached$' "${WANT[spinner]}" &&
    expect_kind netted 'exited with status 0$' "${WANT[netted]}" &&
    expect_kind wide 'exited with status 0$' "${WANT[wide]}" &&
    expect_count "$half" '^mayfly: guest [0-9]+ early\.[0-9]+ exited with status 0$' &&
    [ $(( EARLY_EXITED + EARLY_CANCELLED + EARLY_KILLED )) = "$CONTROL_PENDING" ] ||
        { CASE_WHY="early: $EARLY_EXITED exited, $EARLY_CANCELLED cancelled, $EARLY_KILLED killed: not the $CONTROL_PENDING started"; return 1; }
    [ $(( EARLY_CANCELLED + EARLY_KILLED )) -le $(( CONTROL_PENDING / 2 )) ] ||
        { CASE_WHY="early: more cancelled or killed than stopped"; return 1; }
    expect_count $(( 2 * SOAK_ROUNDS - HELD_CANCELLED )) '^mayfly: guest [0-9]+ held\.[01] killed: stopped over the control channel$' &&
    expect_count $(( 2 * SOAK_ROUNDS )) '^mayfly: guest [0-9]+ done\.[01] exited with status 0$' &&
    expect_count "$SOAK_ROUNDS" '^mayfly: guest [0-9]+ bad\.0 exited with status 2$' &&
    expect_count "$SOAK_ROUNDS" '^mayfly: guest [0-9]+ late\.0 exited with status 0$' &&
    expect_count "$SOAK_ROUNDS" '^mayfly: guest [0-9]+ timed\.0 killed: time limit of 2 ms reached$' &&
    expect_line "^mayfly: all guests have ended: $ALL_ENDS started, $(( WANT[quick] + WANT[netted] + WANT[wide] + half + 3 * SOAK_ROUNDS )) exited 0, $(( WANT[fails] + SOAK_ROUNDS )) failed, $(( WANT[faulty] + WANT[spinner] + EARLY_KILLED + 3 * SOAK_ROUNDS - HELD_CANCELLED + PARTS + 2 )) killed;"
}

trap cleanup EXIT
SOCK_DIR=$(mktemp -d /tmp/mfsoak.XXXXXX)
why=$(missing_tools)
[ -n "$why" ] || [ -f "$G/evil.elf" ] || why="$G/evil.elf (run make)"
[ -n "$why" ] || [ -f "$G/hvt-net3.hvt" ] || why="$G/hvt-net3.hvt (run make)"
if [ -n "$why" ]; then
    echo "FAIL: soak: $why not found"
    end_of_script
fi
run_case soak_boot
SOAK_DIR=$BOOT_DIR
CASE_DIR=$SOAK_DIR run_check control_first "$SOAK_DIR"
CASE_DIR=$SOAK_DIR run_check control_rounds "$SOAK_DIR"
CASE_DIR=$SOAK_DIR run_check control_failed_launches "$SOAK_DIR"
CONFIG_ENDS=$(( WANT[quick] + WANT[fails] + WANT[faulty] + WANT[spinner] + WANT[netted] + WANT[wide] ))
# A held instance stopped while still pending was cancelled, never started.
HELD_CANCELLED=$(grep -cE '^mayfly: guest [0-9]+ held\.[01] cancelled before it started$' "$SOAK_DIR/serial.log")
early_ended() { grep -cE "^mayfly: guest [0-9]+ early\.[0-9]+ $1\$" "$SOAK_DIR/serial.log"; }
EARLY_CANCELLED=$(early_ended 'cancelled before it started')
EARLY_KILLED=$(early_ended 'killed: stopped over the control channel')
EARLY_EXITED=$(early_ended 'exited with status 0')
ALL_ENDS=$(( CONFIG_ENDS + CONTROL_PENDING - EARLY_CANCELLED + CONTROL_ENDS - HELD_CANCELLED ))
for check in resources_checked_at_intervals everything_back_at_the_end \
    every_result_as_its_kind_says failed_launches_counted; do
    CASE_DIR=$SOAK_DIR run_check "$check" "$SOAK_DIR"
done
echo "soak: $ALL_ENDS create/destroy cycles ($CONFIG_ENDS from the config in $(grep -c '^guest ' "$SOAK_DIR/mayfly.conf") lines, $(( ALL_ENDS - CONFIG_ENDS )) over the control channel in $SOAK_ROUNDS rounds), $REFUSED STARTs refused, $(count_lines ' not started: ') launches failed, $(( EARLY_CANCELLED + HELD_CANCELLED )) instances cancelled, $(count_lines '^mayfly: resource check after ') resource checks, serial log $(wc -c <"$SOAK_DIR/serial.log") bytes"
control_shutdown
end_of_script
