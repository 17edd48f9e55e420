# Control-channel helpers for system tests: boot the hypervisor in Bochs
# with `mfctl run --control` in the background, drive it with mfctl, and
# compare what it reports. Source after tests/system/lib.sh; set SOCK_DIR
# (a short directory under /tmp) and call cleanup on exit.
MFCTL=$MAYFLY_BUILD/mfctl
G=$MAYFLY_BUILD/guests
CTL_TIMEOUT=${CTL_TIMEOUT:-120}     # seconds per reply: uploads crawl while guests run
BOOT_WAIT=${BOOT_WAIT:-240}         # seconds for the boot to reach the control server
RUN_SECONDS=${RUN_SECONDS:-900}     # the emulator's safety net; killed when done

SOCK_DIR=                           # socket paths must be short: under /tmp
RUN_PID=
BOOT_DIR=
BOOT_WHY=
SOCK=
KEY_ARGS=()

missing_tools() {
    local t f
    for t in bochs grub-mkrescue xorriso mformat mcopy mmd python3; do
        command -v "$t" >/dev/null || { echo "$t"; return; }
    done
    command -v sgdisk >/dev/null || [ -x /usr/sbin/sgdisk ] || { echo sgdisk; return; }
    for f in "$MFCTL" "$MAYFLY_BUILD/mayfly.elf" "$G/hello.elf" "$G/udp-echo.elf" \
             "$G/bad-magic.elf" "$G/sleep.elf"; do
        [ -f "$f" ] || { echo "$f (run make)"; return; }
    done
}

# ---- the boots -----------------------------------------------------------

# control_boot NAME CONFIG_TEXT [FILE...]: builds an image (with the guest
# images the config's lines name) and starts `mfctl run
# --bochs --control` in the background (CONTROL_EMU=--qemu: the UEFI image
# under OVMF, on AMD-V); waits for the control server's line. BOOT_WHY
# says why when it did not come.
control_boot() {
    local name=$1 conf=$2; shift 2
    BOOT_DIR=$SYSTEST_OUT/$name
    BOOT_WHY=
    SOCK=$SOCK_DIR/$name.sock
    rm -rf "$BOOT_DIR"
    mkdir -p "$BOOT_DIR"
    printf '%s\n' "$conf" > "$BOOT_DIR/mayfly.conf"
    if ! "$MFCTL" image -c "$BOOT_DIR/mayfly.conf" -o "$BOOT_DIR/mayfly.img" "$@" \
            >"$BOOT_DIR/image.log" 2>&1; then
        BOOT_WHY="mfctl image failed: $(tail -2 "$BOOT_DIR/image.log" | tr '\n' ' ')"
        : > "$BOOT_DIR/serial.log"
        return 1
    fi
    : > "$BOOT_DIR/serial.log"
    "$MFCTL" run "$BOOT_DIR/mayfly.img" "${CONTROL_EMU:---bochs}" --control "$SOCK" --timeout "$RUN_SECONDS" \
        >"$BOOT_DIR/serial.log" 2>"$BOOT_DIR/emu.log" &
    RUN_PID=$!
    local i
    for ((i = 0; i < BOOT_WAIT * 5; i++)); do
        if grep -q '^mayfly: control: listening on COM2' "$BOOT_DIR/serial.log" &&
           [ -S "$SOCK" ]; then
            return 0
        fi
        if ! kill -0 "$RUN_PID" 2>/dev/null; then
            BOOT_WHY="the run ended before the control server was up: $(tail -2 "$BOOT_DIR/emu.log" | tr '\n' ' ')"
            return 1
        fi
        sleep 0.2
    done
    BOOT_WHY="no 'mayfly: control: listening on COM2' line within $BOOT_WAIT s"
    return 1
}

# Stops the run (the hypervisor stays up with a control channel): mfctl
# run stops Bochs on SIGTERM and removes the socket.
control_shutdown() {
    [ -n "$RUN_PID" ] || return 0
    kill -TERM "$RUN_PID" 2>/dev/null
    wait "$RUN_PID" 2>/dev/null
    RUN_PID=
}

cleanup() {
    control_shutdown
    [ -n "$SOCK_DIR" ] && rm -rf "$SOCK_DIR"
}

# ---- helpers for the checks ----------------------------------------------

# ctl COMMAND ARGS...: mfctl COMMAND against this boot; stdout in
# CASE_DIR/out, stderr in CASE_DIR/err (and both in mfctl.log), status in
# CTL_RC.
ctl() {
    local cmd=$1; shift
    "$MFCTL" "$cmd" --control "$SOCK" --timeout "$CTL_TIMEOUT" "${KEY_ARGS[@]}" "$@" \
        >"$CASE_DIR/out" 2>"$CASE_DIR/err"
    CTL_RC=$?
    { printf '$ mfctl %.300s -> %s\n' "$cmd ${KEY_ARGS[*]} $*" "$CTL_RC"; cat "$CASE_DIR/out" "$CASE_DIR/err"; } \
        >> "$CASE_DIR/mfctl.log"
}

# Every check needs the boot; without it, it fails with the reason.
need_boot() {
    [ -z "$BOOT_WHY" ] && return 0
    CASE_WHY="no control server: $BOOT_WHY"
    return 1
}

ctl_err_tail() {
    tail -2 "$CASE_DIR/err" 2>/dev/null | tr '\n' ' '
}

expect_ctl_rc() {
    [ "$CTL_RC" = "$1" ] && return 0
    CASE_WHY="mfctl ${2:-} exited $CTL_RC, expected $1: $(ctl_err_tail)$(tail -3 "$CASE_DIR/out" | tr '\n' ' ')"
    return 1
}

# expect_out REGEX / expect_err REGEX: mfctl's stdout / stderr has a match.
expect_out() {
    grep -qE -- "$1" "$CASE_DIR/out" && return 0
    CASE_WHY="no line matching '$1' in mfctl's output: $(head -5 "$CASE_DIR/out" | tr '\n' ' ')"
    return 1
}

expect_err() {
    grep -qE -- "$1" "$CASE_DIR/err" && return 0
    CASE_WHY="no line matching '$1' in mfctl's stderr: $(ctl_err_tail)"
    return 1
}

# expect_error_reply SEQ: `mfctl raw` printed an error reply (negative
# status, a message saying why) to the frame with that seq ('[0-9]+': any).
expect_error_reply() {
    expect_out "^reply type=0x[0-9a-f]{2} \\([A-Z_?]+\\) seq=$1 length=[0-9]+( mac=[a-z]+)? status=-[0-9]+ message=\"..+\"$"
}

# expect_ok_reply SEQ
expect_ok_reply() {
    expect_out "^reply type=0x[0-9a-f]{2} \\([A-Z_]+\\) seq=$1 length=[0-9]+( mac=(ok|unchecked))? status=0 message=\"\"$"
}

# json_field FIELD: a field of the JSON object mfctl printed.
json_field() {
    python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' \
        "$CASE_DIR/out" "$1" 2>/dev/null
}

# The state a refused request must not change: the guests alive (id, name,
# image) and the counters of guests and of the image store.
state_snapshot() {
    ctl ps --json || true
    [ "$CTL_RC" = 0 ] || { echo "ps failed: $(ctl_err_tail)"; return; }
    python3 -c 'import json, sys
for g in json.load(open(sys.argv[1])): print(g["id"], g["name"], g["image"])' "$CASE_DIR/out"
    ctl stats --json
    [ "$CTL_RC" = 0 ] || { echo "stats failed: $(ctl_err_tail)"; return; }
    python3 -c 'import json, sys
s = json.load(open(sys.argv[1]))
print(*(k + "=" + str(s[k]) for k in ("guests_started", "guests_running", "guests_exited",
      "guests_failed", "partitions_free", "store_free")))' "$CASE_DIR/out"
}

snap_before() {
    SNAP_BEFORE=$(state_snapshot)
}

# wait_gone NAME: until ps no longer lists guest NAME (it exited), 30 s at most.
wait_gone() {
    local i
    for i in $(seq 1 60); do
        ctl ps --json
        [ "$CTL_RC" = 0 ] && ! grep -q "\"$1\"" "$CASE_DIR/out" && return 0
        sleep 0.5
    done
    CASE_WHY="guest $1 is still listed after 30 s"
    return 1
}

# The hypervisor still answers, and nothing changed.
expect_same_state() {
    local after; after=$(state_snapshot)
    [ "$after" = "$SNAP_BEFORE" ] && return 0
    CASE_WHY="state changed after '$1': before [$(echo "$SNAP_BEFORE" | tr '\n' ';')] after [$(echo "$after" | tr '\n' ';')]"
    return 1
}

# Payload pieces for hand-made frames: a NUL-padded 32-byte name, little-
# endian integers, the bytes of a file.
hex_name() {
    local h; h=$(printf '%s' "$1" | od -An -tx1 -v | tr -d ' \n')
    printf '%s' "$h"
    printf '0%.0s' $(seq $((64 - ${#h})))
}
hex_le() {   # hex_le BYTES VALUE
    local i v=$2
    for ((i = 0; i < $1; i++)); do printf '%02x' $((v & 255)); v=$((v >> 8)); done
}
hex_file() {   # hex_file FILE BYTES
    od -An -tx1 -v -N "$2" "$1" | tr -d ' \n'
}

# wanted CHECKS...: whether CASE_FILTER leaves any of them to run (a boot
# none of whose checks run is not worth its minutes).
wanted() {
    local c
    for c in "$@"; do
        [ -z "${CASE_FILTER:-}" ] || [[ $c =~ $CASE_FILTER ]] && return 0
    done
    return 1
}

