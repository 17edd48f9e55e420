# Application processors (issue 12, first step; Bochs, tigerlake, and QEMU
# TCG): every CPU the MADT lists comes up and parks, guests still run on
# the boot CPU, and 'cpus N' limits how many are started. SMP in Bochs is
# slow (every CPU is emulated, halted ones too): few, short cases, and
# only here does count go above 1.
source "$(dirname "$0")/lib.sh"
G=$MAYFLY_BUILD/guests

SMP_CONF='partition small 2M x 2
guest hello image=hello.elf args="smp"
guest count image=count.elf args="200"
poweroff when-idle'

# The guests finish on the boot CPU with the APs parked beside them.
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
    guests_finish
}

# 'cpus 8' on a 4-CPU machine: all four, and the line says the config
# asked for more.
smp_bochs_4_cpus() {
    MAYFLY_EMULATOR=bochs BOCHS_CPUS=4 boot_bochs tigerlake 128 "cpus 8
$SMP_CONF" "$G/hello.elf" "$G/count.elf" &&
    expect_line '^mayfly: CPUs: 4 in the MADT \(APIC ids 0 1 2 3\), 4 up \(cpus 8 in mayfly.conf, but the MADT lists 4\)$' &&
    guests_finish
}

# 'cpus 1' on a 2-CPU machine: only the boot CPU, and the line says why.
smp_bochs_cpus_1() {
    MAYFLY_EMULATOR=bochs BOCHS_CPUS=2 boot_bochs tigerlake 128 "cpus 1
$SMP_CONF" "$G/hello.elf" "$G/count.elf" &&
    expect_line '^mayfly: CPUs: 2 in the MADT \(APIC ids 0 1\), 1 up \(cpus 1 in mayfly.conf\)$' &&
    guests_finish
}

# An AP that never checks in (the test hook selftest=ap-silent sends the
# first AP its INIT but no start-up IPI): named after the time-out, and
# the next AP and the guests still start.
smp_bochs_ap_silent() {
    MAYFLY_EMULATOR=bochs BOCHS_CPUS=3 MAYFLY_CMDLINE=selftest=ap-silent \
        boot_bochs tigerlake 128 "$SMP_CONF" "$G/hello.elf" "$G/count.elf" &&
    expect_line '^mayfly: CPUs: 3 in the MADT \(APIC ids 0 1 2\), 2 up; APIC id 1 did not start$' &&
    guests_finish
}

# QEMU's software CPU (AMD-V backend), -smp 2: its MP table lists only
# the boot CPU, the MADT both.
smp_qemu_2_cpus() {
    MAYFLY_EMULATOR=qemu QEMU_SMP=2 boot_bochs tigerlake 128 "$SMP_CONF" "$G/hello.elf" \
        "$G/count.elf" &&
    expect_line '^mayfly: CPUs: 2 in the MADT \(APIC ids 0 1\), 2 up$' &&
    guests_finish
}

run_case smp_bochs_2_cpus
run_case smp_bochs_4_cpus
run_case smp_bochs_cpus_1
run_case smp_bochs_ap_silent
run_case smp_qemu_2_cpus
