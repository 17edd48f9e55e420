# The control channel: mfctl's live commands against the hypervisor in
# Bochs, over COM2 as the Unix socket of `mfctl run --control`. One boot
# without a key: uploads (images and a disk), 20 starts one request at a
# time, ps (with the personality), stop,
# stats, logs, then malformed and refused requests, each answered with an
# error reply and no change of state. A second boot with a key: requests
# without a MAC, with a wrong MAC or replayed are refused; with the key
# everything works; then a flood of junk, foreign HELLOs and unsigned
# STOPs on the line (tests/system/ctl_flood.py) while a sleeper guest
# checks its own lateness and an authenticated client keeps working.
# Each check prints its own PASS/FAIL line.
source "$(dirname "$0")/lib.sh"

FLOOD=$(dirname "$0")/ctl_flood.py
KEY=00112233445566778899aabbccddeeff
source "$(dirname "$0")/../lib/control.sh"

# ---- boot 1: no key --------------------------------------------------------

CONF_OPEN='# no guests at boot: everything comes over the control channel
partition small 2M x 24
switch lan0
control com2 store=8M'

HELLO_IDS=()
ECHO_IDS=()

control_server_answers() {
    need_boot || return 1
    expect_line '^mayfly: control: listening on COM2' || return 1
    ctl stats
    expect_ctl_rc 0 stats && expect_out '^guests_started +0$' && expect_out '^store_size +8388608$'
}

control_load_images() {
    need_boot || return 1
    ctl load "$G/hello.elf" "$G/udp-echo.elf"
    expect_ctl_rc 0 load &&
    expect_out "^loaded hello\\.elf \\($(stat -c %s "$G/hello.elf") bytes, crc32 [0-9a-f]{8}\\)$" &&
    expect_out "^loaded udp-echo\\.elf \\($(stat -c %s "$G/udp-echo.elf") bytes, crc32 [0-9a-f]{8}\\)$" &&
    expect_line '^mayfly: control: stored image hello\.elf' || return 1
    # Not a terminal: plain progress lines.
    expect_err '^mfctl: hello\.elf: uploading [0-9]+ bytes$' &&
    expect_err '^mfctl: udp-echo\.elf: [0-9]+ bytes uploaded and stored$'
}

# A disk for a block device: stored as it is, not validated as an image.
control_load_disk() {
    need_boot || return 1
    head -c 4096 /dev/zero >"$CASE_DIR/site.img"
    ctl load "$CASE_DIR/site.img"
    expect_ctl_rc 0 "load site.img" &&
    expect_out '^loaded site\.img \(disk, 4096 bytes, crc32 [0-9a-f]{8}\)$' &&
    expect_line '^mayfly: control: stored disk site\.img \(4096 bytes\)'
}

# 10 hello (count 1 each, with args) and 10 udp-echo on lan0 (idle=0: they
# stay), one START each.
control_start_twenty() {
    need_boot || return 1
    local i id
    HELLO_IDS=()
    ECHO_IDS=()
    for i in $(seq 1 10); do
        ctl start hello.elf --name "h$i" --count 1 --args "n=$i"
        expect_ctl_rc 0 "start h$i" && expect_out '^started: [0-9]+$' && expect_out '^pending: 0$' ||
            return 1
        id=$(sed -n 's/^started: //p' "$CASE_DIR/out")
        HELLO_IDS+=("$id")
    done
    for i in $(seq 1 10); do
        ctl start udp-echo.elf --name "echo$i" --net lan0 --args "ip=10.0.0.$i idle=0"
        expect_ctl_rc 0 "start echo$i" && expect_out '^started: [0-9]+$' &&
        expect_out '^pending: 0$' || return 1
        id=$(sed -n 's/^started: //p' "$CASE_DIR/out")
        ECHO_IDS+=("$id")
    done
    # Twenty different ids.
    local n; n=$(printf '%s\n' "${HELLO_IDS[@]}" "${ECHO_IDS[@]}" | sort -u | wc -l)
    [ "$n" = 20 ] || { CASE_WHY="ids not distinct: ${HELLO_IDS[*]} ${ECHO_IDS[*]}"; return 1; }
}

control_ps_lists_guests() {
    need_boot || return 1
    [ ${#ECHO_IDS[@]} = 10 ] || { CASE_WHY="the starts did not happen"; return 1; }
    ctl ps
    expect_ctl_rc 0 ps &&
    expect_out '^ID +NAME +IMAGE +PERSONALITY +CLASS +STATE +MEM +UPTIME\(ms\) +HYPERCALLS$' || return 1
    local i
    for i in $(seq 1 10); do
        expect_out "^${ECHO_IDS[$((i - 1))]} +echo$i\\.0 +udp-echo\\.elf +mayfly +small +(running|waiting) +2M +[0-9]+ +[0-9]+$" ||
            return 1
    done
    ctl ps --json
    expect_ctl_rc 0 "ps --json" || return 1
    python3 -c 'import json, sys
g = json.load(open(sys.argv[1]))
e = [x for x in g if x["image"] == "udp-echo.elf"]
assert len(e) == 10, e
assert all(x["state"] in ("running", "waiting") and x["mem_size"] == 2 << 20 for x in e), e
assert all(x["personality"] == "mayfly" for x in e), e' \
        "$CASE_DIR/out" 2>"$CASE_DIR/py.err" ||
        { CASE_WHY="ps --json: $(tail -1 "$CASE_DIR/py.err")"; return 1; }
}

control_stop_one() {
    need_boot || return 1
    [ ${#ECHO_IDS[@]} = 10 ] || { CASE_WHY="the starts did not happen"; return 1; }
    local id=${ECHO_IDS[0]} i
    ctl stop "$id"
    expect_ctl_rc 0 stop && expect_out "^stopped $id$" || return 1
    # Gone from the listing once its partition is scrubbed.
    for i in $(seq 50); do
        ctl ps
        [ "$CTL_RC" = 0 ] && ! grep -qE "^$id +echo1\\.0 " "$CASE_DIR/out" && break
        sleep 0.2
    done
    ! grep -qE "^$id +echo1\\.0 " "$CASE_DIR/out" || { CASE_WHY="guest $id still listed after stop"; return 1; }
    [ "$(grep -cE ' udp-echo\.elf ' "$CASE_DIR/out")" = 9 ] ||
        { CASE_WHY="expected 9 udp-echo guests after the stop: $(cat "$CASE_DIR/out")"; return 1; }
}

control_stats_match() {
    need_boot || return 1
    local i exited
    # The hellos end on their own; wait until all ten have.
    for i in $(seq 60); do
        ctl stats --json
        exited=$(json_field guests_exited)
        [ "$exited" = 10 ] && break
        sleep 0.5
    done
    expect_ctl_rc 0 "stats --json" || return 1
    local f want
    for want in guests_started=20 guests_exited=10 guests_failed=1 guests_running=9 \
                partitions_free=15; do
        f=${want%%=*}
        [ "$(json_field "$f")" = "${want#*=}" ] ||
            { CASE_WHY="stats: $f is $(json_field "$f"), expected ${want#*=}"; return 1; }
    done
    ctl stats
    expect_ctl_rc 0 stats && expect_out '^guests_running +9$' || return 1
    # One guest's own counters.
    ctl stats "${ECHO_IDS[1]}" --json
    expect_ctl_rc 0 "stats ID" && [ "$(json_field id)" = "${ECHO_IDS[1]}" ] &&
    [[ $(json_field state) =~ ^(running|waiting)$ ]] ||
        { CASE_WHY="${CASE_WHY:-stats ${ECHO_IDS[1]}: $(cat "$CASE_DIR/out")}"; return 1; }
}

control_logs_of_guest() {
    need_boot || return 1
    [ ${#HELLO_IDS[@]} = 10 ] || { CASE_WHY="the starts did not happen"; return 1; }
    ctl logs "${HELLO_IDS[2]}"
    expect_ctl_rc 0 logs && expect_out "hello from h3\\.0 \\(guest ${HELLO_IDS[2]}\\): n=3" || return 1
    ctl logs "${HELLO_IDS[2]}" --json
    expect_ctl_rc 0 "logs --json" && [[ $(json_field text) == *"hello from h3.0"* ]] ||
        { CASE_WHY="${CASE_WHY:-logs --json: $(cat "$CASE_DIR/out")}"; return 1; }
}

# ---- malformed and refused requests: an error reply, nothing changes ------

raw_case() {   # raw_case WHAT ARGS...: mfctl raw, then the state is compared
    ctl raw --hello "${@:2}"
    expect_ctl_rc 1 "raw ($1)"
}

control_bad_checksum() {
    need_boot || return 1
    snap_before
    raw_case "bad checksum" --type 2 --payload-hex 00000000 --bad-checksum &&
    expect_error_reply 2 && expect_same_state "bad checksum"
}

control_truncated_frame() {
    need_boot || return 1
    snap_before
    # Header and half the payload, then silence: dropped after a pause.
    raw_case "truncated" --type 8 --payload-hex 0000000000000000 --truncate 28 &&
    expect_error_reply '[0-9]+' && expect_same_state "truncated frame"
}

control_unknown_version() {
    need_boot || return 1
    snap_before
    raw_case "version 2" --type 2 --payload-hex 00000000 --version 2 &&
    expect_error_reply 2 && expect_same_state "unknown version"
}

control_unknown_type() {
    need_boot || return 1
    snap_before
    raw_case "type 42" --type 42 --payload-hex 00000000 &&
    expect_error_reply 2 && expect_same_state "unknown type"
}

control_length_over_frame_max() {
    need_boot || return 1
    snap_before
    # The header claims 5000 bytes: refused on the header alone.
    raw_case "length 5000" --type 4 --length 5000 &&
    expect_error_reply 2 && expect_same_state "length over the frame maximum"
}

control_upload_larger_than_store() {
    need_boot || return 1
    snap_before
    raw_case "16 MiB into an 8 MiB store" --type 3 \
        --payload-hex "$(hex_name huge.elf)$(hex_le 8 $((16 << 20)))" &&
    expect_error_reply 2 && expect_same_state "upload larger than the store" || return 1
    ctl start huge.elf
    expect_ctl_rc 1 "start huge.elf"
}

control_chunk_out_of_order() {
    need_boot || return 1
    snap_before
    local size; size=$(stat -c %s "$G/hello.elf")
    # BEGIN is fine; the first chunk claims offset 4088 instead of 0.
    raw_case "chunk out of order" \
        --type 3 --payload-hex "$(hex_name ooo.elf)$(hex_le 8 "$size")" \
        --type 4 --payload-hex "$(hex_le 8 4088)$(hex_file "$G/hello.elf" 64)" &&
    expect_ok_reply 2 && expect_error_reply 3 && expect_same_state "chunk out of order" || return 1
    ctl start ooo.elf
    expect_ctl_rc 1 "start ooo.elf"
}

control_unfinished_upload_then_new() {
    need_boot || return 1
    local size; size=$(stat -c %s "$G/hello.elf")
    # BEGIN and one chunk of partial.elf, never an END ...
    ctl raw --hello --type 3 --payload-hex "$(hex_name partial.elf)$(hex_le 8 "$size")" \
        --type 4 --payload-hex "$(hex_le 8 0)$(hex_file "$G/hello.elf" 4088)"
    expect_ctl_rc 0 "raw (partial upload)" && expect_ok_reply 2 && expect_ok_reply 3 || return 1
    # ... a partly uploaded image never starts ...
    ctl start partial.elf
    expect_ctl_rc 1 "start partial.elf" || return 1
    # ... and a new upload works.
    cp "$G/hello.elf" "$CASE_DIR/fresh.elf"
    ctl load "$CASE_DIR/fresh.elf"
    expect_ctl_rc 0 "load fresh.elf" && expect_out '^loaded fresh\.elf ' || return 1
    ctl start fresh.elf --args "fresh"
    expect_ctl_rc 0 "start fresh.elf" && expect_out '^started: [0-9]+$' || return 1
    wait_gone fresh.0 || return 1     # it runs and exits: later checks see a steady state
    ctl start partial.elf
    expect_ctl_rc 1 "start partial.elf (after the new upload)"
}

control_image_fails_validation() {
    need_boot || return 1
    snap_before
    # mfctl's own check refuses it before sending anything ...
    ctl load "$G/bad-magic.elf"
    expect_ctl_rc 1 "load bad-magic.elf" && expect_err 'bad-magic\.elf rejected: .*bad magic' ||
        return 1
    # ... and so does the hypervisor when mfctl does not check.
    ctl load --no-check "$G/bad-magic.elf"
    expect_ctl_rc 1 "load --no-check bad-magic.elf" &&
    expect_err '^mfctl: load bad-magic\.elf: .*bad magic' &&
    expect_same_state "an image that fails validation" || return 1
    ctl start bad-magic.elf
    expect_ctl_rc 1 "start bad-magic.elf"
}

control_start_unknown_image() {
    need_boot || return 1
    snap_before
    ctl start nosuch.elf
    expect_ctl_rc 1 "start nosuch.elf" && expect_err '^mfctl: start nosuch\.elf: .+' &&
    expect_same_state "start of an unknown image"
}

control_start_unknown_class() {
    need_boot || return 1
    snap_before
    ctl start hello.elf --class nosuch
    expect_ctl_rc 1 "start --class nosuch" && expect_err '^mfctl: start hello\.elf: .+' &&
    expect_same_state "start with an unknown class"
}

control_start_unknown_port() {
    need_boot || return 1
    snap_before
    ctl start hello.elf --net nosuchswitch
    expect_ctl_rc 1 "start --net nosuchswitch" &&
    expect_err "^mfctl: start hello\.elf: .*no switch 'nosuchswitch'" &&
    expect_same_state "start with an unknown port"
}

# A device mapping over START obeys the config's rules (config_check_guest).
control_start_unknown_device_switch() {
    need_boot || return 1
    snap_before
    ctl start hello.elf --net:service=nosuchswitch
    expect_ctl_rc 1 "start --net:service=nosuchswitch" &&
    expect_err "^mfctl: start hello\.elf: .*no switch 'nosuchswitch'" &&
    expect_same_state "start with a device on an unknown switch"
}

control_stop_unknown_id() {
    need_boot || return 1
    snap_before
    ctl stop 999999
    expect_ctl_rc 1 "stop 999999" && expect_err '^mfctl: stop 999999: .+' &&
    expect_same_state "stop of an unknown id"
}

control_refusals_counted() {
    need_boot || return 1
    ctl stats --json
    expect_ctl_rc 0 stats || return 1
    local errs; errs=$(json_field control_errors)
    [ -n "$errs" ] && [ "$errs" -ge 12 ] ||
        { CASE_WHY="control_errors is '$errs', expected at least 12 refusals"; return 1; }
    expect_no_line 'panic|fatal'
}

# ---- boot 2: with a key ------------------------------------------------------

CONF_KEY="partition small 2M x 4
control com2 store=8M key=$KEY"

control_key_required() {
    need_boot || return 1
    KEY_ARGS=()
    # mfctl itself refuses to go on without a key ...
    ctl ps
    expect_ctl_rc 1 "ps without a key" && expect_err 'requires authentication.*--key' || return 1
    # ... and a request without a MAC is refused.
    ctl raw --hello --type 2 --payload-hex 00000000
    expect_ctl_rc 1 "raw without a MAC" && expect_error_reply 2
}

control_wrong_mac() {
    need_boot || return 1
    KEY_ARGS=()
    ctl raw --hello --key "$KEY" --type 2 --payload-hex 00000000 --bad-mac
    expect_ctl_rc 1 "raw with a bad MAC" && expect_error_reply 2 || return 1
    ctl ps --key ffeeddccbbaa99887766554433221100
    expect_ctl_rc 1 "ps with the wrong key" && expect_err '^mfctl: ps: .+'
}

control_replay_refused() {
    need_boot || return 1
    KEY_ARGS=()
    # The same frame twice in one session: the second is refused.
    ctl raw --hello --key "$KEY" --type 2 --payload-hex 00000000 --replay
    expect_ctl_rc 1 "raw --replay" && expect_ok_reply 2 && expect_error_reply 2 || return 1
    # A frame of an earlier session, sent in a new one (another nonce).
    ctl raw --hello --key "$KEY" --type 2 --payload-hex 00000000 --save "$CASE_DIR/frame.hex"
    expect_ctl_rc 0 "raw --save" && expect_ok_reply 2 || return 1
    ctl raw --hello --key "$KEY" "$CASE_DIR/frame.hex"
    expect_ctl_rc 1 "raw (a frame of an earlier session)" && expect_error_reply 2
}

control_with_key_works() {
    need_boot || return 1
    KEY_ARGS=(--key "$KEY")
    ctl load "$G/hello.elf"
    expect_ctl_rc 0 "load with the key" || return 1
    ctl start hello.elf --args "keyed"
    expect_ctl_rc 0 "start with the key" && expect_out '^started: [0-9]+$' || return 1
    local id; id=$(sed -n 's/^started: //p' "$CASE_DIR/out")
    ctl ps
    expect_ctl_rc 0 "ps with the key" || return 1
    local i
    for i in $(seq 60); do
        ctl logs "$id"
        grep -q 'hello from hello\.0' "$CASE_DIR/out" && break
        sleep 0.5
    done
    expect_ctl_rc 0 "logs with the key" && expect_out 'hello from hello\.0 .*keyed' || return 1
    # The key from a file.
    KEY_ARGS=()
    printf '%s\n' "$KEY" > "$CASE_DIR/key"
    ctl stats --key-file "$CASE_DIR/key"
    expect_ctl_rc 0 "stats --key-file" && expect_out '^guests_started +1$' || return 1
    expect_no_line 'panic|fatal'
}

# ---- boot 2: a flood of unauthenticated traffic (issue 8 item 6) -----------

# The flood runs once (control_flood); the checks after it judge it. The
# sleeper (10 ms sleeps, SLEEP_ROUNDS of them) runs through it and reports
# how late each wake-up was.
SLEEP_ROUNDS=${SLEEP_ROUNDS:-300}
SLEEP_LATE_MS=${SLEEP_LATE_MS:-5}   # a wake-up later than this is a miss
FLOOD_OUT=
SLEEP_ID=

flood_field() {   # flood_field EXPR: a Python expression over the result r
    python3 -c 'import json, sys; r = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' \
        "$FLOOD_OUT" "$1" 2>/dev/null
}

control_flood() {
    need_boot || return 1
    KEY_ARGS=(--key "$KEY")
    FLOOD_OUT=$CASE_DIR/flood.json
    : > "$FLOOD_OUT"
    ctl load "$G/sleep.elf"
    expect_ctl_rc 0 "load sleep.elf" || return 1
    # The flood client starts the sleeper itself, then floods at once.
    if ! python3 "$FLOOD" "$SOCK" "$KEY" "$SLEEP_ROUNDS" >"$FLOOD_OUT" 2>"$CASE_DIR/flood.err"; then
        CASE_WHY="the flood client failed: $(tail -2 "$CASE_DIR/flood.err" | tr '\n' ' ')"
        : > "$FLOOD_OUT"
        return 1
    fi
    cat "$FLOOD_OUT" >> "$CASE_DIR/mfctl.log"
    SLEEP_ID=$(flood_field 'r["victim"]')
}

need_flood() {
    need_boot || return 1
    [ -s "$FLOOD_OUT" ] && return 0
    CASE_WHY="the flood did not run (see control_flood)"
    return 1
}

# The authenticated client's requests before, during and after the flood
# (and after foreign HELLOs) were answered, with its MAC.
control_flood_session_survives() {
    need_flood || return 1
    [ "$(flood_field 'len(r["ours"]) == 3 and all(v == "ok" for v in r["ours"].values())')" = True ] ||
        { CASE_WHY="authenticated requests: $(flood_field 'sorted(r["ours"].items())')"; return 1; }
    [ "$(flood_field 'r["signed_refusals"]')" = 0 ] &&
    [ "$(flood_field 'r.get("unexpected", [])')" = "[]" ] ||
        { CASE_WHY="$(cat "$FLOOD_OUT")"; return 1; }
}

# About 2100 frames refused; a bounded number answered; one summary line
# a second in the log instead of one per refusal.
control_flood_refusals_bounded() {
    need_flood || return 1
    local errors refusals hellos summaries each
    errors=$(flood_field 'r["control_errors"]')
    refusals=$(flood_field 'r["refusals"]')
    hellos=$(flood_field 'r["hellos"]')
    [ -n "$errors" ] && [ "$errors" -ge 2000 ] ||
        { CASE_WHY="control_errors is '$errors': the junk was not refused"; return 1; }
    [ -n "$refusals" ] && [ "$refusals" -le 40 ] ||
        { CASE_WHY="$refusals refusals answered of $errors (at most 40 expected)"; return 1; }
    [ -n "$hellos" ] && [ "$hellos" -le 30 ] ||
        { CASE_WHY="$hellos of 40 foreign HELLOs answered (at most 30 expected)"; return 1; }
    summaries=$(grep -c 'mayfly: control: [0-9]* unadmitted frames refused' "$CASE_DIR/serial.log")
    [ "$summaries" -ge 1 ] && [ "$summaries" -le 20 ] ||
        { CASE_WHY="$summaries summary lines for $errors refusals"; return 1; }
    each=$(grep -c 'mayfly: control: request [0-9]* refused' "$CASE_DIR/serial.log")
    [ "$each" -le 10 ] || { CASE_WHY="$each refusals logged one line each"; return 1; }
}

# The sleeper was never more than SLEEP_LATE_MS late, the flood happened
# while it slept, and the unsigned STOPs did not stop it.
control_flood_sleeper_on_time() {
    need_flood || return 1
    local i
    for i in $(seq 240); do
        grep -qE "guest $SLEEP_ID sleeper\\.0 .*(exited|killed|stopped)" "$CASE_DIR/serial.log" &&
            break
        sleep 0.5
    done
    expect_line "^mayfly: guest $SLEEP_ID sleeper\\.0 exited with status 0" || return 1
    # Under QEMU's software CPU (no -icount) the TSC follows the host's
    # clock, so lateness there is the host's load, not the hypervisor's:
    # it is measured and logged, the bound is checked in Bochs only.
    local bound=$SLEEP_LATE_MS
    [ "${CONTROL_EMU:---bochs}" = --qemu ] && bound=1000000
    if ! python3 "$(dirname "$FLOOD")/sleeper_lateness.py" "$CASE_DIR/serial.log" \
            "$(flood_field 'r["tsc_hz"]')" "$bound" "$SLEEP_ROUNDS" \
            >"$CASE_DIR/sleeper.txt" 2>&1; then
        CASE_WHY="$(tail -1 "$CASE_DIR/sleeper.txt")"
        return 1
    fi
    cat "$CASE_DIR/sleeper.txt" >> "$CASE_DIR/mfctl.log"
}

# A new session works after the flood (its HELLO may fall in a second
# whose HELLO budget the flood spent: a few tries).
control_flood_after() {
    need_flood || return 1
    local i
    for i in 1 2 3 4 5; do
        "$MFCTL" stats --control "$SOCK" --timeout 10 --key "$KEY" --json \
            >"$CASE_DIR/out" 2>"$CASE_DIR/err" && break
        sleep 1
    done
    [ -n "$(json_field guests_started)" ] ||
        { CASE_WHY="stats after the flood failed: $(ctl_err_tail)"; return 1; }
    expect_no_line 'panic|fatal'
}

# ---- main ------------------------------------------------------------------

CHECKS_OPEN="control_server_answers control_load_images control_load_disk control_start_twenty
control_ps_lists_guests control_stop_one control_stats_match control_logs_of_guest
control_bad_checksum control_truncated_frame control_unknown_version control_unknown_type
control_length_over_frame_max control_upload_larger_than_store control_chunk_out_of_order
control_unfinished_upload_then_new control_image_fails_validation control_start_unknown_image
control_start_unknown_class control_start_unknown_port control_start_unknown_device_switch
control_stop_unknown_id control_refusals_counted"
CHECKS_KEY="control_key_required control_wrong_mac control_replay_refused control_with_key_works
control_flood control_flood_session_survives control_flood_refusals_bounded
control_flood_sleeper_on_time control_flood_after"

missing=$(missing_tools)
if [ -n "$missing" ]; then
    for c in $CHECKS_OPEN $CHECKS_KEY; do
        echo "SKIP: $c: $missing not found"
    done
    end_of_script
fi

SOCK_DIR=$(mktemp -d /tmp/mayfly-ctl.XXXXXX)
trap cleanup EXIT
mkdir -p "$SYSTEST_OUT"

if wanted $CHECKS_OPEN; then
    control_boot control_open "$CONF_OPEN"
    for c in $CHECKS_OPEN; do
        run_check "$c" "$BOOT_DIR"
    done
    control_shutdown
fi

if wanted $CHECKS_KEY; then
    control_boot control_key "$CONF_KEY"
    for c in $CHECKS_KEY; do
        run_check "$c" "$BOOT_DIR"
    done
    control_shutdown
fi
end_of_script
