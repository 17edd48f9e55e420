# UEFI boot in QEMU + OVMF (TCG): the loader finds its ESP, reads the
# config and every image it names, exits boot services and hands over to
# the core, which stops at the VT-x probe (TCG has no VMX). Each run is
# cut short on OVMF's Shell> prompt and by QEMU_SECONDS on a hang.
source "$(dirname "$0")/lib.sh"

QEMU_SECONDS=${QEMU_SECONDS:-60}

CONF_TWO_GUESTS='# two classes, two guests with images of their own
partition small 2M x 4
partition big 16M x 2
guest alpha image=alpha.elf class=small count=2
guest beta image=beta.elf class=big args="one two"'

missing_tools() {
    local t
    for t in qemu-system-x86_64 mformat mcopy mmd mdel; do
        command -v "$t" >/dev/null || { echo "$t"; return; }
    done
    [ -f "$OVMF_CODE" ] || { echo "$OVMF_CODE"; return; }
    [ -f "$MAYFLY_BUILD/BOOTX64.EFI" ] || echo "$MAYFLY_BUILD/BOOTX64.EFI (run make)"
}

# On a CPU without SVM (and no VT-x) the probe refuses with status 5.
uefi_refuses_cpu_without_svm() {
    # Sizes that are not page multiples, one image over 64 KiB.
    head -c 5000 /dev/urandom > "$CASE_DIR/alpha.elf"
    head -c 70001 /dev/urandom > "$CASE_DIR/beta.elf"
    QEMU_CPU=qemu64,-svm boot_uefi "$CONF_TWO_GUESTS" "$CASE_DIR/alpha.elf" "$CASE_DIR/beta.elf" &&
    expect_line '^mayfly: Mayfly microhypervisor, uefi entry' &&
    expect_line '^mayfly: memory: [0-9]+ usable ranges, [0-9]+ MiB usable' &&
    expect_line '^mayfly: image [0-9a-f]+-[0-9a-f]+, 3 files, rsdp [1-9a-f][0-9a-f]*' &&
    expect_line '^mayfly: config: 2 partition classes, 2 guest lines' &&
    expect_line '^mayfly: partition class small: 2 MiB x 4 at [0-9a-f]+-[0-9a-f]+' &&
    expect_line '^mayfly: partition class big: 16 MiB x 2 at [0-9a-f]+-[0-9a-f]+' &&
    expect_line '^mayfly: guest alpha: image alpha\.elf \(5000 bytes\), class small, count 2' &&
    expect_line '^mayfly: guest beta: image beta\.elf \(70001 bytes\), class big, count 1' &&
    expect_no_line 'was not loaded|cannot (open|read)|panic' &&
    expect_line '^mayfly: fatal: AMD-V \(SVM\) not available: ' &&
    expect_poweroff 5
}

# qemu64 has SVM but no nested paging: refused with status 7.
uefi_refuses_svm_without_npt() {
    QEMU_CPU=qemu64 boot_uefi "$CONF_TWO_GUESTS" &&
    expect_line '^mayfly: fatal: AMD-V without nested paging \(NPT\): ' &&
    expect_poweroff 7
}

uefi_missing_config() {
    printf 'partition small 2M x 4\n' > "$CASE_DIR/mayfly.conf"
    mk_esp "$CASE_DIR/esp.img" "$CASE_DIR/mayfly.conf" &&
    mdel -i "$CASE_DIR/esp.img" ::/mayfly/mayfly.conf || { CASE_WHY="mk_esp failed"; return 1; }
    qemu_uefi_run "$CASE_DIR" "$CASE_DIR/esp.img" "$QEMU_SECONDS"
    expect_line '^mayfly: Mayfly microhypervisor, uefi entry' &&
    expect_line '^mayfly: fatal: no mayfly.conf was loaded: put it at .mayfly.mayfly.conf' &&
    expect_poweroff 3
}

uefi_bad_config() {
    boot_uefi 'partition small 2M x 4
# line 2 is a comment
guest alpha image=alpha.elf clas=small
partition big 16M x 2' &&
    expect_line "^mayfly: fatal: mayfly.conf line 3: unknown guest option 'clas'" &&
    expect_poweroff 3
}

missing=$(missing_tools)
if [ -n "$missing" ]; then
    for c in uefi_refuses_cpu_without_svm uefi_refuses_svm_without_npt uefi_missing_config uefi_bad_config; do
        echo "SKIP: $c: $missing not found"
    done
    end_of_script
fi
run_case uefi_refuses_cpu_without_svm
run_case uefi_refuses_svm_without_npt
run_case uefi_missing_config
run_case uefi_bad_config
end_of_script
