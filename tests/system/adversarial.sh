# Hostile guests beside victims (Bochs, tigerlake). One boot runs every
# attack at once next to two CPU-bound victims and a sleeper; each check
# below judges one attacker by the hypervisor's log line about it. The
# victims must finish with the correct result and the hypervisor must
# power off cleanly, with status 1 because guests were killed.
source "$(dirname "$0")/lib.sh"
G=$MAYFLY_BUILD/guests
ADV=$SYSTEST_OUT/adversarial_boot

# Layout (deterministic for this config and 512 MiB): the hypervisor
# image and the GRUB modules end below 0x400000, the pool takes
# 0x400000-0xa00000, big/0 and big/1 take 0xa00000-0x2a00000 and small/0
# starts at 0x2a00000. adversarial_boot checks these addresses so the
# "host address" attacks below stay meaningful if the layout changes.
ADV_CONF='partition small 2M x 29
partition big 16M x 2
guest victim image=count.elf class=small count=2
guest sleeper image=sleep.elf class=small args="20 3"
guest pastend image=evil.elf class=small args="past-end"
guest hvimage image=evil.elf class=big args="write 0x100000"
guest otherpart image=evil.elf class=big args="write 0x2a00000"
guest hvpool image=evil.elf class=small args="write 0x400000"
guest topmem image=evil.elf class=small args="write 0x7ffffff000"
guest msr image=evil.elf class=small args="wrmsr 0x1b"
guest efer image=evil.elf class=small args="wrmsr 0xc0000080"
guest fsbase image=evil.elf class=small args="fsbase"
guest outport image=evil.elf class=small args="out 0x80"
guest inport image=evil.elf class=small args="in 0x3f8"
guest cr4vmxe image=evil.elf class=small args="cr4-vmxe"
guest cr4rsvd image=evil.elf class=small args="cr4-reserved"
guest hlt image=evil.elf class=small args="hlt"
guest ud2 image=evil.elf class=small args="ud2"
guest int3 image=evil.elf class=small args="int3"
guest triple image=evil.elf class=small args="triple"
guest hcunknown image=evil.elf class=small args="hc-unknown"
guest hcoutside image=evil.elf class=small args="hc-outside"
guest hcwrap image=evil.elf class=small args="hc-wrap"
guest instant image=evil.elf class=small args="exit 7"
guest caps image=evil.elf class=small args="caps"
guest cpuidpol image=evil.elf class=small args="cpuid-policy"
guest wbinvd image=evil.elf class=small args="wbinvd"
guest invd image=evil.elf class=small args="invd"
guest movdr image=evil.elf class=small args="mov-dr"
guest rdpmc image=evil.elf class=small args="rdpmc"
poweroff when-idle'

# The layout is Bochs' (its BIOS, GRUB, 512 MiB); under QEMU the firmware's
# memory map differs, and every attack address still lies outside the
# attacker's partition, which is what the checks below judge.
layout_is_the_expected_one() {
    [ "${MAYFLY_EMULATOR:-bochs}" != bochs ] && return 0
    expect_line '^mayfly: pool 400000-a00000' &&
    expect_line '^mayfly: partition class big: 16 MiB x 2 at a00000-2a00000' &&
    expect_line '^mayfly: partition class small: 2 MiB x 29 at 2a00000-'
}

adversarial_boot() {
    boot_bochs tigerlake 512 "$ADV_CONF" "$G/count.elf" "$G/sleep.elf" "$G/evil.elf" &&
    layout_is_the_expected_one &&
    expect_no_line 'panic' &&
    expect_poweroff 1
}

victims_finish_correctly() {
    expect_count 2 '^\[victim\.[01]\] count victim\.[01] guest [0-9]+: primes below 20000 = 2262 ok$' &&
    expect_line '^mayfly: guest [0-9]+ victim\.0 exited with status 0$' &&
    expect_line '^mayfly: guest [0-9]+ victim\.1 exited with status 0$' &&
    expect_line '^mayfly: guest [0-9]+ sleeper\.0 exited with status 0$'
}

write_past_partition_end() {
    expect_guest pastend.0 'killed: memory access outside its partition: write at guest-physical 0x200000 '
}
write_to_hypervisor_image_address() {
    # Guest-physical 0x100000 is the guest's own memory, not the host's: the
    # write lands in its partition and the hypervisor carries on.
    expect_guest hvimage.0 'exited with status 2$'
}
write_to_other_partition_address() {
    expect_guest otherpart.0 'killed: memory access outside its partition: write at guest-physical 0x2a00000 '
}
write_to_hypervisor_pool_address() {
    expect_guest hvpool.0 'killed: memory access outside its partition: write at guest-physical 0x400000 '
}
write_to_top_of_physical_space() {
    expect_guest topmem.0 'killed: memory access outside its partition: write at guest-physical 0x7ffffff000 '
}
wrmsr_outside_allowed_set() {
    expect_guest msr.0 'killed: WRMSR of MSR 0x1b denied' &&
    expect_guest efer.0 'killed: WRMSR of MSR 0xc0000080 denied'
}
fs_base_is_allowed() {
    expect_line '^\[fsbase\.0\] evil: fsbase: ok$' && expect_guest fsbase.0 'exited with status 0$'
}
port_io_denied() {
    expect_guest outport.0 'killed: I/O port 0x80 write denied' &&
    expect_guest inport.0 'killed: I/O port 0x3f8 read denied'
}
cr4_writes_denied() {
    expect_guest cr4vmxe.0 'killed: write to CR4 denied' &&
    expect_guest cr4rsvd.0 'killed: write to CR4 denied'
}
hlt_with_interrupts_off_ends_guest() {
    expect_guest hlt.0 'killed: HLT with interrupts off'
}
exceptions_end_guest() {
    expect_guest ud2.0 'killed: guest exception #UD invalid opcode' &&
    expect_guest int3.0 'killed: guest exception #BP breakpoint' &&
    expect_guest triple.0 'killed: guest exception #GP'
}
bad_hypercalls_get_errors() {
    expect_line '^mayfly: guest [0-9]+ hcunknown.0: unknown hypercall 999 \(returned -MF_ENOSYS\)' &&
    expect_guest hcunknown.0 'exited with status 0$' &&
    expect_line '^mayfly: guest [0-9]+ hcoutside.0: console write of 16 bytes at 0x201000 is outside its memory \(returned -MF_EFAULT\)' &&
    expect_guest hcoutside.0 'exited with status 0$' &&
    expect_line '^mayfly: guest [0-9]+ hcwrap.0: console write of 8192 bytes at 0xfffffffffffff000 is outside its memory' &&
    expect_guest hcwrap.0 'exited with status 0$'
}
instant_exit() {
    expect_guest instant.0 'exited with status 7$'
}
capability_misuse_gets_errors() {
    expect_line '^\[caps\.0\] evil: caps empty slot: returned -5 \(want -5\) ok$' &&
    expect_line '^\[caps\.0\] evil: caps out-of-range slot: returned -5 \(want -5\) ok$' &&
    expect_line '^\[caps\.0\] evil: caps wrong type: returned -9 \(want -9\) ok$' &&
    expect_line '^\[caps\.0\] evil: caps wait on console: returned -9 \(want -9\) ok$' &&
    expect_line '^\[caps\.0\] evil: caps missing right: returned -4 \(want -4\) ok$' &&
    expect_line '^\[caps\.0\] evil: caps net on console: returned -9 \(want -9\) ok$' &&
    expect_line '^\[caps\.0\] evil: caps no stray notification: returned 0 \(want 0\) ok$' &&
    expect_no_line 'this must never be printed' &&
    expect_guest caps.0 'exited with status 0$'
}

cpuid_offers_only_usable_features() {
    expect_line '^\[cpuidpol\.0\] evil: cpuid-policy: ok$' &&
    expect_guest cpuidpol.0 'exited with status 0$'
}
# QEMU's software CPU reports INVD with WBINVD's exit code (hardware and
# Bochs do not): under QEMU the name may be WBINVD's, the kill is the same.
cache_flushes_denied() {
    local invd=INVD
    on_qemu_tcg && invd='(INVD|WBINVD)'
    expect_guest wbinvd.0 'killed: WBINVD denied at rip 0x[0-9a-f]+ \(it would flush caches every guest shares\)' &&
    expect_guest invd.0 "killed: $invd denied at rip 0x[0-9a-f]+ "
}
debug_registers_denied() {
    expect_guest movdr.0 'killed: MOV to DR0 denied at rip 0x[0-9a-f]+ \(debug registers are the hypervisor.s\)'
}
# The number is the backend's own (VT-x 15, AMD-V 0x6f); the name is the same.
unhandled_exit_is_named() {
    expect_guest rdpmc.0 'killed: unexpected VM exit (15|0x6f) \(RDPMC\) at rip 0x[0-9a-f]+ '
}

run_case adversarial_boot
for check in victims_finish_correctly write_past_partition_end write_to_hypervisor_image_address \
    write_to_other_partition_address write_to_hypervisor_pool_address write_to_top_of_physical_space \
    wrmsr_outside_allowed_set fs_base_is_allowed port_io_denied cr4_writes_denied \
    hlt_with_interrupts_off_ends_guest exceptions_end_guest bad_hypercalls_get_errors instant_exit \
    capability_misuse_gets_errors cpuid_offers_only_usable_features cache_flushes_denied \
    debug_registers_denied unhandled_exit_is_named; do
    run_check "$check" "$ADV"
done
end_of_script
