# Multiboot2 boot in Bochs: VT-x probe, partitions, config and memory errors.
source "$(dirname "$0")/lib.sh"

CONF_OK='# two classes and a guest that is only listed for now
partition small 2M x 8
partition big 16M x 2
guest hello image=hello.elf class=small count=2 args="hi there"
poweroff when-idle'

GUEST_FILE=$SYSTEST_OUT/hello.elf
mkdir -p "$SYSTEST_OUT"
[ -f "$GUEST_FILE" ] || head -c 4096 /dev/urandom > "$GUEST_FILE"

tigerlake_boots_with_ept() {
    boot_bochs tigerlake 256 "$CONF_OK" "$GUEST_FILE" &&
    expect_line '^mayfly: Mayfly microhypervisor, multiboot2 entry' &&
    expect_line '^mayfly: VT-x: revision 0x[0-9a-f]+, EPT yes \(2M yes, 1G yes' &&
    expect_line '^mayfly: VMXON ok' &&
    expect_line '^mayfly: partition class small: 2 MiB x 8 at [0-9a-f]+-[0-9a-f]+' &&
    expect_line '^mayfly: partition class big: 16 MiB x 2 at [0-9a-f]+-[0-9a-f]+' &&
    expect_line '^mayfly: memory left unused: [0-9]+ MiB' &&
    expect_line '^mayfly: guest hello: image hello.elf \(4096 bytes\), class small, count 2' &&
    expect_line '^mayfly: guest hello: image hello.elf rejected: not an ELF file' &&
    expect_poweroff 0
}

penryn_has_no_ept() {
    boot_bochs core2_penryn_t9600 256 "$CONF_OK" &&
    expect_line '^mayfly: partition class small' &&
    expect_line '^mayfly: fatal: VT-x without EPT' &&
    expect_poweroff 7
}

# Bochs' AMD model has SVM with nested paging: the same image picks the
# AMD-V backend there (its guests run under QEMU: tests/system/zz_qemu.sh).
ryzen_picks_amd_v() {
    boot_bochs ryzen 256 "$CONF_OK" &&
    expect_line '^mayfly: AMD-V: revision [0-9]+, [0-9]+ ASIDs, NPT yes' &&
    expect_no_line '^mayfly: VT-x: |fatal' &&
    expect_poweroff 0
}

config_syntax_error_names_line() {
    boot_bochs tigerlake 256 'partition small 2M x 4
# line 2 is a comment
partition big 3M x 2' &&
    expect_line '^mayfly: fatal: mayfly.conf line 3: partition size .3M. is not a multiple of 2 MiB' &&
    expect_poweroff 3
}

config_unknown_keyword() {
    boot_bochs tigerlake 256 'partiton small 2M x 4' &&
    expect_line "^mayfly: fatal: mayfly.conf line 1: unknown keyword 'partiton'" &&
    expect_poweroff 3
}

partitions_do_not_fit() {
    # 256 MiB of RAM cannot hold 8 x 64 MiB: the message names what is missing.
    boot_bochs tigerlake 256 'partition big 64M x 8' &&
    expect_line '^mayfly: fatal: not enough memory for partitions: [0-9]+ of them .* [0-9]+ MiB missing' &&
    expect_poweroff 4
}

run_case tigerlake_boots_with_ept
run_case penryn_has_no_ept
run_case ryzen_picks_amd_v
run_case config_syntax_error_names_line
run_case config_unknown_keyword
run_case partitions_do_not_fit
end_of_script
