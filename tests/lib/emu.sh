# Emulator helpers shared by the system tests, `make demo` and `make bench`.
# Source it; every function works inside a run directory of its own.
#
#   mk_iso ISO CONFIG [FILE...]        GRUB rescue ISO booting build/mayfly.elf
#                                      (with MAYFLY_CMDLINE as its command line)
#   bochs_run DIR ISO MODEL MEM_MB [INSNS] [SECONDS]
#   mk_esp IMG CONFIG [FILE...]        FAT image laid out as an EFI system partition
#   qemu_uefi_run DIR IMG [SECONDS]
#
# After a run, DIR/serial.log holds the hypervisor's console and
# DIR/emu.log what the emulator said; EMU_RESULT is one of: poweroff,
# shell (OVMF fell into its shell), triple-fault, budget (instruction
# budget used up), timeout, exit (the emulator stopped on its own).

MAYFLY_ROOT=${MAYFLY_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
MAYFLY_BUILD=${MAYFLY_BUILD:-$MAYFLY_ROOT/build}
BOCHS_BUDGET_DEFAULT=${BOCHS_BUDGET_DEFAULT:-3000000000}
OVMF_CODE=${OVMF_CODE:-/usr/share/ovmf/OVMF.fd}

# mk_iso ISO CONFIG [FILE...]: files become GRUB modules named by their base name.
mk_iso() {
    local iso=$1 conf=$2; shift 2
    local dir; dir=$(mktemp -d)
    mkdir -p "$dir/boot/grub"
    # Without debug sections: GRUB loads every section of the kernel into
    # memory below the modules, so their size would move the layout.
    objcopy --strip-debug "$MAYFLY_BUILD/mayfly.elf" "$dir/boot/mayfly.elf" || return 1
    cp "$conf" "$dir/boot/mayfly.conf"
    {
        echo 'set timeout=0'
        echo 'set default=0'
        echo 'menuentry "mayfly" {'
        echo "    multiboot2 /boot/mayfly.elf${MAYFLY_CMDLINE:+ $MAYFLY_CMDLINE}"
        echo '    module2 /boot/mayfly.conf mayfly.conf'
        local f
        for f in "$@"; do
            cp "$f" "$dir/boot/$(basename "$f")"
            echo "    module2 /boot/$(basename "$f") $(basename "$f")"
        done
        echo '    boot'
        echo '}'
    } > "$dir/boot/grub/grub.cfg"
    grub-mkrescue -o "$iso" "$dir" --install-modules="multiboot2 normal configfile iso9660 biosdisk" \
        --modules="multiboot2" --fonts= --locales= --themes= >"$iso.log" 2>&1
    local rc=$?
    rm -rf "$dir"
    return $rc
}

# Looks at a finished run and sets EMU_RESULT. The serial log loses the
# carriage returns the console sends, so tests can anchor on line ends.
emu_classify() {
    local dir=$1 rc=$2
    [ -f "$dir/serial.log" ] && sed -i 's/\r$//' "$dir/serial.log"
    if grep -q "mayfly: power off (status" "$dir/serial.log" 2>/dev/null &&
       { [ "$3" != bochs ] || grep -q "shutdown requested" "$dir/emu.log"; }; then
        EMU_RESULT=poweroff
    elif grep -q "Shell>" "$dir/serial.log" 2>/dev/null; then
        EMU_RESULT=shell
    elif grep -qiE "triple fault|3rd \(1[34]\) exception|exception\(\): 3rd" "$dir/emu.log" 2>/dev/null; then
        EMU_RESULT=triple-fault
    elif [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
        EMU_RESULT=timeout
    elif grep -q "BUDGET-REACHED" "$dir/emu.log" 2>/dev/null ||
         grep -q "Next at t=" "$dir/emu.log" 2>/dev/null; then
        EMU_RESULT=budget
    else
        EMU_RESULT=exit
    fi
}

# bochs_run DIR ISO MODEL MEM_MB [INSNS] [SECONDS]; BOCHS_CPUS=N: N CPUs (SMP cases only);
# BOCHS_E1000="mac=52:54:00:12:34:56, ethmod=socket, ethdev=40000": an
# e1000 in PCI slot 1 with those options (uplink cases only)
bochs_run() {
    local dir=$1 iso=$2 model=$3 mem=$4 budget=${5:-$BOCHS_BUDGET_DEFAULT} secs=${6:-300}
    mkdir -p "$dir"
    rm -f "$dir/emu.log" "$dir/bochs.log"
    : > "$dir/serial.log"       # truncated, not replaced: a follower keeps reading it
    cat > "$dir/bochsrc" <<RC
memory: guest=$mem, host=$mem
cpu: model=$model, count=${BOCHS_CPUS:-1}, ips=50000000, reset_on_triple_fault=0
romimage: file=/usr/share/bochs/BIOS-bochs-latest, options=fastboot
vgaromimage: file=/usr/share/vgabios/vgabios.bin
ata0-master: type=cdrom, path=$iso, status=inserted
boot: cdrom
com1: enabled=1, mode=file, dev=$dir/serial.log
${BOCHS_COM2:+com2: enabled=1, mode=$BOCHS_COM2}
${BOCHS_E1000:+pci: enabled=1, chipset=i440fx, slot1=e1000}
${BOCHS_E1000:+e1000: enabled=1, $BOCHS_E1000}
display_library: rfb, options="timeout=0"
log: $dir/bochs.log
panic: action=fatal
error: action=report
info: action=report
debug: action=ignore
clock: sync=none, time0=1
speaker: enabled=0
sound: driver=dummy
mouse: enabled=0
floppy_bootsig_check: disabled=1
RC
    printf 'sba %s\nc\nquit\n' "$budget" > "$dir/cmds.rc"
    (cd "$dir" && timeout -k 5 "$secs" bochs -q -f bochsrc -rc cmds.rc </dev/null >bochs.out 2>&1)
    local rc=$?
    cat "$dir/bochs.out" "$dir/bochs.log" > "$dir/emu.log" 2>/dev/null
    emu_classify "$dir" $rc bochs
    return 0
}

# mk_esp IMG CONFIG [FILE...]
mk_esp() {
    local img=$1 conf=$2; shift 2
    rm -f "$img"
    truncate -s 64M "$img"
    mformat -i "$img" -F -v ESP :: >/dev/null
    mmd -i "$img" ::/EFI ::/EFI/BOOT ::/mayfly
    mcopy -i "$img" "$MAYFLY_BUILD/BOOTX64.EFI" ::/EFI/BOOT/BOOTX64.EFI
    mcopy -i "$img" "$conf" ::/mayfly/mayfly.conf
    local f
    for f in "$@"; do
        mcopy -i "$img" "$f" "::/mayfly/$(basename "$f")"
    done
}

# kvm_vtx_available: true where QEMU/KVM can give the hypervisor VT-x
# (an Intel host with nested virtualisation on).
kvm_vtx_available() {
    [ -c /dev/kvm ] && [ -r /dev/kvm ] && grep -qw vmx /proc/cpuinfo || return 1
    local nested=/sys/module/kvm_intel/parameters/nested
    [ -r $nested ] && grep -qE '^(Y|1)' $nested
}

# qemu_nic_args: with QEMU_NIC (e.g. "e1000,mac=52:54:00:12:34:56" or
# "virtio-net-pci,mac=...") and QEMU_NIC_PORTS="EMU HOST", that NIC on a
# dgram backend: QEMU listens on 127.0.0.1:EMU for frames to put on the
# wire and sends the NIC's frames to 127.0.0.1:HOST (uplink cases only);
# or with QEMU_NIC_TAP=NAME, on that tap (created by the test inside a
# network namespace it made; QEMU then runs inside it).
qemu_nic_args() {
    [ -n "${QEMU_NIC:-}" ] || return 0
    local emu host
    if [ -n "${QEMU_NIC_TAP:-}" ]; then     # QEMU_NIC_TAP=tap0: that tap (root; a namespace's)
        printf '%s\n' -netdev "tap,id=n0,ifname=$QEMU_NIC_TAP,script=no,downscript=no" \
            -device "$QEMU_NIC,netdev=n0"
        return 0
    fi
    read -r emu host <<<"$QEMU_NIC_PORTS"
    printf '%s\n' -netdev "dgram,id=n0,local.type=inet,local.host=127.0.0.1,local.port=$emu,remote.type=inet,remote.host=127.0.0.1,remote.port=$host" \
        -device "$QEMU_NIC,netdev=n0"
}

# qemu_iso_run DIR ISO MEM_MB [SECONDS]: the Bochs test ISO under QEMU
# (legacy BIOS + GRUB, like Bochs): under KVM (the host's CPU) for the KVM
# variant of the tests, or with QEMU_ACCEL=tcg under QEMU's software CPU
# (QEMU_CPU, default max: AMD-V with nested paging; QEMU_ICOUNT=1 counts
# instructions; QEMU_SMP=N: N CPUs).
qemu_iso_run() {
    local dir=$1 iso=$2 mem=$3 secs=${4:-120}
    local accel=(-enable-kvm -cpu host)
    [ "${QEMU_ACCEL:-kvm}" = tcg ] && accel=(-accel tcg -cpu "${QEMU_CPU:-max}")
    # QEMU_ICOUNT=1: one virtual nanosecond (and TSC tick) per instruction,
    # deterministic, for benchmarks (slow: use it only where counts matter).
    [ "${QEMU_ICOUNT:-0}" = 1 ] && accel+=(-icount shift=0,sleep=off)
    mkdir -p "$dir"
    rm -f "$dir/serial.log" "$dir/emu.log"
    : > "$dir/serial.log"
    timeout -k 5 "$secs" qemu-system-x86_64 -machine q35 "${accel[@]}" -m "${mem}M" \
        -smp "${QEMU_SMP:-1}" -cdrom "$iso" -boot d -nodefaults -nic none -display none -monitor none \
        -serial file:"$dir/serial.log" -no-reboot $(qemu_nic_args) \
        -device isa-debug-exit,iobase=0xf4,iosize=0x04 </dev/null >"$dir/emu.log" 2>&1
    QEMU_RC=$?
    emu_classify "$dir" $QEMU_RC qemu
    return 0
}

# qemu_uefi_run DIR IMG [SECONDS] [MEM_MB]: boots a disk image (plain ESP
# or GPT) in QEMU with OVMF on QEMU_CPU (default max: AMD-V with nested
# paging; QEMU_SMP=N: N CPUs); KVM is used when QEMU_KVM=1. Stops early on OVMF's shell
# prompt, which otherwise waits forever.
qemu_uefi_run() {
    local dir=$1 img=$2 secs=${3:-120} mem=${4:-512}
    local accel=(-cpu "${QEMU_CPU:-max}")
    [ "${QEMU_KVM:-0}" = 1 ] && accel=(-enable-kvm -cpu host)
    mkdir -p "$dir"
    rm -f "$dir/serial.log" "$dir/emu.log"
    : > "$dir/serial.log"
    cp "$OVMF_CODE" "$dir/ovmf.fd"
    timeout -k 5 "$secs" qemu-system-x86_64 -machine q35 "${accel[@]}" -m "${mem}M" \
        -smp "${QEMU_SMP:-1}" -bios "$dir/ovmf.fd" \
        -drive if=none,id=esp,format=raw,file="$img" -device virtio-blk-pci,drive=esp,bootindex=0 \
        -nodefaults -nic none -display none -monitor none -serial file:"$dir/serial.log" $(qemu_nic_args) \
        -no-reboot -device isa-debug-exit,iobase=0xf4,iosize=0x04 </dev/null >"$dir/emu.log" 2>&1 &
    local pid=$! rc
    while kill -0 $pid 2>/dev/null; do
        if grep -q "Shell>" "$dir/serial.log" 2>/dev/null; then
            kill $pid 2>/dev/null
            break
        fi
        sleep 0.5
    done
    wait $pid
    rc=$?
    QEMU_RC=$rc
    emu_classify "$dir" $rc qemu
    return 0
}
