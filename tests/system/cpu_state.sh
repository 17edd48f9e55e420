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
#   host_interrupts_while_guests_run  boot option selftest=irq: self-IPIs
#                                and self-NMIs while guests run
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

archcheck_clean() {
    expect_line '^\[checker\.0\] evil: archcheck: CR2 = 0x0 \(want 0x0\) ok$' &&
    expect_line '^\[checker\.0\] evil: archcheck: KERNEL_GS_BASE = 0x0 \(want 0x0\) ok$' &&
    expect_line '^\[checker\.0\] evil: archcheck: FS base = 0x0 \(want 0x0\) ok$' &&
    expect_line '^\[checker\.0\] evil: archcheck: GS base = 0x0 \(want 0x0\) ok$' &&
    expect_line '^\[checker\.0\] evil: archcheck: x87 control word = 0x37f \(want 0x37f\) ok$' &&
    expect_line '^\[checker\.0\] evil: archcheck: MXCSR = 0x1f80 \(want 0x1f80\) ok$' &&
    expect_line '^\[checker\.0\] evil: archcheck: XMM0-XMM15 registers not as expected = 0x0 ' &&
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
run_case host_interrupts_while_guests_run
