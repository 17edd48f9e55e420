# The control protocol over the network (issue 14): `control net` starts
# the network control guest (guests/ctlnet, built into the hypervisor) on
# the uplink's switch, and mfctl --control tcp://10.0.0.2:7000 drives the
# hypervisor from a network namespace whose tap is the emulator's NIC
# (as tests/system/uplink_tcp.sh does). One Bochs boot (tigerlake, VT-x,
# its e1000 on the tap; Bochs passes in only frames for its NIC's MAC, so
# the control guest takes mac=52:54:00:12:34:56) serves every live check:
# load, start, ps, logs, stats, stop over TCP with the key; the STOP of
# the control guest itself refused; every kind of bad input of
# tests/system/control.sh sent with `mfctl raw --control tcp://...`
# (bad checksum, truncated frame, garbage, no MAC, a wrong MAC, a wrong
# key, replays), each refused and changing nothing, a good request
# working after it; beside a guest started at boot that must run on
# unharmed, and an adversarial guest whose MF_HC_CTL_XFER calls (it has
# no guest-control capability) are all refused. Then a boot whose
# `control net` line has no key is refused; and under QEMU's software
# CPU (AMD-V, MAYFLY_EMULATOR=qemu) with an e1000 on the tap: load,
# start, ps. Needs root and network namespaces; skips cleanly elsewhere.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/../lib/control.sh"
KEY=00112233445566778899aabbccddeeff
OTHER_KEY=ffeeddccbbaa99887766554433221100
NIC_MAC=52:54:00:12:34:56
QEMU_GUEST_MAC=52:54:00:ab:cd:02    # under QEMU the guest keeps an address of its own
ADDR=10.0.0.2:7000
REAL_MFCTL=$MFCTL
NETNS_NIC_MAC=$NIC_MAC
source "$(dirname "$0")/../lib/netns.sh"     # cleans up on exit

# cn_boot NAME EMU TAG CONFIG FILE...: a namespace (TAG) with the emulator
# (bochs or qemu) in it, MFCTL a wrapper running mfctl there; waits until
# the control guest answers a request. Not the serial log: Bochs may write
# it only later (uplink_tcp.sh); and QEMU's e1000 delivers nothing for
# about a second after receive is enabled, so the first connections may
# find no route. BOOT_DIR is the boot's folder, BOOT_WHY says why it did
# not come up.
cn_boot() {
    local name=$1 emu=$2 tag=$3 conf=$4 i; shift 4
    BOOT_DIR=$SYSTEST_OUT/$name
    BOOT_WHY=
    SOCK=tcp://$ADDR
    KEY_ARGS=(--key "$KEY")
    rm -rf "$BOOT_DIR"
    mkdir -p "$BOOT_DIR"
    netns_make "$tag" && netns_wrap_to "$NETNS_NAME" "$REAL_MFCTL" "$BOOT_DIR/mfctl" &&
        netns_boot_bg "$NETNS_NAME" "$emu" "$BOOT_DIR" "$conf" "$@" ||
        { BOOT_WHY=$NETNS_WHY; return 1; }
    MFCTL=$BOOT_DIR/mfctl
    for ((i = 0; i < 120; i++)); do
        "$MFCTL" stats --control "$SOCK" --timeout 5 "${KEY_ARGS[@]}" \
            >"$BOOT_DIR/first.out" 2>&1 && return 0
        kill -0 "$NETNS_BOOT_PID" 2>/dev/null ||
            { BOOT_WHY="the run ended before the control guest answered: $(tail -2 "$BOOT_DIR/serial.log" | tr '\n' ' ')"; return 1; }
        sleep 1
    done
    BOOT_WHY="the control guest does not answer within 120 tries: $(tail -2 "$BOOT_DIR/first.out" | tr '\n' ' ')"
    return 1
}

# The id of the guest called NAME in `ps --json`, or nothing.
guest_id() {
    ctl ps --json
    python3 -c 'import json, sys
for g in json.load(open(sys.argv[1])):
    if g["name"] == sys.argv[2]: print(g["id"])' "$CASE_DIR/out" "$1" 2>/dev/null
}

# ---- the Bochs boot: live checks -------------------------------------------

# conf_main MAC [LINE...]: the uplink, the control guest on MAC, and LINEs.
conf_main() {
    printf '%s\n' "partition small 2M x 6" "uplink lan0" \
        "control net lan0 ip=10.0.0.2 port=7000 mac=$1 key=$KEY store=8M" "${@:2}"
}

control_net_serves() {
    need_boot || return 1
    ctl ps --json
    expect_ctl_rc 0 "ps over TCP" || return 1
    python3 -c 'import json, sys
gs = {g["name"]: g for g in json.load(open(sys.argv[1]))}
c = gs.get("control.0")
sys.exit(0 if c and c["image"] == "ctlnet.elf" and c["state"] in ("running", "waiting", "ready")
         and "keeper.0" in gs else 1)' "$CASE_DIR/out" ||
        { CASE_WHY="ps does not list control.0 (ctlnet.elf) and keeper.0: $(tr '\n' ' ' < "$CASE_DIR/out")"; return 1; }
    KEEPER_ID=$(guest_id keeper.0)
    expect_line "^mayfly: control: network control on lan0 at ip=10.0.0.2 port=7000" &&
    expect_line '^mayfly: control: listening on the network through the control guest'
}

control_net_load_start_logs() {
    need_boot || return 1
    ctl load "$G/hello.elf"
    expect_ctl_rc 0 "load hello.elf" || return 1
    ctl start hello.elf --count 2 --args "over tcp"
    expect_ctl_rc 0 "start hello.elf" && expect_out '^started: [0-9]+ [0-9]+' || return 1
    local id; id=$(awk '/^started:/ { print $2 }' "$CASE_DIR/out")
    wait_gone hello.0 || return 1
    ctl logs "$id"
    expect_ctl_rc 0 "logs $id" && expect_out 'hello from hello.0.*over tcp'
}

control_net_stop_guest() {
    need_boot || return 1
    ctl load "$G/sleep.elf"
    expect_ctl_rc 0 "load sleep.elf" || return 1
    ctl start sleep.elf --name napper --args "1000 100000"
    expect_ctl_rc 0 "start napper" || return 1
    local id; id=$(awk '/^started:/ { print $2 }' "$CASE_DIR/out")
    ctl stop "$id"
    expect_ctl_rc 0 "stop $id" && wait_gone napper.0
}

control_net_stop_control_guest_refused() {
    need_boot || return 1
    local id; id=$(guest_id control.0)
    [ -n "$id" ] || { CASE_WHY="no control.0 in ps"; return 1; }
    snap_before
    ctl stop "$id"
    expect_ctl_rc 1 "stop of the control guest" &&
    expect_err 'network control guest cannot be stopped' &&
    expect_same_state "stop of the control guest"
}

control_net_stats() {
    need_boot || return 1
    ctl stats --json
    expect_ctl_rc 0 stats || return 1
    local n; n=$(json_field control_requests)
    [ -n "$n" ] && [ "$n" -ge 10 ] ||
        { CASE_WHY="control_requests is '$n', expected the requests made so far"; return 1; }
}

# raw_refused WHAT ARGS...: `mfctl raw` over TCP with a HELLO first (and
# KEY_ARGS: frames MAC'd with the key), each frame refused, nothing
# changed.
raw_refused() {
    snap_before
    ctl raw --hello "${@:2}"
    expect_ctl_rc 1 "raw ($1)" && expect_error_reply '[0-9]+' && expect_same_state "$1"
}

control_net_bad_checksum() {
    need_boot || return 1
    raw_refused "bad checksum" --type 2 --payload-hex 00000000 --bad-checksum
}

control_net_truncated_frame() {
    need_boot || return 1
    raw_refused "truncated" --type 8 --payload-hex 0000000000000000 --truncate 28
}

control_net_unknown_type() {
    need_boot || return 1
    raw_refused "type 42" --type 42 --payload-hex 00000000
}

# Bytes that are no frame at all (and magics with nonsense behind them):
# skipped or refused, and the next request on a new connection works.
control_net_garbage() {
    need_boot || return 1
    snap_before
    { head -c 3000 /dev/urandom | od -An -tx1 -v | tr -d ' \n'
      for i in $(seq 1 40); do printf '4d43544c%s' "$(head -c 20 /dev/urandom | od -An -tx1 -v | tr -d ' \n')"; done
    } > "$CASE_DIR/garbage.hex"
    ctl raw "$CASE_DIR/garbage.hex" --replies 0
    expect_ctl_rc 0 "raw (garbage)" && expect_same_state "garbage"
}

control_net_no_mac() {
    need_boot || return 1
    KEY_ARGS=()
    raw_refused "no MAC" --type 2 --payload-hex 00000000
    local r=$?
    KEY_ARGS=(--key "$KEY")
    return $r
}

control_net_wrong_mac() {
    need_boot || return 1
    raw_refused "bad MAC" --type 2 --payload-hex 00000000 --bad-mac || return 1
    KEY_ARGS=(--key "$OTHER_KEY")
    ctl ps
    KEY_ARGS=(--key "$KEY")
    expect_ctl_rc 1 "ps with the wrong key" && expect_err '^mfctl: ps: .+' &&
    expect_same_state "the wrong key"
}

control_net_replay_refused() {
    need_boot || return 1
    snap_before
    ctl raw --hello --type 2 --payload-hex 00000000 --replay
    expect_ctl_rc 1 "raw --replay" && expect_ok_reply 2 && expect_error_reply 2 || return 1
    ctl raw --hello --type 2 --payload-hex 00000000 --save "$CASE_DIR/frame.hex"
    expect_ctl_rc 0 "raw --save" && expect_ok_reply 2 || return 1
    ctl raw --hello "$CASE_DIR/frame.hex"
    expect_ctl_rc 1 "raw (a frame of an earlier session)" && expect_error_reply 2 &&
    expect_same_state "replays"
}

# After all of it: a good request works, the guest started at boot runs
# on (same id), and nothing refused was counted as served.
control_net_after_bad_input() {
    need_boot || return 1
    ctl ps --json
    expect_ctl_rc 0 "ps after the bad input" || return 1
    [ -n "$KEEPER_ID" ] && [ "$(guest_id keeper.0)" = "$KEEPER_ID" ] ||
        { CASE_WHY="keeper.0 is not guest $KEEPER_ID any more: $(tr '\n' ' ' < "$CASE_DIR/out")"; return 1; }
    ctl stats --json
    local errs; errs=$(json_field control_errors)
    [ -n "$errs" ] && [ "$errs" -ge 8 ] ||
        { CASE_WHY="control_errors is '$errs', expected at least 8 refusals"; return 1; }
    expect_no_line 'panic|fatal'
}

# A guest without the capability: every MF_HC_CTL_XFER refused.
control_net_xfer_needs_capability() {
    expect_line '^\[evil\.0\] evil: ctl-xfer: every slot refused, nothing changed$' &&
    expect_count 9 '^\[evil\.0\] evil: ctl-xfer (empty slot|other object): returned -(5|9) \(want -(5|9)\) ok$' &&
    expect_guest evil.0 'exited with status 0$'
}

# ---- a control net line without a key, and QEMU ----------------------------

control_net_needs_key() {
    BOCHS_SECONDS=60 boot_bochs tigerlake 64 "partition small 2M x 1
switch lan0
control net lan0 ip=10.0.0.2 port=7000"
    expect_line 'mayfly.conf line 3: network control needs a key: add key=<hex> to a control line; mfctl then needs --key' &&
    expect_poweroff 3
}

# The QEMU boot: load, start, ps over TCP (its checks run live, in
# control_net_qemu's folder).
control_net_qemu() {
    cn_boot control_net_qemu qemu 2 "$(conf_main "$QEMU_GUEST_MAC")" ||
        { CASE_WHY=$BOOT_WHY; netns_stop; return 1; }
    CASE_DIR=$BOOT_DIR
    local ok=0
    ctl load "$G/hello.elf" && expect_ctl_rc 0 "load (QEMU)" &&
    ctl start hello.elf --count 2 && expect_ctl_rc 0 "start (QEMU)" &&
    ctl ps --json && expect_ctl_rc 0 "ps (QEMU)" &&
    expect_out '"name": *"control.0"' &&
    expect_line '^mayfly: AMD-V: ' || ok=1
    netns_stop
    return $ok
}

# ---- main ------------------------------------------------------------------

LIVE="control_net_serves control_net_load_start_logs control_net_stop_guest
control_net_stop_control_guest_refused control_net_stats control_net_bad_checksum
control_net_truncated_frame control_net_unknown_type control_net_garbage control_net_no_mac
control_net_wrong_mac control_net_replay_refused control_net_after_bad_input"
AFTER="control_net_xfer_needs_capability"
OTHERS="control_net_needs_key control_net_qemu"

missing=$(missing_tools)
for f in "$G/evil.elf" "$G/ctlnet.elf"; do
    [ -n "$missing" ] || [ -f "$f" ] || missing="$f not found (run make)"
done
[ -n "$missing" ] || missing=$(netns_can_run) && missing=${missing:-}
if [ -n "$missing" ]; then
    for c in $LIVE $AFTER $OTHERS; do
        echo "SKIP: $c: $missing"
    done
    end_of_script
fi
mkdir -p "$SYSTEST_OUT"

if wanted $LIVE $AFTER; then
    cn_boot control_net_bochs bochs 1 "$(conf_main "$NIC_MAC" \
        'guest keeper image=sleep.elf args="60000 100000"' \
        'guest evil image=evil.elf net=lan0 args="ctl-xfer"')" "$G/sleep.elf" "$G/evil.elf"
    for c in $LIVE; do
        run_check "$c" "$BOOT_DIR"
    done
    # The AFTER checks judge the evil guest's lines: before the emulator
    # is stopped, the hypervisor must say evil.0 has ended (alone, with
    # CASE_FILTER, the checks above take no time, and on a loaded
    # machine the guest had not run yet).
    for ((i = 0; i < 60 && ${#BOOT_WHY} == 0; i++)); do
        kill -0 "$NETNS_BOOT_PID" 2>/dev/null || break
        CASE_DIR=$BOOT_DIR ctl ps --json
        [ "$CTL_RC" = 0 ] && ! grep -q '"name":"evil\.0"' "$BOOT_DIR/out" && break
        sleep 1
    done
    # and the emulator must have written its lines (it may write late).
    CASE_DIR=$BOOT_DIR expect_line_soon '^mayfly: guest [0-9]+ evil\.0 (exited|killed)' 10 || true
    netns_stop
    for c in $AFTER; do
        run_check "$c" "$BOOT_DIR"
    done
fi
run_case control_net_needs_key
if [ "${MAYFLY_QEMU:-1}" != 0 ] && command -v qemu-system-x86_64 >/dev/null; then
    run_case control_net_qemu
else
    echo "SKIP: control_net_qemu: MAYFLY_QEMU=0 or no qemu-system-x86_64"
fi
end_of_script
