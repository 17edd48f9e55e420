# mfctl: `mfctl image` builds a GPT disk image that boots (QEMU + OVMF,
# and Bochs through GRUB), refuses bad configs and bad guest images
# without writing anything, and `mfctl run` reports how the run ended.
# Uses the guests `make` built in build/guests/.
source "$(dirname "$0")/lib.sh"

MFCTL=$MAYFLY_BUILD/mfctl
G=$MAYFLY_BUILD/guests
SGDISK=$(command -v sgdisk || echo /usr/sbin/sgdisk)

CONF_TWO='# two guests, one class
partition small 2M x 4
guest hello image=hello.elf class=small args="from mfctl"
guest count image=count.elf
poweroff when-idle'

missing_tools() {
    local t
    for t in qemu-system-x86_64 mformat mcopy mmd bochs grub-mkrescue socat; do
        command -v "$t" >/dev/null || { echo "$t"; return; }
    done
    [ -x "$SGDISK" ] || { echo sgdisk; return; }
    [ -f "$OVMF_CODE" ] || { echo "$OVMF_CODE"; return; }
    local f
    for f in "$MFCTL" "$MAYFLY_BUILD/BOOTX64.EFI" "$MAYFLY_BUILD/mayfly.elf" "$G/hello.elf" \
             "$G/count.elf" "$G/bad-magic.elf"; do
        [ -f "$f" ] || { echo "$f (run make)"; return; }
    done
}

# mfctl_do ARGS...: runs mfctl with stdout in serial.log and stderr in
# emu.log (the case's tail shows both on a failure); MFCTL_RC is its status.
mfctl_do() {
    "$MFCTL" "$@" >"$CASE_DIR/serial.log" 2>"$CASE_DIR/emu.log"
    MFCTL_RC=$?
}

expect_rc() {
    [ "$MFCTL_RC" = "$1" ] && return 0
    CASE_WHY="mfctl exited $MFCTL_RC, expected $1"
    return 1
}

expect_failure() {
    [ "$MFCTL_RC" != 0 ] && return 0
    CASE_WHY="mfctl exited 0, expected a failure"
    return 1
}

# expect_err REGEX: mfctl's stderr has a line matching REGEX.
expect_err() {
    grep -qE -- "$1" "$CASE_DIR/emu.log" && return 0
    CASE_WHY="no line matching '$1' in mfctl's stderr"
    return 1
}

# expect_no_output: neither the image nor a temporary file beside it.
expect_no_output() {
    local left; left=$(ls "$CASE_DIR" | grep '^mayfly\.img')
    [ -z "$left" ] && return 0
    CASE_WHY="output left behind: $left"
    return 1
}

# make_image CONFIG_TEXT [IMAGE...]: CASE_DIR/mayfly.img from the config.
make_image() {
    local conf=$1; shift
    printf '%s\n' "$conf" > "$CASE_DIR/mayfly.conf"
    "$MFCTL" image -c "$CASE_DIR/mayfly.conf" -o "$CASE_DIR/mayfly.img" "$@" \
        >"$CASE_DIR/image.log" 2>&1 || { CASE_WHY="mfctl image failed: $(tail -3 "$CASE_DIR/image.log")"; return 1; }
}

# One EF00 partition, starting at sector 2048 (1 MiB).
expect_one_esp() {
    "$SGDISK" -p "$CASE_DIR/mayfly.img" > "$CASE_DIR/sgdisk.txt" 2>&1 ||
        { CASE_WHY="sgdisk -p failed: $(tail -2 "$CASE_DIR/sgdisk.txt")"; return 1; }
    local parts esp
    parts=$(grep -cE '^ +[0-9]+ +[0-9]+ +[0-9]+ ' "$CASE_DIR/sgdisk.txt")
    esp=$(grep -cE '^ +1 +2048 +[0-9]+ .* EF00 ' "$CASE_DIR/sgdisk.txt")
    [ "$parts" = 1 ] && [ "$esp" = 1 ] && return 0
    CASE_WHY="expected one EF00 partition at sector 2048: $(grep -E '^ +[0-9]' "$CASE_DIR/sgdisk.txt" | tr -s ' ')"
    return 1
}

mfctl_image_boots_in_qemu() {
    make_image "$CONF_TWO" "$G/hello.elf" "$G/count.elf" &&
    expect_one_esp || return 1
    mfctl_do run "$CASE_DIR/mayfly.img" --qemu --timeout 90
    emu_classify "$CASE_DIR" "$MFCTL_RC" qemu
    expect_line '^mayfly: Mayfly microhypervisor, uefi entry' &&
    expect_line '^mayfly: loader: read .mayfly.hello\.elf' &&
    expect_line '^mayfly: loader: read .mayfly.count\.elf' &&
    expect_line '^mayfly: image [0-9a-f]+-[0-9a-f]+, 3 files' &&
    expect_line '^mayfly: config: 1 partition classes, 2 guest lines' &&
    expect_line '^mayfly: partition class small: 2 MiB x 4 at ' || return 1
    if kvm_vtx_available; then
        # KVM with nested VT-x: the guests run.
        expect_line '^mayfly: guest hello: image hello\.elf ok' &&
        expect_line '^mayfly: guest count: image count\.elf ok' &&
        expect_poweroff 0 && expect_rc 0
    else
        # TCG: QEMU's emulated CPU (-cpu max) has AMD-V with nested paging.
        expect_line '^mayfly: AMD-V: ' &&
        expect_line '^mayfly: guest hello: image hello\.elf ok' &&
        expect_line '^mayfly: guest count: image count\.elf ok' &&
        expect_poweroff 0 && expect_rc 0
    fi
}

mfctl_image_boots_in_bochs() {
    make_image "$CONF_TWO" "$G/hello.elf" "$G/count.elf" || return 1
    mfctl_do run "$CASE_DIR/mayfly.img" --bochs --timeout 240
    EMU_RESULT=exit
    grep -q "^mayfly: power off" "$CASE_DIR/serial.log" && EMU_RESULT=poweroff
    expect_line '^mayfly: Mayfly microhypervisor, multiboot2 entry' &&
    expect_line '^mayfly: image [0-9a-f]+-[0-9a-f]+, 3 files' &&
    expect_line '^mayfly: guest hello: image hello\.elf ok' &&
    expect_line '^mayfly: guest count: image count\.elf ok' &&
    expect_line '^\[hello\.0\] .*from mfctl' &&
    expect_line '^mayfly: guest [0-9]+ count\.0 exited with status 0' &&
    expect_no_line $'\r' &&
    expect_poweroff 0 && expect_rc 0
}

mfctl_image_rejects_bad_config() {
    printf 'partition small 2M x 4\nguest hello image=hello.elf clas=small\n' > "$CASE_DIR/mayfly.conf"
    mfctl_do image -c "$CASE_DIR/mayfly.conf" -o "$CASE_DIR/mayfly.img" "$G/hello.elf"
    expect_failure &&
    expect_err "mayfly\.conf line 2: unknown guest option 'clas'" &&
    expect_no_output
}

mfctl_image_rejects_bad_image() {
    printf 'partition small 2M x 4\nguest ok image=hello.elf\nguest bad image=bad-magic.elf\n' \
        > "$CASE_DIR/mayfly.conf"
    mfctl_do image -c "$CASE_DIR/mayfly.conf" -o "$CASE_DIR/mayfly.img" "$G/hello.elf" \
        "$G/bad-magic.elf"
    expect_failure &&
    expect_err 'line 3: guest bad: image .*bad-magic\.elf rejected: .*bad magic' &&
    expect_no_output
}

mfctl_image_rejects_missing_image() {
    # Looked up on the command line, then next to the config: here, neither.
    printf 'partition small 2M x 4\nguest ghost image=ghost.elf\n' > "$CASE_DIR/mayfly.conf"
    mfctl_do image -c "$CASE_DIR/mayfly.conf" -o "$CASE_DIR/mayfly.img"
    expect_failure &&
    expect_err 'line 2: guest ghost: image ghost\.elf not found' &&
    expect_no_output || return 1
    # Next to the config it is found.
    cp "$G/hello.elf" "$CASE_DIR/ghost.elf"
    mfctl_do image -c "$CASE_DIR/mayfly.conf" -o "$CASE_DIR/mayfly.img"
    expect_rc 0 && [ -f "$CASE_DIR/mayfly.img" ] ||
        { CASE_WHY="${CASE_WHY:-no image written}"; return 1; }
}

mfctl_usage() {
    mfctl_do frobnicate
    expect_rc 2 && expect_err "unknown command 'frobnicate'" && expect_err '^usage: mfctl' || return 1
    mfctl_do image --frobnicate
    expect_rc 2 && expect_err "unknown option '--frobnicate'" && expect_err '^usage: mfctl image' || return 1
    mfctl_do run
    expect_rc 2 && expect_err '^usage: mfctl run' || return 1
    mfctl_do ps
    expect_rc 2 && expect_err 'no control address: pass --control SOCKET .* or --control tcp://HOST:PORT' || return 1
    mfctl_do --help
    expect_rc 0 && expect_line '^usage: mfctl' && expect_line '^  run ' || return 1
    mfctl_do image --help
    expect_rc 0 && expect_line '^usage: mfctl image' || return 1
    mfctl_do run --help
    expect_rc 0 && expect_line '^usage: mfctl run'
}

mfctl_run_timeout() {
    # No power-off when idle: the run ends at --timeout with status 124.
    make_image 'partition small 2M x 2
guest hello image=hello.elf' "$G/hello.elf" || return 1
    mfctl_do run "$CASE_DIR/mayfly.img" --bochs --timeout 8
    expect_rc 124 && expect_err 'timed out after 8 s' &&
    expect_line '^mayfly: idle'
}

# --cpus: the range depends on the emulator, whichever order the options
# come in, and a bad value is refused before anything boots; a good one
# reaches the emulator (stand-ins that record what they were given).
mfctl_run_cpus() {
    make_image "$CONF_TWO" "$G/hello.elf" "$G/count.elf" || return 1
    mfctl_do run "$CASE_DIR/mayfly.img" --bochs --cpus 0
    expect_rc 2 && expect_err "--cpus takes a number from 1 to 14 with --bochs .*not '0'" || return 1
    mfctl_do run "$CASE_DIR/mayfly.img" --cpus 15 --bochs
    expect_rc 2 && expect_err "--cpus takes a number from 1 to 14 with --bochs .*not '15'" || return 1
    mfctl_do run "$CASE_DIR/mayfly.img" --qemu --cpus 65
    expect_rc 2 && expect_err "--cpus takes a number from 1 to 64 with --qemu, not '65'" || return 1
    mfctl_do run "$CASE_DIR/mayfly.img" --cpus two
    expect_rc 2 && expect_err "--cpus takes a number from 1 to 64 with --qemu, not 'two'" || return 1
    mkdir -p "$CASE_DIR/bin"
    printf '#!/bin/sh\nprintf "%%s\\n" "$@" > "%s/qemu.args"\n' "$CASE_DIR" \
        > "$CASE_DIR/bin/qemu-system-x86_64"
    printf '#!/bin/sh\ncp "$3" "%s/bochsrc"\n' "$CASE_DIR" > "$CASE_DIR/bin/bochs"
    chmod +x "$CASE_DIR/bin/qemu-system-x86_64" "$CASE_DIR/bin/bochs"
    PATH=$CASE_DIR/bin:$PATH mfctl_do run "$CASE_DIR/mayfly.img" --cpus 64 --timeout 20
    grep -qxF -- '-smp' "$CASE_DIR/qemu.args" && grep -A1 -xF -- '-smp' "$CASE_DIR/qemu.args" |
        tail -1 | grep -qx 64 || { CASE_WHY="QEMU was not given -smp 64: $(tr '\n' ' ' < "$CASE_DIR/qemu.args")"; return 1; }
    PATH=$CASE_DIR/bin:$PATH mfctl_do run "$CASE_DIR/mayfly.img" --bochs --cpus 14 --timeout 60
    grep -qE '^cpu: model=tigerlake, count=14,' "$CASE_DIR/bochsrc" ||
        { CASE_WHY="bochsrc: $(grep '^cpu:' "$CASE_DIR/bochsrc" 2>/dev/null || echo none)"; return 1; }
    PATH=$CASE_DIR/bin:$PATH mfctl_do run "$CASE_DIR/mayfly.img" --bochs --timeout 60
    grep -qE '^cpu: model=tigerlake, count=1,' "$CASE_DIR/bochsrc" ||
        { CASE_WHY="bochsrc without --cpus: $(grep '^cpu:' "$CASE_DIR/bochsrc" 2>/dev/null || echo none)"; return 1; }
}

# A stand-in for Bochs that connects to the COM2 port of its bochsrc and
# echoes what it receives with "hello" made "HELLO", then powers off.
write_fake_bochs() {
    mkdir -p "$CASE_DIR/bin"
    cat > "$CASE_DIR/bin/bochs" <<'EOF'
#!/usr/bin/env bash
rc=$3
port=$(sed -n 's/^com2: enabled=1, mode=socket-client, dev=127\.0\.0\.1:\([0-9]*\)$/\1/p' "$rc")
log=$(sed -n 's/^com1: enabled=1, mode=file, dev=\(.*\)$/\1/p' "$rc")
printf 'mayfly: fake bochs, com2 port %s\r\n' "$port" > "$log"
[ -n "$port" ] && timeout 6 socat TCP:127.0.0.1:"$port" EXEC:'sed -u s/hello/HELLO/'
printf 'mayfly: power off (status 0)\r\n' >> "$log"
exit 1
EOF
    chmod +x "$CASE_DIR/bin/bochs"
}

mfctl_bochs_control_bridge() {
    make_image "$CONF_TWO" "$G/hello.elf" "$G/count.elf" || return 1
    write_fake_bochs
    local sock=$CASE_DIR/control.sock reply
    PATH=$CASE_DIR/bin:$PATH "$MFCTL" run "$CASE_DIR/mayfly.img" --bochs --control "$sock" \
        --timeout 30 >"$CASE_DIR/serial.log" 2>"$CASE_DIR/emu.log" &
    local pid=$!
    for _ in $(seq 50); do
        grep -q 'fake bochs' "$CASE_DIR/serial.log" 2>/dev/null && [ -S "$sock" ] && break
        sleep 0.2
    done
    reply=$( (printf 'hello over com2\n'; sleep 1) | timeout 5 socat - UNIX-CONNECT:"$sock")
    wait $pid
    MFCTL_RC=$?
    [ "$reply" = "HELLO over com2" ] || { CASE_WHY="reply over the control socket: '$reply'"; return 1; }
    expect_line '^mayfly: fake bochs, com2 port [0-9]+$' &&
    expect_rc 0 || return 1
    [ ! -e "$sock" ] || { CASE_WHY="control socket left behind"; return 1; }
}

missing=$(missing_tools)
CASES="mfctl_image_boots_in_qemu mfctl_image_boots_in_bochs mfctl_image_rejects_bad_config
mfctl_image_rejects_bad_image mfctl_image_rejects_missing_image mfctl_usage mfctl_run_cpus
mfctl_run_timeout mfctl_bochs_control_bridge"
if [ -n "$missing" ]; then
    for c in $CASES; do
        echo "SKIP: $c: $missing not found"
    done
    end_of_script
fi
for c in $CASES; do
    run_case "$c"
done
end_of_script
