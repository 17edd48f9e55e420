# Guests in VMX non-root mode (Bochs, tigerlake): lifecycle, many guests,
# fair scheduling, scrubbing, loader refusals.
source "$(dirname "$0")/lib.sh"
G=$MAYFLY_BUILD/guests

hello_prints_args() {
    boot_bochs tigerlake 256 'partition small 2M x 2
guest hello image=hello.elf args="one two three"
poweroff when-idle' "$G/hello.elf" &&
    expect_backend &&
    expect_line '^mayfly: guest 1 hello.0 started in partition small/0 at 0x[0-9a-f]+ \(2 MiB\)' &&
    expect_line '^\[hello.0\] hello from hello.0 \(guest 1\): one two three$' &&
    expect_line '^\[hello.0\] arg\[2\] = three$' &&
    expect_line '^mayfly: guest 1 hello.0 exited with status 0$' &&
    expect_line '^mayfly: all guests have ended: 1 started, 1 exited 0, 0 failed, 0 killed' &&
    expect_poweroff 0
}

sixty_four_guests_complete() {
    boot_bochs tigerlake 512 'partition small 2M x 64
guest count image=count.elf count=64 args="3000"
poweroff when-idle' "$G/count.elf" || return 1
    expect_count 64 '^mayfly: guest [0-9]+ count\.[0-9]+ started' || return 1
    # 64 distinct instances each printed its own id and a correct result.
    local distinct
    distinct=$(grep -oE '^\[count\.[0-9]+\] count count\.[0-9]+ guest [0-9]+: primes below 3000 = 430 ok' \
        "$CASE_DIR/serial.log" | sed -E 's/.*guest ([0-9]+):.*/\1/' | sort -u | wc -l)
    [ "$distinct" = 64 ] || { CASE_WHY="$distinct distinct correct completions, want 64"; return 1; }
    expect_count 64 '^mayfly: guest [0-9]+ count\.[0-9]+ exited with status 0$' &&
    expect_poweroff 0
}

spinner_does_not_starve_others() {
    # The spinner starts first and never yields; the preemption timer must
    # still let the others run; its time limit ends it.
    boot_bochs tigerlake 256 'partition small 2M x 6
guest spin image=evil.elf args="spin" timeout=300
guest count image=count.elf count=4
guest sleep image=sleep.elf args="5 4"
poweroff when-idle' "$G/evil.elf" "$G/count.elf" "$G/sleep.elf" &&
    expect_count 4 '^mayfly: guest [0-9]+ count\.[0-9]+ exited with status 0$' &&
    expect_line '^mayfly: guest [0-9]+ sleep\.0 exited with status 0$' &&
    expect_line '^mayfly: guest 1 spin\.0 killed: time limit of 300 ms reached$' &&
    expect_line 'all guests have ended: 6 started, 5 exited 0, 0 failed, 1 killed' &&
    expect_ran_beside_spinner &&
    expect_poweroff 1
}

# The sleeper finished while the spinner was still alive, and no wake-up
# of it was later than the five others' quanta (10 ms each) plus one
# quantum of slack: 60 ms, in TSC ticks from the boot's TSC line. The
# bound holds in Bochs, whose TSC counts emulated instructions; under KVM
# or QEMU's software CPU the TSC follows the host's clock, so there only the
# order is checked (tests never assert on wall time).
expect_ran_beside_spinner() {
    local done_at killed_at khz worst
    done_at=$(grep -nE '^mayfly: guest [0-9]+ sleep\.0 exited with status 0$' "$CASE_DIR/serial.log" | cut -d: -f1)
    killed_at=$(grep -nE '^mayfly: guest 1 spin\.0 killed: ' "$CASE_DIR/serial.log" | cut -d: -f1)
    [ -n "$done_at" ] && [ -n "$killed_at" ] && [ "$done_at" -lt "$killed_at" ] ||
        { CASE_WHY="the sleeper did not finish while the spinner was alive (lines ${done_at:-none}, ${killed_at:-none})"; return 1; }
    [ "${MAYFLY_EMULATOR:-bochs}" = bochs ] || return 0
    khz=$(sed -nE 's/^mayfly: TSC ([0-9]+) kHz.*/\1/p' "$CASE_DIR/serial.log")
    worst=$(sed -nE 's/^\[sleep\.0\] sleep sleep\.0 round [0-9]+: .* late by ([0-9]+)\) ok$/\1/p' "$CASE_DIR/serial.log" | sort -n | tail -1)
    [ -n "$khz" ] && [ -n "$worst" ] || { CASE_WHY="no TSC line or no sleeper rounds"; return 1; }
    [ "$worst" -lt $(( khz * 60 )) ] && return 0
    CASE_WHY="the sleeper woke up to $worst ticks late, not under 60 ms ($(( khz * 60 )) ticks)"
    return 1
}

scrub_between_tenants() {
    # One partition: the scanner can only start once the secret-writer has
    # ended, in the same partition, and must find none of its bytes.
    boot_bochs tigerlake 256 'partition only 2M x 1
guest secret image=evil.elf args="secret"
guest scan image=evil.elf args="scan"
poweroff when-idle' "$G/evil.elf" &&
    expect_line '^mayfly: guest 1 secret\.0 started in partition only/0' &&
    expect_line '^\[secret\.0\] evil: secret: wrote [1-9]' &&
    expect_line '^mayfly: guest 1 secret\.0 exited with status 0$' &&
    expect_line '^mayfly: guest 2 scan\.0 started in partition only/0' &&
    expect_line '^\[scan\.0\] scan: 0 words of the pattern found' &&
    expect_line '^mayfly: guest 2 scan\.0 exited with status 0$' &&
    expect_poweroff 0
}

bad_images_are_refused() {
    : > "$CASE_DIR/empty.elf"
    boot_bochs tigerlake 256 'partition small 2M x 2
guest badmagic image=bad-magic.elf
guest badnote image=bad-nonote.elf
guest badver image=bad-version.elf
guest badfar image=bad-far.elf
guest badoverlap image=bad-overlap.elf
guest badtrunc image=bad-truncated.elf
guest badlong image=bad-long.elf
guest empty image=empty.elf
guest missing image=nothere.elf
guest hello image=hello.elf
poweroff when-idle' "$G"/bad-*.elf "$CASE_DIR/empty.elf" "$G/hello.elf" &&
    expect_line "^mayfly: guest badmagic: image bad-magic.elf rejected: .*magic" &&
    expect_line "^mayfly: guest badnote: image bad-nonote.elf rejected: not a Mayfly or Solo5 hvt image: it has no Mayfly ABI note and no Solo5 ABI note" &&
    expect_line "^mayfly: guest badver: image bad-version.elf rejected: ABI note version 99, this hypervisor speaks version 1" &&
    expect_line "^mayfly: guest badfar: image bad-far.elf rejected: segment .* beyond the partition" &&
    expect_line "^mayfly: guest badoverlap: image bad-overlap.elf rejected: segments 0 and 1 overlap" &&
    expect_line "^mayfly: guest badtrunc: image bad-truncated.elf rejected: " &&
    expect_line '^mayfly: guest badlong: image bad-long\.elf rejected: segment [0-9]+ \[0x7ffffffff0000000-0x[0-9a-f]+\) ends beyond the partition \(2 MiB, the top 64 KiB kept for the stack\); use a larger class; not started$' &&
    expect_line "^mayfly: guest empty: image empty.elf is empty \(0 bytes\)" &&
    expect_line "^mayfly: guest missing: image nothere.elf was not loaded" &&
    expect_line '^mayfly: guest 1 hello.0 exited with status 0$' &&
    expect_no_line 'started.*bad' &&
    expect_poweroff 0
}

run_case hello_prints_args
run_case sixty_four_guests_complete
run_case spinner_does_not_starve_others
run_case scrub_between_tenants
run_case bad_images_are_refused
end_of_script
