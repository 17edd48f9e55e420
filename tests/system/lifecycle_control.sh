# The guest lifecycle driven over the control channel (Bochs): stops of
# waiting, queued and spinning guests in many rounds (a stop has taken
# effect when its reply comes, and every count adds up afterwards),
# instances waiting for a partition (listed, cancellable, bounded, their
# image kept), and START requests that config would refuse. One boot;
# then one more for idle zeroing between tenants.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/../lib/control.sh"

LC_CONF='partition small 2M x 2
partition wide 4M x 20
switch lan
switch s2
switch s3
switch s4
control com2 store=4M'
FREE=22     # partitions free when nothing runs

# start_ok ARGS...: mfctl start succeeded; its ids in STARTED.
start_ok() {
    ctl start --json "$@"
    expect_ctl_rc 0 "start $*" || return 1
    STARTED=$(python3 -c 'import json,sys; print(*json.load(open(sys.argv[1]))["ids"])' "$CASE_DIR/out")
    PENDING=$(json_field pending)
}

# ps_state ID: the state ps gives guest ID ("" when not listed).
ps_state() {
    ctl ps --json
    python3 -c 'import json,sys
for g in json.load(open(sys.argv[1])):
    if g["id"] == int(sys.argv[2]): print(g["state"])' "$CASE_DIR/out" "$1"
}

expect_state() {   # expect_state ID STATE ("" for not listed)
    local s; s=$(ps_state "$1")
    [ "$s" = "$2" ] && return 0
    CASE_WHY="guest $1 is '${s:-not listed}' in ps, expected '${2:-not listed}'"
    return 1
}

expect_stat() {    # expect_stat FIELD VALUE: a field of the global stats
    ctl stats --json
    local v; v=$(json_field "$1")
    [ "$v" = "$2" ] && return 0
    CASE_WHY="stats $1 is '$v', expected '$2'"
    return 1
}

lc_boot() {
    control_boot lifecycle_control_boot "$LC_CONF" || { CASE_WHY=$BOOT_WHY; return 1; }
    CASE_DIR=$BOOT_DIR
    ctl load "$G/churn.elf"
    expect_ctl_rc 0 "load churn.elf"
}

stop_waiting_and_queued_guests_in_rounds() {
    need_boot || return 1
    local round id a b
    for round in 1 2 3 4 5 6 7 8; do
        # A guest blocked in a wait (with and without a deadline) and one
        # spinning: with one partition left the spinner and the sleeper
        # take turns, so one of them is always queued when a stop comes.
        start_ok churn.elf --name waiter --class small --args "forever" || return 1
        a=$STARTED
        start_ok churn.elf --name spinner --class small --args "hcloop" || return 1
        b=$STARTED
        ctl stop "$a" "$b"
        expect_ctl_rc 0 "stop $a $b (round $round)" || return 1
        # Taken effect before the reply: neither is listed any more.
        expect_state "$a" "" && expect_state "$b" "" || return 1
    done
    expect_stat guests_running 0 && expect_stat partitions_free $FREE &&
    expect_stat guests_started 16 && expect_stat guests_failed 16 &&
    expect_no_line 'panic'
}

stop_spinner_takes_effect() {
    need_boot || return 1
    start_ok churn.elf --name spin1 --class small --args "hcloop" || return 1
    local id=$STARTED
    expect_state "$id" running || return 1
    ctl stop "$id"
    expect_ctl_rc 0 "stop $id" && expect_state "$id" "" &&
    expect_line_soon "^mayfly: guest $id spin1\\.0 killed: stopped over the control channel$" &&
    expect_stat partitions_free $FREE
}

pending_instances_listed_and_cancelled() {
    need_boot || return 1
    start_ok churn.elf --name pend --class small --args "forever" --count 5 || return 1
    set -- $STARTED
    [ "$#" = 2 ] && [ "$PENDING" = 3 ] ||
        { CASE_WHY="started '$STARTED', pending '$PENDING'; expected 2 and 3"; return 1; }
    local first=$1 p1=$(( $1 + 2 )) p2=$(( $1 + 3 )) p3=$(( $1 + 4 ))
    expect_state "$p1" pending && expect_state "$p2" pending && expect_stat guests_pending 3 ||
        return 1
    ctl stats "$p2" --json
    expect_ctl_rc 0 "stats $p2" && [ "$(json_field state)" = pending ] ||
        { CASE_WHY="stats $p2: '$(cat "$CASE_DIR/out")'"; return 1; }
    # While instances of it wait or run, the image is not replaced.
    ctl load "$G/churn.elf"
    expect_ctl_rc 1 "load over an image in use" && expect_err 'is in use by instances running or waiting' || return 1
    ctl stop "$p2"                      # cancelled before it started
    expect_ctl_rc 0 "stop pending $p2" && expect_state "$p2" "" && expect_stat guests_pending 2 ||
        return 1
    ctl stop "$first"                   # frees a partition: p1 starts in it
    expect_ctl_rc 0 "stop $first" && expect_state "$p1" waiting || return 1
    ctl stop "$(( first + 1 ))"         # p2 was cancelled: p3 starts
    expect_ctl_rc 0 && expect_state "$p3" waiting || return 1
    ctl stop "$p1" "$p3"
    expect_ctl_rc 0 "stop $p1 $p3" &&
    expect_line "^mayfly: guest $p2 pend\\.3 cancelled before it started$" &&
    expect_no_line "^mayfly: guest $p2 pend\\.3 started" &&
    expect_stat guests_pending 0 && expect_stat partitions_free $FREE &&
    { ctl load "$G/churn.elf"; expect_ctl_rc 0 "load once nothing uses it"; }
}

pending_work_is_bounded() {
    need_boot || return 1
    snap_before
    ctl start churn.elf --name many --class small --args "forever" --count 4096
    expect_ctl_rc 1 "start --count 4096" && expect_err 'at most 64 may wait' &&
    expect_same_state "start --count 4096" || return 1
    start_ok churn.elf --name many --class small --args "forever" --count 66 || return 1
    [ "$PENDING" = 64 ] || { CASE_WHY="pending $PENDING, expected 64"; return 1; }
    ctl stats --json
    [ "$(json_field guests_pending)" = 64 ] || { CASE_WHY="guests_pending $(json_field guests_pending)"; return 1; }
    local ids; ids=$(seq "$(echo $STARTED | cut -d' ' -f1)" $(( $(echo $STARTED | cut -d' ' -f1) + 65 )))
    ctl stop $ids
    expect_ctl_rc 0 "stop all 66" && expect_stat guests_pending 0 && expect_stat partitions_free $FREE
}

start_refuses_what_config_refuses() {
    need_boot || return 1
    snap_before
    ctl start churn.elf --name $'evil\nmayfly: guest 1 forged' --args forever
    expect_ctl_rc 1 "a name with a newline" && expect_same_state "newline name" || return 1
    ctl start churn.elf --name esc --args $'forever \e[2J'
    expect_ctl_rc 1 "args with an escape byte" && expect_same_state "escape args" || return 1
    ctl start churn.elf --name twice --args "forever ip=10.0.0.9" --net lan --net lan
    expect_ctl_rc 1 "the same switch twice" && expect_err "named twice" &&
    expect_same_state "the same switch twice" || return 1
    expect_no_line 'forged'
}

start_needs_its_ports() {
    # 64 ports for control-started guests: 17 instances with 4 ports each
    # would need 68 and are refused as a whole; 16 fit.
    need_boot || return 1
    snap_before
    ctl start churn.elf --name netted --class wide --args "forever ip=10.0.1.1+" --count 17 \
        --net lan --net s2 --net s3 --net s4
    expect_ctl_rc 1 "17 instances with 4 ports" && expect_err 'need 68 network ports' &&
    expect_same_state "17 instances with 4 ports" || return 1
    start_ok churn.elf --name netted --class wide --args "forever ip=10.0.1.1+" --count 16 \
        --net lan --net s2 --net s3 --net s4 || return 1
    local ids=$STARTED
    [ "$(echo $ids | wc -w)" = 16 ] || { CASE_WHY="started '$ids'"; return 1; }
    ctl stop $ids
    expect_ctl_rc 0 "stop $ids" && expect_stat partitions_free $FREE &&
    expect_no_line 'slot [0-9]+ left empty|not started: no free network port'
}

# A START while a config line's long count= waits for the one partition:
# the config's lines and the control channel's take turns at each free
# partition, so the started instance runs after the config instance in
# the partition now ends, not after the last of the config's 400 (20 ms
# each). Judged from the log: when it started, most of the config's
# instances had still to start. A boot of its own.
start_takes_turns_with_config() {
    control_boot start_turns 'partition only 2M x 1
guest churn image=churn.elf count=400 timeout=20 args="forever"
control com2 store=4M' "$G/churn.elf" || { CASE_WHY=$BOOT_WHY; return 1; }
    CASE_DIR=$BOOT_DIR
    start_ok churn.elf --name asked --timeout-ms 20 --args "forever" && wait_gone asked.0 ||
        return 1
    control_shutdown
    local before
    before=$(awk '/ asked\.0 started in partition/ { print n + 0; exit } / churn\.[0-9]+ started in partition/ { n++ }' \
        "$CASE_DIR/serial.log")
    [ -n "$before" ] && [ "$before" -lt 300 ] && return 0
    CASE_WHY="asked.0 started after ${before:-(never)} of the config's 400 instances; expected it to take its turn at the next free partition"
    return 1
}

# A partition freed while its class has another clean one goes back
# dirty and is zeroed at idle, neither by its teardown nor by the next
# launch: the scanner, started into the secret-writer's partition once
# the machine has idled (the one zeroed last is handed out first), must
# find none of its bytes, and the report must say the idle slices zeroed
# it (the boot's two partitions and the secret's) and nothing else did.
# A boot of its own.
idle_zeroing_between_tenants() {
    local part
    control_boot idle_zeroing 'partition only 2M x 2
control com2 store=4M' || { CASE_WHY=$BOOT_WHY; return 1; }
    CASE_DIR=$BOOT_DIR
    ctl load "$G/evil.elf"
    expect_ctl_rc 0 "load evil.elf" || return 1
    start_ok evil.elf --name secret --args "secret" && wait_gone secret.0 &&
    start_ok evil.elf --name scan --args "scan" && wait_gone scan.0 || return 1
    control_shutdown
    part=$(sed -nE 's/^mayfly: guest [0-9]+ secret\.0 started in partition (only\/[0-9]+) .*/\1/p' \
        "$CASE_DIR/serial.log")
    [ -n "$part" ] || { CASE_WHY="no start line for secret.0"; return 1; }
    expect_line '^\[secret\.0\] evil: secret: wrote [1-9]' &&
    expect_line "^mayfly: guest [0-9]+ scan\\.0 started in partition $part " &&
    expect_line '^\[scan\.0\] scan: 0 words of the pattern found' &&
    expect_line '^mayfly: 2 teardowns \(end to partition free\): 2 left it dirty, [0-9]+ ticks on average; 0 zeroed it ' &&
    grep -E '^mayfly: [0-9]+ KiB zeroed at idle in ' "$CASE_DIR/serial.log" | tail -1 |
        grep -qE '^mayfly: 6144 KiB zeroed at idle in 24 slices, [0-9]+ ticks per MiB; 0 launches zeroed 0 KiB' ||
        { CASE_WHY="the last idle-zeroing line is not 6144 KiB with no launch zeroing: $(grep -E 'zeroed at idle' "$CASE_DIR/serial.log" | tail -1)"; return 1; }
    expect_no_line 'panic|resource check .*WRONG'
}

trap cleanup EXIT
SOCK_DIR=$(mktemp -d /tmp/mflc.XXXXXX)
why=$(missing_tools)
[ -n "$why" ] || [ -f "$G/churn.elf" ] || why="$G/churn.elf (run make)"
[ -n "$why" ] || [ -f "$G/evil.elf" ] || why="$G/evil.elf (run make)"
if [ -n "$why" ]; then
    echo "FAIL: lifecycle_control: $why not found"
    end_of_script
fi
run_case lc_boot
LC_DIR=$BOOT_DIR
for check in stop_waiting_and_queued_guests_in_rounds stop_spinner_takes_effect \
    pending_instances_listed_and_cancelled pending_work_is_bounded \
    start_refuses_what_config_refuses start_needs_its_ports; do
    CASE_DIR=$LC_DIR run_check "$check" "$LC_DIR"
done
control_shutdown
run_case start_takes_turns_with_config
run_case idle_zeroing_between_tenants
end_of_script
