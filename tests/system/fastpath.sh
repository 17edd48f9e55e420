# The null-hypercall fast path (issue 15, docs/architecture.md): both
# backends answer a Mayfly guest's MF_HC_NULL at the VM exit. What must
# hold: the calls it answers are still counted as the guest's hypercalls
# (mfctl ps, exactly), and a guest spinning on them is still preempted and ended
# by its time limit beside a victim that finishes (lifecycle.sh checks
# the lateness such a guest costs others). Runs in Bochs (VT-x) and,
# unless MAYFLY_QEMU=0, under QEMU's software CPU (AMD-V).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/../lib/control.sh"

CONF='partition small 2M x 2
control com2 store=2M'

# bench null 2000 makes 8 x 2000 null hypercalls, then waits: mfctl ps
# must count every one of them (the fast path's among them), and only a
# handful more (its runtime's calls: console, wait).
null_calls_are_counted() {
    need_boot || return 1
    ctl load "$G/bench.elf"
    expect_ctl_rc 0 load || return 1
    ctl start bench.elf --name nulls --count 1 --args "null 2000 600000"
    expect_ctl_rc 0 start || return 1
    local i calls=
    for i in $(seq 60); do
        ctl ps --json
        calls=$(python3 -c 'import json, sys
for e in json.load(open(sys.argv[1])):
    if e["name"].startswith("nulls") and e["state"] == "waiting": print(e["hypercalls"])' \
            "$CASE_DIR/out" 2>/dev/null)
        [ -n "$calls" ] && break
        sleep 0.5
    done
    if [ -z "$calls" ]; then
        CASE_WHY="bench never waited after its null hypercalls: $(cat "$CASE_DIR/out")"
        return 1
    fi
    [ "$calls" -ge 16000 ] && [ "$calls" -le 16020 ] ||
        { CASE_WHY="bench's hypercalls: $calls, expected 16000 and a few (8 x 2000 null calls)"; return 1; }
}

control_cases() {   # control_cases PREFIX
    SOCK_DIR=$(mktemp -d /tmp/mayfly-fast.XXXXXX)
    if wanted "${1}null_calls_are_counted"; then
        control_boot "${1}fastpath" "$CONF"
        run_case "${1}null_calls_are_counted"
        cleanup
    fi
}

# The same guest in a boot of its own, with a time limit, beside a
# CPU-bound victim: it must be ended by the limit, and the victim finish.
spinner_on_null_calls_is_preempted() {
    boot_bochs tigerlake 256 'partition small 2M x 2
guest hc image=churn.elf args="hcloop" timeout=300
guest victim image=count.elf args="20000"
poweroff when-idle' "$G/churn.elf" "$G/count.elf" &&
    expect_guest hc.0 'killed: time limit of 300 ms reached$' &&
    expect_line '^\[victim\.0\] count victim\.0 guest [0-9]+: primes below 20000 = 2262 ok$' &&
    expect_guest victim.0 'exited with status 0$' &&
    expect_poweroff 1
}

# The same checks on AMD-V.
qemu_null_calls_are_counted() { null_calls_are_counted; }
qemu_spinner_on_null_calls_is_preempted() { spinner_on_null_calls_is_preempted; }

run_case spinner_on_null_calls_is_preempted
if [ -n "$(missing_tools)" ]; then
    echo "SKIP: null_calls_are_counted: $(missing_tools) missing"
else
    control_cases ""
fi
if [ "${MAYFLY_QEMU:-1}" != 0 ]; then
    MAYFLY_EMULATOR=qemu SYSTEST_OUT=$SYSTEST_OUT/qemu run_case qemu_spinner_on_null_calls_is_preempted
    [ -z "$(missing_tools)" ] && CONTROL_EMU=--qemu SYSTEST_OUT=$SYSTEST_OUT/qemu control_cases qemu_
fi
end_of_script
