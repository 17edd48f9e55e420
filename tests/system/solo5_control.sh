# Solo5 hvt unikernels over the control channel (Bochs, mfctl run
# --control): an hvt image and its disk uploaded with mfctl load, started
# with device mappings (--block:, --net:), listed by mfctl ps with their
# personality, stopped; a START that leaves a manifest device unmapped,
# or maps a device on a Mayfly image, is refused with the reason and
# changes nothing; a disk a running guest uses cannot be replaced.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/../lib/control.sh"

CONF='# no guests at boot
partition big 4M x 4
switch lan0
control com2 store=4M'

HVT_NET_ID=

solo5_load() {
    need_boot || return 1
    ctl load "$G/hvt-block.hvt" "$G/hvt-net.hvt" "$G/hello.elf"
    expect_ctl_rc 0 "load hvt images" &&
    expect_line '^mayfly: control: stored image hvt-block\.hvt' || return 1
    ctl load --disk "$G/hvt-disk.img"
    expect_ctl_rc 0 "load --disk" &&
    expect_out '^loaded hvt-disk\.img \(disk, 32768 bytes, crc32 [0-9a-f]{8}\)$'
}

# The guest reads, writes and checks the uploaded disk through its copy.
solo5_start_with_block() {
    need_boot || return 1
    ctl start hvt-block.hvt --name blk --block:storage=hvt-disk.img --args block
    expect_ctl_rc 0 "start hvt-block" && expect_out '^started: [0-9]+$' || return 1
    local i
    for i in $(seq 100); do
        grep -qE '^mayfly: guest [0-9]+ blk\.0 exited' "$BOOT_DIR/serial.log" && break
        sleep 0.2
    done
    expect_line '^\[blk\.0\] block ok$' && expect_guest blk.0 'exited with status 0$'
}

solo5_ps_shows_personality() {
    need_boot || return 1
    ctl start hvt-net.hvt --name svc --net:service=lan0 --args "ip=10.0.0.5 idle=0"
    expect_ctl_rc 0 "start hvt-net" || return 1
    HVT_NET_ID=$(sed -n 's/^started: //p' "$CASE_DIR/out")
    ctl ps
    expect_ctl_rc 0 ps &&
    expect_out "^$HVT_NET_ID +svc\\.0 +hvt-net\\.hvt +solo5-hvt +big +(running|waiting) +4M " || return 1
    ctl ps --json
    python3 -c 'import json, sys
g = [x for x in json.load(open(sys.argv[1])) if x["image"] == "hvt-net.hvt"]
assert len(g) == 1 and g[0]["personality"] == "solo5-hvt", g' "$CASE_DIR/out" 2>"$CASE_DIR/py.err" ||
        { CASE_WHY="ps --json: $(tail -1 "$CASE_DIR/py.err")"; return 1; }
}

solo5_unmapped_device_refused() {
    need_boot || return 1
    ctl start hvt-block.hvt --name nodisk
    expect_ctl_rc 1 "start without --block" &&
    expect_err 'device storage \(BLOCK_BASIC\) of hvt-block\.hvt.s manifest is not attached: add block:storage=<file>' || return 1
    ctl start hello.elf --name wrong --block:storage=hvt-disk.img
    expect_ctl_rc 1 "start a Mayfly image with --block" &&
    expect_err 'hello\.elf is a Mayfly image: give its switches with net=' || return 1
    ctl ps
    ! grep -qE ' (nodisk|wrong)\.0 ' "$CASE_DIR/out" || { CASE_WHY="a refused START left a guest"; return 1; }
}

solo5_stop() {
    need_boot || return 1
    [ -n "$HVT_NET_ID" ] || { CASE_WHY="hvt-net was not started"; return 1; }
    ctl stop "$HVT_NET_ID"
    expect_ctl_rc 0 stop && expect_out "^stopped $HVT_NET_ID$" &&
    expect_line_soon "^mayfly: guest $HVT_NET_ID svc\\.0 killed: stopped over the control channel$"
}

CHECKS="solo5_load solo5_start_with_block solo5_ps_shows_personality solo5_unmapped_device_refused
solo5_stop"

missing=$(missing_tools)
if [ -n "$missing" ]; then
    for c in $CHECKS; do echo "SKIP: $c: $missing not found"; done
    end_of_script
fi
SOCK_DIR=$(mktemp -d /tmp/mayfly-s5.XXXXXX)
trap cleanup EXIT
mkdir -p "$SYSTEST_OUT"
if wanted $CHECKS; then
    control_boot solo5_control "$CONF"
    for c in $CHECKS; do
        run_check "$c" "$BOOT_DIR"
    done
    control_shutdown
fi
end_of_script
