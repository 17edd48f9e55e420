# Uplinks under QEMU's software CPU (issue 13): the hypervisor on AMD-V
# (MAYFLY_EMULATOR=qemu: legacy BIOS + GRUB ISO; one case under OVMF,
# qemu-uefi) with QEMU's e1000 and its virtio-net-pci in turn, each on a
# -netdev dgram loopback backend (tests/lib/emu.sh QEMU_NIC): the same
# framing as Bochs's socket backend, so tests/system/wire.py plays the
# outside host without root and nothing leaves the machine.
#
# The guest behind the uplink has its own MAC, not the NIC's: frames for
# it reach the hypervisor only because the drivers receive promiscuously
# (QEMU's e1000 filters by RAL0/RAH0 otherwise). QEMU's e1000 delivers
# nothing for about a second after receive is enabled; wire.py probes
# with ARP until the guest answers, so no datagram is lost to it.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/../lib/uplink.sh"
if [ "${MAYFLY_QEMU:-1}" = 0 ]; then
    echo "SKIP: uplink under QEMU: turned off with MAYFLY_QEMU=0"
    end_of_script
fi
NIC_MAC=52:54:00:12:34:56
GUEST_MAC=52:54:00:ab:cd:02
# Loopback UDP port pairs: a random block for this run, two ports per
# case (QEMU listens on the first, wire.py on the second).
PORT_BASE=$(( 43000 + (RANDOM % 120) * 16 ))
PORT_NEXT=0

# qemu_uplink_boot EMULATOR NIC CONFIG WIRE_ARGS...: boots under EMULATOR
# (qemu, qemu-uefi) with QEMU device NIC ("e1000", "virtio-net-pci") on
# this case's port pair and wire.py on the far end; the wire's output is
# $CASE_DIR/wire.out and its status WIRE_RC.
qemu_uplink_boot() {
    local emulator=$1 nic=$2 conf=$3; shift 3
    local emu=$(( PORT_BASE + PORT_NEXT )) host=$(( PORT_BASE + PORT_NEXT + 1 ))
    PORT_NEXT=$(( PORT_NEXT + 2 ))
    MAYFLY_EMULATOR=$emulator QEMU_NIC="$nic,mac=$NIC_MAC" QEMU_NIC_PORTS="$emu $host" \
        QEMU_SECONDS=${QEMU_SECONDS:-150} wire_boot "$emu" "$host" 256 "$conf" "$@"
}

ECHO_CONF="partition small 2M x 2
uplink lan0
guest echo image=udp-echo.elf net=lan0 mac=$GUEST_MAC args=\"ip=10.0.0.2 count=COUNT idle=0\"
poweroff when-idle"

# echo_case EMULATOR NIC PCI_ID DRIVER: the scan names the NIC, the
# uplink binds it, 40 datagrams from the wire come back intact. The wire
# sends a datagram again only after 5 s without its echo: udp-echo counts
# every datagram it gets, so a resend after an echo that was merely late
# (QEMU's software CPU follows the host's clock; one took over wire.py's
# old default of 0.5 s once in CI; the default is now 5 s, for the
# Bochs cases too) would end it one echo early.
echo_case() {
    local emulator=$1 nic=$2 id=$3 driver=$4
    qemu_uplink_boot "$emulator" "$nic" "${ECHO_CONF/COUNT/40}" --guest-ip 10.0.0.2 \
        --guest-mac "$GUEST_MAC" --count 40 --retry 5 --timeout 120 &&
    expect_line '^mayfly: AMD-V: ' &&
    expect_line "^mayfly: pci [0-9a-f]{2}:[0-9a-f]{2}\\.[0-7] $id class 020000 \\($driver: mac $NIC_MAC\\)$" &&
    expect_line "^mayfly: uplink lan0: $driver [0-9a-f:.]+, mac $NIC_MAC$" &&
    expect_line '^mayfly: uplink lan0: [0-9]+ frames in, [0-9]+ out; 0 malformed' &&
    expect_echoed 40
}

# malformed_case EMULATOR NIC: malformed frames from the wire (runt,
# oversized, bad IPv4 length and checksum, truncated UDP, random bytes,
# unknown unicast, a frame claiming the guest's MAC) change nothing but
# counters: the echo run after them is intact and the guest ends normally.
malformed_case() {
    local emulator=$1 nic=$2
    qemu_uplink_boot "$emulator" "$nic" "${ECHO_CONF/COUNT/10}" --guest-ip 10.0.0.2 \
        --guest-mac "$GUEST_MAC" --count 10 --garbage --retry 5 --timeout 120 &&
    expect_no_line 'mayfly: panic|echo\.0 killed' &&
    expect_wire 'wire: sent [0-9]+ malformed frames' &&
    expect_echoed 10
}

qemu_e1000_udp_echo_from_the_host() {
    echo_case qemu e1000 8086:100e e1000
}

qemu_e1000_malformed_frames_change_nothing() {
    malformed_case qemu e1000
}

# QEMU's virtio-net-pci on q35's root bus is transitional (1af4:1000)
# with the virtio 1.x capabilities; the UEFI case makes it modern-only
# (1af4:1041).
qemu_virtio_net_udp_echo_from_the_host() {
    echo_case qemu virtio-net-pci '1af4:10(00|41)' virtio-net
}

qemu_virtio_net_malformed_frames_change_nothing() {
    malformed_case qemu virtio-net-pci
}

qemu_uefi_virtio_net_udp_echo_from_the_host() {
    echo_case qemu-uefi virtio-net-pci,disable-legacy=on 1af4:1041 virtio-net
}

run_case qemu_e1000_udp_echo_from_the_host
run_case qemu_e1000_malformed_frames_change_nothing
run_case qemu_virtio_net_udp_echo_from_the_host
run_case qemu_virtio_net_malformed_frames_change_nothing
run_case qemu_uefi_virtio_net_udp_echo_from_the_host
end_of_script
