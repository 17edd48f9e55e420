# The guest lifecycle and the scheduler under hostile timing (Bochs,
# tigerlake): a notification that arrives just after a waiter's deadline
# woke it, guests that hold the CPU through hypercalls or flood the
# console beside a sleeper that measures its own lateness, and waits
# with no deadline or one far away.
source "$(dirname "$0")/lib.sh"
G=$MAYFLY_BUILD/guests

# lateness_us worst|average: what the sleeper printed.
lateness_us() {
    sed -nE "s/.*churn: sleeper: .* average lateness ([0-9]+) us, worst lateness ([0-9]+) us\$/\\$([ "$1" = worst ] && echo 2 || echo 1)/p" \
        "$CASE_DIR/serial.log" | tail -1
}

# expect_lateness_below worst|average US: the sleeper ran and was less late than US.
expect_lateness_below() {
    local late; late=$(lateness_us "$1")
    [ -n "$late" ] || { CASE_WHY="the sleeper printed no lateness"; return 1; }
    [ "$late" -lt "$2" ] && return 0
    CASE_WHY="the sleeper's $1 lateness was $late us, not below $2 us"
    return 1
}

notify_after_deadline_queues_once() {
    # spinsend spins past a quantum and sends right after being preempted,
    # when the waiter's 1 ms deadline has just woken it: the frame's
    # notification must find it ready, not queue it a second time.
    boot_bochs tigerlake 256 'partition small 2M x 4
guest waiter image=churn.elf net=lan args="waiter 1 300 ip=10.0.0.1"
guest sender image=churn.elf net=lan args="spinsend 12 25 ip=10.0.0.2"
poweroff when-idle' "$G/churn.elf" &&
    expect_no_line 'panic' &&
    expect_line '^\[waiter\.0\] churn: waiter: 300 waits, [0-9]+ timed out, [0-9]+ with a datagram, [1-9][0-9]* frames seen$' &&
    expect_line '^\[sender\.0\] churn: spinsend: 25 frames sent$' &&
    expect_guest waiter.0 'exited with status 0$' &&
    expect_guest sender.0 'exited with status 0$' &&
    expect_poweroff 0
}

hypercalls_and_console_count_against_the_quantum() {
    # Three guests hold the CPU through the hypervisor (null hypercalls,
    # empty-ring kicks, console lines without end) and one writes 4096
    # newlines at a time once the sleeper is under way, beside a CPU-bound
    # victim. Round robin then bounds the sleeper's lateness by the five
    # others' quanta (10 ms each) plus slack: 100 ms; before, each of
    # those writes stalled the CPU for seconds of serial output (21 s
    # measured). The victim's one line gets through the flood.
    boot_bochs tigerlake 256 'partition small 2M x 8
guest sleeper image=churn.elf args="sleeper 10 30"
guest hcloop image=churn.elf args="hcloop" timeout=1500
guest kickloop image=churn.elf net=lan args="kickloop ip=10.0.0.3" timeout=1500
guest conloop image=churn.elf args="conloop" timeout=1500
guest newlines image=churn.elf args="newlines 4 30"
guest victim image=count.elf args="20000"
poweroff when-idle' "$G/churn.elf" "$G/count.elf" &&
    expect_no_line 'panic' &&
    expect_lateness_below worst 100000 &&
    expect_guest sleeper.0 'exited with status 0$' &&
    expect_line '^\[victim\.0\] count victim\.0 guest [0-9]+: primes below 20000 = 2262 ok$' &&
    expect_guest hcloop.0 'killed: time limit of 1500 ms reached$' &&
    expect_guest kickloop.0 'killed: time limit of 1500 ms reached$' &&
    expect_guest conloop.0 'killed: time limit of 1500 ms reached$' &&
    expect_line '^mayfly: guest [0-9]+ conloop\.0: [0-9]+ console lines dropped' &&
    expect_line '^mayfly: guest [0-9]+ newlines\.0: [0-9]+ console lines dropped' &&
    expect_guest newlines.0 'exited with status 0$' &&
    expect_poweroff 1
}

no_deadline_means_forever() {
    # MF_WAIT_FOREVER blocks until the time limit; so does a deadline 2^63
    # ticks away; udp-echo idle=0 (whose deadline is MF_WAIT_FOREVER)
    # blocks instead of polling, so a sleeper beside it is on time.
    boot_bochs tigerlake 256 'partition small 2M x 4
guest forever image=churn.elf args="forever" timeout=300
guest farwait image=churn.elf args="farwait" timeout=300
guest echo image=udp-echo.elf net=lan args="ip=10.0.0.7 idle=0" timeout=600
guest sleeper image=churn.elf args="sleeper 10 30"
poweroff when-idle' "$G/churn.elf" "$G/udp-echo.elf" &&
    expect_no_line 'WRONG' &&
    expect_guest forever.0 'killed: time limit of 300 ms reached$' &&
    expect_guest farwait.0 'killed: time limit of 300 ms reached$' &&
    expect_guest echo.0 'killed: time limit of 600 ms reached$' &&
    expect_lateness_below average 1000 &&
    expect_poweroff 1
}

churn_of_500_instances_in_4_partitions() {
    # 510 instances through 4 partitions: exits, faults and time limits
    # interleaved, each start taking a partition another just gave back.
    # A partition or queue entry lost on any path would leave instances
    # waiting for good ("never found a partition"). The 10 with a port
    # have a pool of 10: a port lost at teardown runs out only at the
    # end, so the hypervisor's resource check must say it.
    boot_bochs tigerlake 256 'partition small 2M x 4
switch lan
guest quick image=evil.elf count=300 args="exit 0"
guest faulty image=evil.elf count=100 args="ud2"
guest slow image=churn.elf count=100 args="forever" timeout=20
guest netted image=evil.elf count=10 args="quiet-exit 0" net=lan
poweroff when-idle' "$G/evil.elf" "$G/churn.elf" &&
    expect_no_line 'panic|never found a partition|could not be started|resource check .*WRONG' &&
    expect_count 300 '^mayfly: guest [0-9]+ quick\.[0-9]+ exited with status 0$' &&
    expect_count 100 '^mayfly: guest [0-9]+ faulty\.[0-9]+ killed: guest exception #UD' &&
    expect_count 100 '^mayfly: guest [0-9]+ slow\.[0-9]+ killed: time limit of 20 ms reached$' &&
    expect_count 10 '^mayfly: guest [0-9]+ netted\.[0-9]+ exited with status 0$' &&
    expect_line '^mayfly: all guests have ended: 510 started, 310 exited 0, 0 failed, 200 killed; at most 4 ran at once$' &&
    expect_line '^mayfly: resource check after 510 guests ended: 4 of 4 partitions free, 0 held; ports 10 free of 10, 0 held; switch slots 0 in use; pool ([0-9]+) of [0-9]+ bytes used \(\1 at boot\): ok$' &&
    expect_poweroff 1
}

run_case notify_after_deadline_queues_once
run_case hypercalls_and_console_count_against_the_quantum
run_case no_deadline_means_forever
run_case churn_of_500_instances_in_4_partitions
end_of_script
