# System-test helpers: each case boots the real hypervisor in an emulator
# and judges it by its serial log and how the run ended. A case is a shell
# function; run_case prints "PASS: name" or "FAIL: name: why" plus the log
# tail, which tests/run.sh counts. Every script ends with end_of_script
# (also where it stops early on purpose, after its SKIP lines): the
# runner counts a script without its "END: <script>" line as dead, so
# one that exits 0 half-way is never green.
source "$(dirname "${BASH_SOURCE[0]}")/../lib/emu.sh"

SYSTEST_OUT=${SYSTEST_OUT:-$MAYFLY_BUILD/test-output/system}
CASE_DIR=
CASE_WHY=

# boot_bochs MODEL MEM_MB CONFIG_TEXT [FILE...]: boots in a fresh case
# dir. With MAYFLY_EMULATOR=kvm the same ISO boots under QEMU/KVM instead
# (the CPU model is then the host's); with MAYFLY_EMULATOR=qemu under
# QEMU's software CPU (QEMU_CPU, default max: the AMD-V backend); with
# MAYFLY_EMULATOR=qemu-uefi the UEFI image boots under OVMF on that CPU
# from the disk mfctl image makes of the config and files.
boot_bochs() {
    local model=$1 mem=$2 conf=$3; shift 3
    printf '%s\n' "$conf" > "$CASE_DIR/mayfly.conf"
    if ! mk_iso "$CASE_DIR/boot.iso" "$CASE_DIR/mayfly.conf" "$@"; then
        CASE_WHY="grub-mkrescue failed: $(tail -3 "$CASE_DIR/boot.iso.log")"
        return 1
    fi
    if [ "${MAYFLY_EMULATOR:-bochs}" = qemu-uefi ]; then
        # The UEFI image on the disk `mfctl image` makes of the config and
        # files, under OVMF; a case whose images mfctl refuses on purpose
        # (broken images) gets a plain ESP with the same files instead.
        if ! "$MAYFLY_BUILD/mfctl" image -c "$CASE_DIR/mayfly.conf" -o "$CASE_DIR/disk.img" \
                "$@" >"$CASE_DIR/mfctl-image.log" 2>&1 &&
           ! mk_esp "$CASE_DIR/disk.img" "$CASE_DIR/mayfly.conf" "$@"; then
            CASE_WHY="neither mfctl image nor mk_esp made a disk"
            return 1
        fi
        qemu_uefi_run "$CASE_DIR" "$CASE_DIR/disk.img" "${QEMU_SECONDS:-120}" "$mem"
        return 0
    fi
    if [ "${MAYFLY_EMULATOR:-bochs}" = kvm ] || [ "${MAYFLY_EMULATOR:-bochs}" = qemu ]; then
        QEMU_ACCEL=$([ "$MAYFLY_EMULATOR" = qemu ] && echo tcg || echo kvm) \
            qemu_iso_run "$CASE_DIR" "$CASE_DIR/boot.iso" "$mem" "${QEMU_SECONDS:-120}"
        return 0
    fi
    bochs_run "$CASE_DIR" "$CASE_DIR/boot.iso" "$model" "$mem" "${BOCHS_BUDGET:-}" "${BOCHS_SECONDS:-}"
}

# boot_uefi CONFIG_TEXT [FILE...]: ESP image booted by QEMU + OVMF.
boot_uefi() {
    local conf=$1; shift
    printf '%s\n' "$conf" > "$CASE_DIR/mayfly.conf"
    mk_esp "$CASE_DIR/esp.img" "$CASE_DIR/mayfly.conf" "$@" || { CASE_WHY="mk_esp failed"; return 1; }
    qemu_uefi_run "$CASE_DIR" "$CASE_DIR/esp.img" "${QEMU_SECONDS:-120}"
}

# on_qemu_tcg: true when this run boots under QEMU's software CPU
# (MAYFLY_EMULATOR=qemu or qemu-uefi): AMD-V, and a TSC that follows the
# host's clock.
on_qemu_tcg() {
    [ "${MAYFLY_EMULATOR:-bochs}" = qemu ] || [ "${MAYFLY_EMULATOR:-bochs}" = qemu-uefi ]
}

# expect_backend: the probe's line names the backend this emulator gives:
# AMD-V under QEMU's software CPU, VT-x in Bochs and under KVM.
expect_backend() {
    if on_qemu_tcg; then
        expect_line '^mayfly: AMD-V: ' && expect_no_line '^mayfly: VT-x: '
    else
        expect_line '^mayfly: VT-x: ' && expect_no_line '^mayfly: AMD-V: '
    fi
}

# expect_line REGEX: the serial log has a line matching REGEX (grep -E).
expect_line() {
    grep -qE -- "$1" "$CASE_DIR/serial.log" && return 0
    CASE_WHY="no line matching '$1' in the serial log"
    return 1
}

# expect_line_soon REGEX [SECONDS]: as expect_line, for a line of a run
# still going, waiting for it up to SECONDS (default 10). The console
# leaves through a transmit ring drained while guests run, so a line
# logged before a control reply was sent may reach the serial log after
# the reply reached mfctl.
expect_line_soon() {
    local i
    for ((i = 0; i < ${2:-10} * 5; i++)); do
        grep -qE -- "$1" "$CASE_DIR/serial.log" && return 0
        sleep 0.2
    done
    CASE_WHY="no line matching '$1' in the serial log within ${2:-10} s"
    return 1
}

# expect_no_line REGEX
expect_no_line() {
    grep -qE -- "$1" "$CASE_DIR/serial.log" || return 0
    CASE_WHY="unexpected line matching '$1': $(grep -E -- "$1" "$CASE_DIR/serial.log" | head -1)"
    return 1
}

# expect_count N REGEX: exactly N lines match.
expect_count() {
    local n; n=$(grep -cE -- "$2" "$CASE_DIR/serial.log")
    [ "$n" = "$1" ] && return 0
    CASE_WHY="expected $1 lines matching '$2', found $n"
    return 1
}

# expect_poweroff STATUS: a clean power-off (serial marker and the
# emulator's own shutdown) with the given status.
expect_poweroff() {
    if [ "$EMU_RESULT" != poweroff ]; then
        CASE_WHY="run ended by '$EMU_RESULT', not a power-off"
        return 1
    fi
    expect_line "^mayfly: power off \\(status $1\\)" || return 1
    # QEMU's isa-debug-exit reports status s as exit code 2s+1.
    if [ -n "${QEMU_RC:-}" ] && [ "$QEMU_RC" != $(( $1 * 2 + 1 )) ]; then
        CASE_WHY="QEMU exit code $QEMU_RC, expected $(( $1 * 2 + 1 ))"
        return 1
    fi
    return 0
}

# run_case NAME: runs the function NAME in a fresh directory.
run_case() {
    local name=$1
    if [ -n "${CASE_FILTER:-}" ] && ! [[ $name =~ $CASE_FILTER ]]; then
        return
    fi
    CASE_DIR=$SYSTEST_OUT/$name
    CASE_WHY=
    QEMU_RC=
    EMU_RESULT=
    rm -rf "$CASE_DIR"
    mkdir -p "$CASE_DIR"
    if "$name"; then
        echo "PASS: $name"
    else
        echo "FAIL: $name: ${CASE_WHY:-case returned failure} (run: ${EMU_RESULT:-none})"
        echo "---- serial log tail ($CASE_DIR/serial.log)"
        tail -n 25 "$CASE_DIR/serial.log" 2>/dev/null | sed 's/^/    /'
        echo "---- emulator log tail"
        grep -vE "^[0-9]+i\[" "$CASE_DIR/emu.log" 2>/dev/null | tail -n 10 | sed 's/^/    /'
    fi
}

# run_check NAME DIR: judges the function NAME against an earlier run in
# DIR (several checks on one boot, each counted on its own).
run_check() {
    local name=$1
    if [ -n "${CASE_FILTER:-}" ] && ! [[ $name =~ $CASE_FILTER ]]; then
        return
    fi
    CASE_DIR=$2
    CASE_WHY=
    if [ ! -f "$CASE_DIR/serial.log" ]; then
        echo "FAIL: $name: the boot it checks did not run"
        return
    fi
    if "$name"; then
        echo "PASS: $name"
    else
        echo "FAIL: $name: ${CASE_WHY:-check returned failure}"
    fi
}

# guest_line NAME.INSTANCE REGEX: a hypervisor line about that guest.
expect_guest() {
    expect_line "^mayfly: guest [0-9]+ $1 $2"
}

# end_of_script: the script's last word, "END: <script>", and exit 0. A
# script that stops before it (an exit, a crash, a kill) has not said
# everything it had to, and tests/run.sh counts it as dead.
end_of_script() {
    echo "END: $(basename "$0")"
    exit 0
}

# nested_results PREFIX SCRIPT: reads the output of SCRIPT run by this
# one (the same cases under another emulator), prefixes its results'
# names with PREFIX and takes its END line; without one, SCRIPT died
# half-way and that is one more failure here.
nested_results() {
    local line ended=0
    while IFS= read -r line; do
        case $line in
            "END: $2") ended=1 ;;
            "PASS: "* | "FAIL: "* | "SKIP: "*) echo "${line%%: *}: $1${line#*: }" ;;
            *) echo "$line" ;;
        esac
    done
    [ "$ended" = 1 ] || echo "FAIL: $1$2 died before its end (no 'END: $2' line)"
}
