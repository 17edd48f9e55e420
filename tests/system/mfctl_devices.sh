# mfctl's side of issue 10 against a fake control server (tests/system/
# fake_ctl_server.py, mode record) that prints what each START and
# UPLOAD_BEGIN carried: `mfctl start` sends a Solo5 image's device
# mappings in the long START (and the 424-byte first version without
# them), refuses bad mappings by the config's rules before sending
# anything, `mfctl load` uploads disks with their kind, and `mfctl ps`
# shows the personality the hypervisor reports (and "-" from one that
# does not, mode record-old). Needs no emulator.
source "$(dirname "$0")/lib.sh"

MFCTL=$MAYFLY_BUILD/mfctl
FAKE=$(dirname "$0")/fake_ctl_server.py
SOCK_DIR=
FAKE_PID=

CASES="devices_start_sends_mappings devices_start_without_mappings devices_start_refused
devices_load_disk devices_ps_personality devices_ps_older_hypervisor"

# fake_start MODE: the fake on a fresh socket in SOCK.
fake_start() {
    SOCK=$SOCK_DIR/$1.sock
    python3 "$FAKE" "$SOCK" "$1" >"$CASE_DIR/fake.log" 2>&1 &
    FAKE_PID=$!
    local i
    for ((i = 0; i < 50; i++)); do
        [ -S "$SOCK" ] && grep -q listening "$CASE_DIR/fake.log" && return 0
        sleep 0.1
    done
    CASE_WHY="the fake server did not start: $(tail -2 "$CASE_DIR/fake.log")"
    return 1
}

fake_stop() {
    [ -n "$FAKE_PID" ] && kill "$FAKE_PID" 2>/dev/null && wait "$FAKE_PID" 2>/dev/null
    FAKE_PID=
}

# ctl COMMAND ARGS...: mfctl against the fake; status in RC.
ctl() {
    local cmd=$1
    shift
    "$MFCTL" "$cmd" --control "${SOCK:-$SOCK_DIR/none.sock}" --timeout 10 "$@" \
        >"$CASE_DIR/out" 2>"$CASE_DIR/err"
    RC=$?
    { echo "\$ mfctl $cmd $* -> $RC"; cat "$CASE_DIR/out" "$CASE_DIR/err"; } >>"$CASE_DIR/mfctl.log"
}

# expect_rc RC: mfctl exited RC.
expect_rc() {
    [ "$RC" = "$1" ] && return 0
    CASE_WHY="mfctl exited $RC, expected $1: $(tr '\n' ' ' <"$CASE_DIR/err")$(tr '\n' ' ' <"$CASE_DIR/out")"
    return 1
}

# expect_in FILE REGEX: a line of FILE (out, err or fake.log) matches.
expect_in() {
    grep -qE -- "$2" "$CASE_DIR/$1" && return 0
    CASE_WHY="no line of $1 matches '$2': $(tr '\n' ' ' <"$CASE_DIR/$1")"
    return 1
}

devices_start_sends_mappings() {
    fake_start record || return 1
    ctl start www.hvt --class mirage --net:service=lan0 --block:storage=site.img \
        --block-sector-size:storage=4096 --block:logs=logs.img
    fake_stop
    expect_rc 0 && expect_in out '^started: 7$' &&
    expect_in fake.log '^START 1548 image=www\.hvt name=www devices=service=net:lan0:0,storage=block:site\.img:4096,logs=block:logs\.img:0$'
}

# Without device options the request is the first version's: any
# hypervisor takes it.
devices_start_without_mappings() {
    fake_start record || return 1
    ctl start hello.elf --net lan0
    fake_stop
    expect_rc 0 && expect_in fake.log '^START 424 image=hello\.elf name=hello devices=-$'
}

# Refused by the config's own rules, before any request is sent.
devices_start_refused() {
    fake_start record || return 1
    local bad
    ctl start www.hvt --net:a=lan0 --block:a=x.img
    expect_rc 2 && expect_in err "device 'a' is mapped twice" || return 1
    ctl start www.hvt --block:a=x.img --block-sector-size:b=4096
    expect_rc 2 && expect_in err 'block-sector-size:b names no device' || return 1
    ctl start www.hvt --block:a=x.img --block-sector-size:a=1000
    expect_rc 2 && expect_in err "bad sector size '1000'" || return 1
    ctl start www.hvt --net lan0 --net:service=lan0
    expect_rc 2 && expect_in err 'one or the other' || return 1
    ctl start www.hvt --net:ser-vice=lan0
    expect_rc 2 && expect_in err "bad net: device name 'ser-vice'" || return 1
    ctl start www.hvt --net:service
    expect_rc 2 && expect_in err 'a device option is --net:<device>=<switch>' || return 1
    bad=$(printf -- '--net:d%s=lan0 ' 1 2 3 4 5 6 7 8 9)
    # shellcheck disable=SC2086
    ctl start www.hvt $bad
    expect_rc 2 && expect_in err 'too many devices' || return 1
    fake_stop
    ! grep -q '^START' "$CASE_DIR/fake.log" ||
        { CASE_WHY="a refused start was sent: $(grep '^START' "$CASE_DIR/fake.log")"; return 1; }
}

devices_load_disk() {
    head -c 4096 /dev/zero >"$CASE_DIR/site.img"
    fake_start record || return 1
    ctl load "$CASE_DIR/site.img"
    expect_rc 0 && expect_in out '^loaded site\.img \(disk, 4096 bytes, crc32 [0-9a-f]{8}\)$' &&
    expect_in err 'site\.img has no ELF header: uploading it as a disk' || { fake_stop; return 1; }
    # --disk: a guest image uploaded as a disk, without the note.
    ctl load --disk "$MAYFLY_BUILD/guests/hello.elf"
    expect_rc 0 && expect_in out '^loaded hello\.elf \(disk, ' || { fake_stop; return 1; }
    grep -q 'no ELF header' "$CASE_DIR/err" && { CASE_WHY="--disk still noted"; fake_stop; return 1; }
    # A file named as an image without the ELF magic is a broken image,
    # refused here, not a disk.
    cp "$CASE_DIR/site.img" "$CASE_DIR/broken.hvt"
    ctl load "$CASE_DIR/broken.hvt"
    expect_rc 1 && expect_in err 'broken\.hvt rejected: .*nothing uploaded' ||
        { fake_stop; return 1; }
    # An image: kind 0 (and checked here first).
    ctl load "$MAYFLY_BUILD/guests/hello.elf"
    fake_stop
    ! grep -q 'name=broken' "$CASE_DIR/fake.log" ||
        { CASE_WHY="broken.hvt was uploaded"; return 1; }
    expect_rc 0 && expect_in out '^loaded hello\.elf \([0-9]+ bytes' &&
    expect_in fake.log '^UPLOAD_BEGIN 48 name=site\.img size=4096 kind=1$' &&
    expect_in fake.log '^UPLOAD_BEGIN 48 name=hello\.elf size=[0-9]+ kind=1$' &&
    expect_in fake.log '^UPLOAD_BEGIN 48 name=hello\.elf size=[0-9]+ kind=0$'
}

devices_ps_personality() {
    fake_start record || return 1
    ctl ps
    expect_rc 0 &&
    expect_in out '^ID +NAME +IMAGE +PERSONALITY +CLASS +STATE +MEM +UPTIME\(ms\) +HYPERCALLS$' &&
    expect_in out '^7 +www\.0 +www\.hvt +solo5-hvt +mirage +running +32M +[0-9]+ +3$' &&
    expect_in out '^8 +hello\.0 +hello\.elf +mayfly +small +running +2M +[0-9]+ +3$' ||
        { fake_stop; return 1; }
    ctl ps --json
    fake_stop
    expect_rc 0 || return 1
    python3 -c 'import json, sys
g = json.load(open(sys.argv[1]))
assert [x["personality"] for x in g] == ["solo5-hvt", "mayfly"], g' \
        "$CASE_DIR/out" 2>"$CASE_DIR/py.err" ||
        { CASE_WHY="ps --json: $(tail -1 "$CASE_DIR/py.err")"; return 1; }
}

# A hypervisor from before personalities sends 128-byte entries: every
# entry is still read at its place, the personality is "-".
devices_ps_older_hypervisor() {
    fake_start record-old || return 1
    ctl ps
    fake_stop
    expect_rc 0 &&
    expect_in out '^7 +www\.0 +www\.hvt +- +mirage +running +32M ' &&
    expect_in out '^8 +hello\.0 +hello\.elf +- +small +running +2M '
}

missing=
command -v python3 >/dev/null || missing=python3
[ -x "$MFCTL" ] || missing="$MFCTL (run make)"
[ -f "$MAYFLY_BUILD/guests/hello.elf" ] || missing="$MAYFLY_BUILD/guests/hello.elf (run make)"
if [ -n "$missing" ]; then
    for c in $CASES; do
        echo "SKIP: $c: $missing not found"
    done
    end_of_script
fi

SOCK_DIR=$(mktemp -d /tmp/mayfly-fake.XXXXXX)
trap 'fake_stop; rm -rf "$SOCK_DIR"' EXIT
mkdir -p "$SYSTEST_OUT"
for c in $CASES; do
    run_case "$c"
done
end_of_script
