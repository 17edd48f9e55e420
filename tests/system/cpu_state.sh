# CPU state between tenants and host interrupts while guests run (Bochs,
# tigerlake). evil archset loads GPRs, CR2, KERNEL_GS_BASE (GS base +
# SWAPGS), FS/GS base, x87 and SSE with values of its own; evil
# archcheck, run after it, must see a fresh tenant's values in each:
#   same_partition_next_tenant   one partition: archcheck is the next tenant
#   other_partition_next_guest   two partitions: archcheck waits, archset
#                                runs and sleeps, archcheck wakes next
#   saved_state_next_tenant      archset is switched out while alive (its
#                                state saved in its vCPU), ends, and the next
#                                tenant of its partition gets none of it
#   unreachable_state_ends_the_guest  AVX/XCR0, debug registers and MSRs
#                                outside the bitmap end the guest, so no
#                                tenant can plant or read them
#   host_interrupts_while_guests_run  boot option selftest=irq: self-IPIs
#                                and self-NMIs while guests run (VT-x)
# and all again under QEMU (AMD-V), prefixed qemu_.
source "$(dirname "$0")/lib.sh"
G=$MAYFLY_BUILD/guests

SAME_CONF='partition one 2M x 1
guest setter image=evil.elf args="archset"
guest checker image=evil.elf args="archcheck"
poweroff when-idle'

# The checker starts first and sleeps; the setter loads its values and
# sleeps longer; the checker wakes with the setter the last to have run.
# The setter then checks that its own values came back.
OTHER_CONF='partition small 2M x 2
guest checker image=evil.elf args="archcheck 10"
guest setter image=evil.elf args="archset 20"
poweroff when-idle'

# The setter (class b) sleeps while other runs: its x87/SSE, CR2 and
# KERNEL_GS_BASE are saved into its vCPU. It ends; the checker is the
# next tenant of that partition and must start from reset values, not
# from what was saved (the mutation check's kernel_gs_base entry).
SAVED_CONF='partition a 2M x 1
partition b 2M x 1
guest setter image=evil.elf class=b args="archset 20"
guest other image=evil.elf class=a args="archcheck 10"
guest checker image=evil.elf class=b args="archcheck"
poweroff when-idle'

# irqvictim runs with RFLAGS.IF set: Bochs takes an external-interrupt
# exit only from such a guest (hardware from any), and the self-test
# sends its IPIs only before entering one (vmx/irq.c).
IRQ_CONF='partition small 2M x 4
guest victim image=count.elf count=2
guest irqvictim image=evil.elf count=2 args="irq-victim 150"
poweroff when-idle'

# State a guest must not reach at all, so that no tenant can plant it
# for the next one or read what the last one left: AVX's YMM registers
# and XCR0 (CR4.OSXSAVE is clear), the debug registers (MOV DR exits on
# both backends), and every MSR but FS and GS base (the only ones the
# VT-x MSR bitmap and the AMD-V MSRPM let through; KERNEL_GS_BASE is
# reached only by SWAPGS, which archset/archcheck cover). Each guest
DENIED_MSRS='10 48 174 175 176 1d9 277 c0000081 c0000082 c0000083 c0000084 c0000102 c0000103'
unreachable_conf() {
    local n msr
    echo 'partition small 2M x 8'
    echo 'guest avx image=evil.elf args="avx"'
    echo 'guest xsetbv image=evil.elf args="xsetbv"'
    for n in 0 1 2 3 6 7; do
        echo "guest drread$n image=evil.elf args=\"dr-read $n\""
        echo "guest drwrite$n image=evil.elf args=\"dr-write $n\""
    done
    for msr in $DENIED_MSRS; do
        echo "guest wrmsr$msr image=evil.elf args=\"wrmsr 0x$msr\""
        echo "guest rdmsr$msr image=evil.elf args=\"rdmsr 0x$msr\""
    done
    echo 'poweroff when-idle'
}

# One boot, every guest ended by name. With CR4.OSXSAVE clear a VEX
# instruction is #UD; XSETBV is #UD too (which takes priority over its
# VM exit) or, where it exits, refused.
unreachable_state_ends_the_guest() {
    local n msr
    boot_bochs tigerlake 128 "$(unreachable_conf)" "$G/evil.elf" &&
    expect_no_line 'panic' &&
    expect_no_line 'survived' &&
    expect_guest avx.0 'killed: guest exception #UD invalid opcode' &&
    expect_guest xsetbv.0 'killed: (guest exception #UD invalid opcode|XSETBV denied)' || return 1
    for n in 0 1 2 3 6 7; do
        expect_guest "drread$n.0" "killed: MOV from DR$n denied at rip 0x[0-9a-f]+ " &&
        expect_guest "drwrite$n.0" "killed: MOV to DR$n denied at rip 0x[0-9a-f]+ " || return 1
    done
    for msr in $DENIED_MSRS; do
        expect_guest "wrmsr$msr.0" "killed: WRMSR of MSR 0x$msr denied" &&
        expect_guest "rdmsr$msr.0" "killed: RDMSR of MSR 0x$msr denied" || return 1
    done
    expect_poweroff 1
}

archcheck_clean() {
    expect_line '^\[checker\.0\] evil: archcheck: CR2 = 0x0 \(want 0x0\) ok$' &&
    expect_line '^\[checker\.0\] evil: archcheck: KERNEL_GS_BASE = 0x0 \(want 0x0\) ok$' &&
    expect_line '^\[checker\.0\] evil: archcheck: FS base = 0x0 \(want 0x0\) ok$' &&
    expect_line '^\[checker\.0\] evil: archcheck: GS base = 0x0 \(want 0x0\) ok$' &&
    expect_line '^\[checker\.0\] evil: archcheck: x87 control word = 0x37f \(want 0x37f\) ok$' &&
    expect_line '^\[checker\.0\] evil: archcheck: MXCSR = 0x1f80 \(want 0x1f80\) ok$' &&
    expect_line '^\[checker\.0\] evil: archcheck: XMM0-XMM15 registers not as expected = 0x0 ' &&
    expect_line '^\[checker\.0\] evil: archcheck: CR4 = 0x620 \(want 0x620\) ok$' &&
    expect_line '^\[checker\.0\] evil: archcheck: CPUID\.1 ECX XSAVE, OSXSAVE and AVX bits = 0x0 \(want 0x0\) ok$' &&
    expect_line '^\[checker\.0\] evil: archcheck: all clean$' &&
    expect_no_line 'LEAK|WRONG' &&
    expect_guest checker.0 'exited with status 0$'
}

same_partition_next_tenant() {
    boot_bochs tigerlake 128 "$SAME_CONF" "$G/evil.elf" &&
    expect_line '^\[setter\.0\] evil: archset: exiting with the GPRs loaded$' &&
    expect_guest setter.0 'exited with status 0$' &&
    expect_line '^\[checker\.0\] evil: archcheck: r15 at entry = 0x0 ok$' &&
    archcheck_clean &&
    expect_no_line 'panic' &&
    expect_poweroff 0
}

other_partition_next_guest() {
    boot_bochs tigerlake 128 "$OTHER_CONF" "$G/evil.elf" &&
    expect_line '^\[setter\.0\] evil: archset: its own values came back after the sleep$' &&
    expect_guest setter.0 'exited with status 0$' &&
    archcheck_clean &&
    expect_no_line 'panic' &&
    expect_poweroff 0
}

saved_state_next_tenant() {
    boot_bochs tigerlake 128 "$SAVED_CONF" "$G/evil.elf" &&
    expect_line '^\[setter\.0\] evil: archset: its own values came back after the sleep$' &&
    expect_guest setter.0 'exited with status 0$' &&
    expect_guest other.0 'exited with status 0$' &&
    archcheck_clean &&
    expect_no_line 'panic' &&
    expect_poweroff 0
}

# Every self-IPI is taken as exactly one VM exit and handled (an
# interrupt left pending would exit the guest again at every entry until
# its quantum ran out), every self-NMI reaches the host's NMI handler,
# which returns instead of panicking, and the guests finish correctly.
irq_counts_are_sane() {
    local line
    line=$(grep -E '^mayfly: selftest irq: [0-9]+ self-IPIs sent' "$CASE_DIR/serial.log")
    [[ $line =~ ^mayfly:\ selftest\ irq:\ 24\ self-IPIs\ sent,\ 24\ handled,\ in\ 24\ external-interrupt\ exits\;\ 8\ self-NMIs\ sent,\ 8\ handled\ \([0-9]+\ exited\ a\ guest\)\;\ [0-9]+\ VM\ entries$ ]] && return 0
    CASE_WHY="selftest line missing or counts wrong: '$line'"
    return 1
}

host_interrupts_while_guests_run() {
    MAYFLY_CMDLINE=selftest=irq boot_bochs tigerlake 128 "$IRQ_CONF" "$G/count.elf" \
        "$G/evil.elf" &&
    expect_line '^mayfly: selftest irq: self-interrupts before VM entries' &&
    irq_counts_are_sane &&
    expect_count 2 '^\[victim\.[01]\] count victim\.[01] guest [0-9]+: primes below 20000 = 2262 ok$' &&
    expect_count 2 '^\[irqvictim\.[01]\] evil: irq-victim: sum ok$' &&
    expect_guest irqvictim.0 'exited with status 0$' &&
    expect_guest irqvictim.1 'exited with status 0$' &&
    expect_no_line 'panic' &&
    expect_poweroff 0
}

run_case same_partition_next_tenant
run_case other_partition_next_guest
run_case saved_state_next_tenant
run_case unreachable_state_ends_the_guest
if on_qemu_tcg; then
    echo "SKIP: host_interrupts_while_guests_run: the irq self-test is VT-x's (vmx/irq.c)"
else
    run_case host_interrupts_while_guests_run
fi
# The same cases on AMD-V, under QEMU's software CPU (names prefixed
# qemu_; MAYFLY_QEMU=0 leaves them out).
if [ "${MAYFLY_EMULATOR:-bochs}" = bochs ] && [ "${MAYFLY_QEMU:-1}" != 0 ]; then
    MAYFLY_EMULATOR=qemu SYSTEST_OUT=$SYSTEST_OUT/qemu bash "$0" |
        nested_results qemu_ cpu_state.sh
fi
end_of_script
