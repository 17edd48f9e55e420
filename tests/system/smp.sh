# SMP (issue 12; Bochs, tigerlake, and QEMU TCG): every CPU the MADT lists
# comes up and runs guests, 'cpus N' limits how many are started, guests
# are spread over the CPUs (or pinned with cpu=), run in parallel, talk
# across CPUs, stay isolated from a hostile neighbour on another CPU, and
# can be stopped over the control channel wherever they run. SMP in Bochs
# is slow (every CPU is emulated, halted ones too): few, short boots with
# several checks each, and only here does count go above 1.
source "$(dirname "$0")/lib.sh"
G=$MAYFLY_BUILD/guests

SMP_CONF='partition small 2M x 2
guest hello image=hello.elf args="smp"
guest count image=count.elf args="200"
poweroff when-idle'

# expect_aps N: CPUs 1..N-1 each log once that they run guests, and no
# other CPU does. (The console ends lines with CR LF; emu.sh strips the
# CRs when the run ends, mfctl run as it copies the console: the patterns
# allow a CR all the same.)
expect_aps() {
    local i
    for ((i = 1; i < $1; i++)); do
        expect_count 1 "^mayfly: CPU $i runs guests[[:cntrl:]]?$" || return 1
    done
    expect_count $(( $1 - 1 )) '^mayfly: CPU [0-9]+ runs guests[[:cntrl:]]?$'
}

# The guests finish (wherever they were placed) and the machine powers off.
guests_finish() {
    expect_line '^\[hello.0\] hello from hello.0 \(guest 1\): smp$' &&
    expect_line '^mayfly: guest 1 hello.0 exited with status 0$' &&
    expect_line '^mayfly: guest 2 count.0 exited with status 0$' &&
    expect_line '^mayfly: all guests have ended: 2 started, 2 exited 0, 0 failed, 0 killed' &&
    expect_no_line 'panic' &&
    expect_poweroff 0
}

smp_bochs_2_cpus() {
    MAYFLY_EMULATOR=bochs BOCHS_CPUS=2 boot_bochs tigerlake 128 "$SMP_CONF" "$G/hello.elf" \
        "$G/count.elf" &&
    expect_line '^mayfly: CPUs: 2 in the MADT \(APIC ids 0 1\), 2 up$' &&
    expect_aps 2 &&
    guests_finish
}

# 'cpus 8' on a 4-CPU machine: all four, and the line says the config
# asked for more.
smp_bochs_4_cpus() {
    MAYFLY_EMULATOR=bochs BOCHS_CPUS=4 boot_bochs tigerlake 128 "cpus 8
$SMP_CONF" "$G/hello.elf" "$G/count.elf" &&
    expect_line '^mayfly: CPUs: 4 in the MADT \(APIC ids 0 1 2 3\), 4 up \(cpus 8 in mayfly.conf, but the MADT lists 4\)$' &&
    expect_aps 4 &&
    guests_finish
}

# 'cpus 1' on a 2-CPU machine: only the boot CPU, and the line says why.
smp_bochs_cpus_1() {
    MAYFLY_EMULATOR=bochs BOCHS_CPUS=2 boot_bochs tigerlake 128 "cpus 1
$SMP_CONF" "$G/hello.elf" "$G/count.elf" &&
    expect_line '^mayfly: CPUs: 2 in the MADT \(APIC ids 0 1\), 1 up \(cpus 1 in mayfly.conf\)$' &&
    expect_aps 1 &&
    guests_finish
}

# An AP that never checks in (the test hook selftest=ap-silent sends the
# first AP its INIT but no start-up IPI): named after the time-out, and
# the next AP and the guests still start.
smp_bochs_ap_silent() {
    MAYFLY_EMULATOR=bochs BOCHS_CPUS=3 MAYFLY_CMDLINE=selftest=ap-silent \
        boot_bochs tigerlake 128 "$SMP_CONF" "$G/hello.elf" "$G/count.elf" &&
    expect_line '^mayfly: CPUs: 3 in the MADT \(APIC ids 0 1 2\), 2 up; APIC id 1 did not start$' &&
    expect_aps 2 &&
    guests_finish
}

# QEMU's software CPU (AMD-V backend), -smp 2: its MP table lists only
# the boot CPU, the MADT both.
smp_qemu_2_cpus() {
    MAYFLY_EMULATOR=qemu QEMU_SMP=2 boot_bochs tigerlake 128 "$SMP_CONF" "$G/hello.elf" \
        "$G/count.elf" &&
    expect_line '^mayfly: CPUs: 2 in the MADT \(APIC ids 0 1\), 2 up$' &&
    expect_aps 2 &&
    guests_finish
}

# The UEFI image under OVMF (QEMU's software CPU, AMD-V), -smp 2: the
# firmware's MADT, the trampoline below 1 MiB in UEFI's memory map, and
# guests on both CPUs.
smp_uefi_2_cpus() {
    MAYFLY_EMULATOR=qemu-uefi QEMU_SMP=2 boot_bochs tigerlake 128 "$SMP_CONF" "$G/hello.elf" \
        "$G/count.elf" &&
    expect_line '^mayfly: Mayfly microhypervisor, uefi entry' &&
    expect_line '^mayfly: CPUs: 2 in the MADT \(APIC ids 0 1\), 2 up$' &&
    expect_aps 2 &&
    expect_line '^mayfly: guest 2 count\.0 started in partition small/1 .* on CPU 1$' &&
    guests_finish
}

# ---- N CPU-bound guests on N CPUs -----------------------------------------

# Each burn job takes about half a quantum (20000 rounds, some 5 ms at
# Bochs' 50 MHz TSC), so on one CPU the jobs would run one after another
# without their intervals touching: the overlap seen below is only
# possible when they ran at the same time on different CPUs.
BURN_ROUNDS=20000

burn_boot() {   # burn_boot N: N burn jobs, placed by the hypervisor, on N CPUs
    MAYFLY_EMULATOR=bochs BOCHS_CPUS=$1 boot_bochs tigerlake 128 "partition small 2M x $1
guest burn image=burn.elf count=$1 args=\"$BURN_ROUNDS\"
poweroff when-idle" "$G/burn.elf" &&
    expect_no_line 'panic' &&
    expect_line "^mayfly: all guests have ended: $1 started, $1 exited 0, 0 failed, 0 killed; at most $1 ran at once$" &&
    expect_poweroff 0
}

# burns_ran_in_parallel N: the N jobs started on N distinct CPUs, each
# finished with the same result, and every pair of [start, end] TSC
# intervals intersects. Prints the span of all N against the sum of
# their durations (the time they would take on one CPU).
burns_ran_in_parallel() {
    local n=$1 cpus out
    cpus=$(sed -nE 's/^mayfly: guest [0-9]+ burn\.[0-9]+ started in .* on CPU ([0-9]+)$/\1/p' \
           "$CASE_DIR/serial.log" | sort -u | wc -l)
    [ "$cpus" = "$n" ] ||
        { CASE_WHY="the $n burn jobs started on $cpus distinct CPUs, expected $n"; return 1; }
    out=$(python3 - "$CASE_DIR/serial.log" "$n" "$BURN_ROUNDS" <<'PY'
import re, sys
log, n, rounds = open(sys.argv[1]).read(), int(sys.argv[2]), sys.argv[3]
start = dict(re.findall(r'^\[burn\.(\d+)\] burn: start tsc (\d+)$', log, re.M))
end = {k: (t, r) for k, t, r in re.findall(
    r'^\[burn\.(\d+)\] burn: end tsc (\d+) rounds ' + rounds + r' result ([0-9a-f]+)$', log, re.M)}
if len(start) != n or len(end) != n:
    sys.exit("expected %d start and end stamps, found %d and %d" % (n, len(start), len(end)))
if len({r for _, r in end.values()}) != 1:
    sys.exit("the jobs disagree on the result: %s" % sorted(end.items()))
iv = {k: (int(start[k]), int(end[k][0])) for k in start}
for a in iv:
    for b in iv:
        if a < b and (iv[a][1] < iv[b][0] or iv[b][1] < iv[a][0]):
            sys.exit("burn.%s %s and burn.%s %s did not overlap" % (a, iv[a], b, iv[b]))
span = max(e for _, e in iv.values()) - min(s for s, _ in iv.values())
total = sum(e - s for s, e in iv.values())
print("%d jobs on %d CPUs: span %d TSC ticks, sum of durations %d, speed-up %.2f"
      % (n, n, span, total, total / span))
PY
) || { CASE_WHY=$out; return 1; }
    echo "    smp: $out"
}

smp_bochs_2_cpus_parallel() {
    burn_boot 2 && expect_aps 2 && burns_ran_in_parallel 2
}

smp_bochs_4_cpus_parallel() {
    burn_boot 4 && expect_aps 4 && burns_ran_in_parallel 4
}

# ---- a ping/echo pair across CPUs; a pin to a CPU that is not up -----------

# The pair is pinned apart (ping on the boot CPU, echo on CPU 1), so every
# datagram crosses CPUs through the switch; a third line pins to CPU 2 of
# a 2-CPU machine and is refused alone.
smp_bochs_cross_cpu_udp() {
    MAYFLY_EMULATOR=bochs BOCHS_CPUS=2 boot_bochs tigerlake 128 'partition small 2M x 4
guest echo image=udp-echo.elf net=lan0 cpu=1 args="ip=10.0.0.1 idle=3000"
guest ping image=udp-ping.elf net=lan0 cpu=0 args="ip=10.0.0.2 peer=10.0.0.1 count=1000"
guest far image=hello.elf cpu=2 args="never"
poweroff when-idle' "$G/udp-echo.elf" "$G/udp-ping.elf" "$G/hello.elf" &&
    expect_no_line 'panic' && expect_aps 2 &&
    expect_guest echo.0 'started in partition small/[0-9]+ at 0x[0-9a-f]+ \(2 MiB\) on CPU 1$' &&
    expect_guest ping.0 'started in partition small/[0-9]+ at 0x[0-9a-f]+ \(2 MiB\) on CPU 0$' &&
    expect_line '^\[ping\.0\] udp-ping: 1000/1000 replies intact, rtt min/avg/max [0-9]+/[0-9]+/[0-9]+ ticks$' &&
    expect_line '^\[echo\.0\] udp-echo: echoed 1000 datagrams$' &&
    expect_guest ping.0 'exited with status 0$' &&
    expect_guest echo.0 'exited with status 0$' &&
    expect_line '^mayfly: guest far: cpu=2, but only 2 CPUs run guests here \(cpu=0 to cpu=1\): pin it to one of those or drop cpu=; not started$' &&
    expect_no_line '^\[far\.0\]|far\.0 started' &&
    expect_line '^mayfly: all guests have ended: 2 started, 2 exited 0, 0 failed, 0 killed'
}

# ---- a hostile guest on CPU 1 beside a victim on CPU 0 ---------------------

# On CPU 1: a spinner (killed by its time limit), a guest that faults, and
# one that floods its TX ring towards a sink (all on lan1). On CPU 0: a
# checked CPU-bound job and a ping/echo pair on lan0. The victims must
# finish correctly while the spinner is still alive.
ISO_CONF='partition small 2M x 8
guest victim image=count.elf cpu=0
guest vecho image=udp-echo.elf net=lan0 cpu=0 args="ip=10.0.0.1 idle=300"
guest vping image=udp-ping.elf net=lan0 cpu=0 args="ip=10.0.0.2 peer=10.0.0.1 count=100"
guest spin image=evil.elf cpu=1 timeout=1500 args="spin"
guest fault image=evil.elf cpu=1 args="ud2"
guest sink image=udp-echo.elf net=lan1 cpu=1 args="ip=10.0.1.1 idle=300"
guest flood image=flood.elf net=lan1 cpu=1 args="ip=10.0.1.2 peer=10.0.1.1 count=3000"
poweroff when-idle'
ISO=$SYSTEST_OUT/smp_bochs_isolation_boot

smp_bochs_isolation_boot() {
    MAYFLY_EMULATOR=bochs BOCHS_CPUS=2 boot_bochs tigerlake 128 "$ISO_CONF" "$G/count.elf" \
        "$G/udp-echo.elf" "$G/udp-ping.elf" "$G/evil.elf" "$G/flood.elf" &&
    expect_no_line 'panic' && expect_aps 2 &&
    expect_line '^mayfly: all guests have ended: 7 started, 5 exited 0, 0 failed, 2 killed' &&
    expect_poweroff 1
}

# line_no REGEX: the number of the first serial log line matching REGEX.
line_no() {
    grep -nE -- "$1" "$CASE_DIR/serial.log" | head -1 | cut -d: -f1
}

placed_as_pinned() {
    local g
    for g in victim vecho vping; do
        expect_guest "$g.0" 'started in .* on CPU 0$' || return 1
    done
    for g in spin fault sink flood; do
        expect_guest "$g.0" 'started in .* on CPU 1$' || return 1
    done
}

cpu0_guests_finish_while_spinner_runs() {
    expect_line '^\[victim\.0\] count victim\.0 guest [0-9]+: primes below 20000 = 2262 ok$' &&
    expect_guest victim.0 'exited with status 0$' &&
    expect_line '^\[vping\.0\] udp-ping: 100/100 replies intact' &&
    expect_guest vping.0 'exited with status 0$' &&
    expect_guest vecho.0 'exited with status 0$' &&
    expect_guest spin.0 'killed: time limit of 1500 ms reached$' || return 1
    local kill g at
    kill=$(line_no '^mayfly: guest [0-9]+ spin\.0 killed: time limit')
    for g in victim vping vecho; do
        at=$(line_no "^mayfly: guest [0-9]+ $g\\.0 exited with status 0$")
        [ "$at" -lt "$kill" ] ||
            { CASE_WHY="$g.0 ended (log line $at) after the spinner was killed (line $kill)"; return 1; }
    done
}

faulting_guest_killed_alone() {
    expect_guest fault.0 'killed: guest exception #UD' &&
    expect_count 2 '^mayfly: guest [0-9]+ [a-z]+\.0 killed' &&
    expect_count 1 '^mayfly: guest [0-9]+ [a-z]+\.0 killed: guest exception'
}

ring_flood_ends_alone() {
    expect_line '^\[flood\.0\] flood: sent 3000 frames' &&
    expect_guest flood.0 'exited with status 0$' &&
    expect_guest sink.0 'exited with status 0$'
}

# ---- mfctl stop of a guest on another CPU ----------------------------------

# A 2-CPU Bochs with the control channel, booted the way control.sh does
# it: `mfctl run --bochs --cpus 2 --control SOCKET` in the background, on
# the disk `mfctl image` makes of the config and the guest. The machine
# stays up (control on): the case stops mfctl run (which stops Bochs and
# removes the socket) when done.
CTL_PID=
CTL_RUN_SECONDS=${CTL_RUN_SECONDS:-600}   # the safety net; the case ends it sooner
CTL_BOOT_WAIT=${CTL_BOOT_WAIT:-240}       # seconds for the control server, the AP and the spinner

ctl_stop_boot() {
    [ -n "$CTL_PID" ] && kill -TERM "$CTL_PID" 2>/dev/null && wait "$CTL_PID" 2>/dev/null
    CTL_PID=
    [ -n "${SOCK_DIR:-}" ] && rm -rf "$SOCK_DIR"
}

# ctl_stop_start CONFIG_TEXT IMAGE...: the image, then mfctl run in the
# background; waits until the control server listens (and its socket is
# there), CPU 1 runs guests and the spinner loops. CASE_WHY says why not.
ctl_stop_start() {
    local conf=$1 i; shift
    printf '%s\n' "$conf" > "$CASE_DIR/mayfly.conf"
    "$MAYFLY_BUILD/mfctl" image -c "$CASE_DIR/mayfly.conf" -o "$CASE_DIR/mayfly.img" "$@" \
        >"$CASE_DIR/image.log" 2>&1 ||
        { CASE_WHY="mfctl image failed: $(tail -2 "$CASE_DIR/image.log" | tr '\n' ' ')"; return 1; }
    SOCK_DIR=$(mktemp -d /tmp/mfsmp.XXXXXX)   # socket paths must be short
    SOCK=$SOCK_DIR/ctl.sock
    : > "$CASE_DIR/serial.log"
    "$MAYFLY_BUILD/mfctl" run "$CASE_DIR/mayfly.img" --bochs --cpus 2 --memory 128 \
        --control "$SOCK" --timeout "$CTL_RUN_SECONDS" >"$CASE_DIR/serial.log" 2>"$CASE_DIR/emu.log" &
    CTL_PID=$!
    for ((i = 0; i < CTL_BOOT_WAIT * 5; i++)); do
        [ -S "$SOCK" ] && grep -q '^mayfly: control: listening on COM2' "$CASE_DIR/serial.log" &&
            grep -q '^\[spin\.0\] evil: spin: looping forever' "$CASE_DIR/serial.log" &&
            grep -q '^mayfly: CPU 1 runs guests' "$CASE_DIR/serial.log" && return 0
        kill -0 "$CTL_PID" 2>/dev/null ||
            { CASE_WHY="mfctl run ended before the spinner ran: $(tail -2 "$CASE_DIR/emu.log" | tr '\n' ' ')"; return 1; }
        sleep 0.2
    done
    CASE_WHY="within $CTL_BOOT_WAIT s: no control server, CPU 1 or looping spinner in the log"
    return 1
}

# mfctl COMMAND ARGS...: against this boot; stdout in out, status in CTL_RC.
smp_ctl() {
    local cmd=$1; shift
    "$MAYFLY_BUILD/mfctl" "$cmd" --control "$SOCK" --timeout 60 "$@" >"$CASE_DIR/out" 2>"$CASE_DIR/err"
    CTL_RC=$?
    { echo "\$ mfctl $cmd $* -> $CTL_RC"; cat "$CASE_DIR/out" "$CASE_DIR/err"; } >> "$CASE_DIR/mfctl.log"
}

smp_json() {   # smp_json PYTHON-EXPRESSION-OVER-j: evaluated over mfctl's JSON output
    python3 -c 'import json, sys; j = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' \
        "$CASE_DIR/out" "$1" 2>/dev/null
}

# The spinner is pinned to CPU 1, where it never yields; the stop comes in
# on the boot CPU, which must ask CPU 1 to end it. The reply must come
# only once it is gone: ps must not list it right after and its
# partition must be free again; the kill line comes to the log (the
# console's transmit ring may still hold it when the reply arrives).
smp_bochs_ctl_stop_other_cpu() {
    local rc=1 id state
    ctl_stop_start 'partition small 2M x 2
control com2 store=2M
guest spin image=evil.elf cpu=1 args="spin"' "$G/evil.elf" && smp_bochs_ctl_checks && rc=0
    ctl_stop_boot
    return $rc
}

smp_bochs_ctl_checks() {
    expect_line '^mayfly: control: listening on COM2' &&
    expect_aps 2 &&
    expect_guest spin.0 'started in partition small/[0-9]+ at 0x[0-9a-f]+ \(2 MiB\) on CPU 1$' || return 1
    id=$(sed -nE 's/^mayfly: guest ([0-9]+) spin\.0 started .*/\1/p' "$CASE_DIR/serial.log")
    smp_ctl ps --json
    state=$(smp_json "[g['state'] for g in j if g['id'] == $id]")
    [ "$CTL_RC" = 0 ] && [ "$state" = "['running']" ] ||
        { CASE_WHY="ps before the stop: rc $CTL_RC, spin.0 state $state"; return 1; }
    smp_ctl stop "$id"
    [ "$CTL_RC" = 0 ] || { CASE_WHY="mfctl stop $id exited $CTL_RC: $(tail -2 "$CASE_DIR/err")"; return 1; }
    expect_line_soon "^mayfly: guest $id spin\\.0 killed: stopped over the control channel$" || return 1
    smp_ctl ps --json
    state=$(smp_json "[g['id'] for g in j if g['id'] == $id]")
    [ "$CTL_RC" = 0 ] && [ "$state" = "[]" ] ||
        { CASE_WHY="ps after the stop: rc $CTL_RC, spin.0 still listed: $state"; return 1; }
    smp_ctl stats --json
    state=$(smp_json "(j['partitions_free'], j['guests_running'])")
    [ "$CTL_RC" = 0 ] && [ "$state" = "(2, 0)" ] ||
        { CASE_WHY="stats after the stop: rc $CTL_RC, (partitions_free, guests_running) = $state, expected (2, 0)"; return 1; }
    expect_no_line 'panic'
}

# ---- 200 guests over 4 CPUs ------------------------------------------------

# 200 instances of a guest that exits at once, through 8 partitions on 4
# CPUs: each start takes a partition another just gave back, on whichever
# CPU has the fewest guests. The counts must add up and every CPU must
# have run some.
smp_bochs_4_cpus_200_guests() {
    MAYFLY_EMULATOR=bochs BOCHS_CPUS=4 boot_bochs tigerlake 128 'partition small 2M x 8
guest tiny image=evil.elf count=200 args="exit 0"
poweroff when-idle' "$G/evil.elf" &&
    expect_no_line 'panic|never found a partition|could not be started' && expect_aps 4 &&
    expect_count 200 '^mayfly: guest [0-9]+ tiny\.[0-9]+ exited with status 0$' &&
    expect_line '^mayfly: all guests have ended: 200 started, 200 exited 0, 0 failed, 0 killed' &&
    expect_poweroff 0 || return 1
    local cpu n
    for cpu in 0 1 2 3; do
        n=$(grep -cE "^mayfly: guest [0-9]+ tiny\.[0-9]+ started in .* on CPU $cpu$" "$CASE_DIR/serial.log")
        [ "$n" -gt 0 ] || { CASE_WHY="no tiny instance started on CPU $cpu"; return 1; }
    done
}

run_case smp_bochs_2_cpus
run_case smp_bochs_4_cpus
run_case smp_bochs_cpus_1
run_case smp_bochs_ap_silent
run_case smp_qemu_2_cpus
run_case smp_uefi_2_cpus
run_case smp_bochs_2_cpus_parallel
run_case smp_bochs_4_cpus_parallel
run_case smp_bochs_cross_cpu_udp
run_case smp_bochs_isolation_boot
for check in placed_as_pinned cpu0_guests_finish_while_spinner_runs faulting_guest_killed_alone \
    ring_flood_ends_alone; do
    run_check "$check" "$ISO"
done
run_case smp_bochs_ctl_stop_other_cpu
run_case smp_bochs_4_cpus_200_guests
end_of_script
