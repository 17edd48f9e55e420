# The Solo5 hvt personality in Bochs (tigerlake): hvt unikernels written
# here (tests/guests/hvt/, guests/hvt-hello/) run beside native Mayfly
# guests, each ending with its expected status and output; hostile hvt
# hypercalls end or fail only their guest; block devices are private
# copy-on-start views; broken images and unmapped devices are refused
# with their reason; a Solo5 guest and a native guest exchange 1000
# datagrams through a switch. Three boots, checks on each with run_check.
source "$(dirname "$0")/lib.sh"
G=$MAYFLY_BUILD/guests

# ---- boot 1: the test unikernel's modes, hostile ones included, beside
# native guests and an ABI version 1 image.
FLEET_CONF='partition small 4M x 8
guest native image=hello.elf args="native beside hvt"
guest counter image=count.elf
guest hello image=hvt-test.hvt args="hello with words"
guest v1 image=hvt-test-v1.hvt args="hello from abi 1"
guest data image=hvt-test.hvt args="data"
guest tls image=hvt-test.hvt args="tls"
guest sse image=hvt-test.hvt args="sse"
guest time image=hvt-test.hvt args="time"
guest pf image=hvt-test.hvt args="trap-pf"
guest null image=hvt-test.hvt args="trap-null"
guest ssp image=hvt-test.hvt args="ssp"
guest ud image=hvt-test.hvt args="ud"
guest badstruct image=hvt-test.hvt args="bad-struct"
guest wrap image=hvt-test.hvt args="puts-wrap"
guest handle image=hvt-test.hvt args="bad-handle"
guest port image=hvt-test.hvt args="bad-port"
guest inport image=hvt-test.hvt args="in-port"
guest spin image=hvt-test.hvt timeout=500 args="spin"
guest demo image=hvt-hello.hvt args="demo run"
poweroff when-idle'

fleet_boots() {
    BOCHS_SECONDS=400 boot_bochs tigerlake 128 "$FLEET_CONF" "$G/hello.elf" "$G/count.elf" \
        "$G/hvt-test.hvt" "$G/hvt-test-v1.hvt" "$G/hvt-hello.hvt" &&
    expect_line '^mayfly: guest hello: image hvt-test.hvt ok \(solo5-hvt, entry 0x[0-9a-f]+' &&
    expect_line '^mayfly: guest native: image hello.elf ok \(mayfly, ' &&
    expect_line '^mayfly: all guests have ended: 19 started, 10 exited 0, 4 failed, 5 killed' &&
    expect_no_line 'panic' &&
    expect_poweroff 1
}

native_guests_run_beside_hvt() {
    expect_line '^\[native\.0\] .*native beside hvt' &&
    expect_guest native.0 'exited with status 0$' &&
    expect_guest counter.0 'exited with status 0$'
}

hvt_hello_gets_its_command_line() {
    expect_line '^\[hello\.0\] hello from hvt$' &&
    expect_line '^\[hello\.0\] hvt-test: cmdline "hello with words"$' &&
    expect_guest hello.0 'exited with status 0$' &&
    expect_line '^\[demo\.0\] hvt-hello: command line "demo run"$' &&
    expect_guest demo.0 'exited with status 0$'
}

abi_version_1_image_runs() {
    expect_line '^\[v1\.0\] hvt-test: cmdline "hello from abi 1"$' &&
    expect_guest v1.0 'exited with status 0$'
}

data_tls_and_sse_work() {
    expect_line '^\[data\.0\] data ok$' && expect_guest data.0 'exited with status 0$' &&
    expect_line '^\[tls\.0\] tls ok$' && expect_guest tls.0 'exited with status 0$' &&
    expect_line '^\[sse\.0\] sse ok$' && expect_guest sse.0 'exited with status 0$'
}

time_and_walltime_hold() {
    expect_line '^\[time\.0\] time ok$' &&
    expect_line '^\[time\.0\] walltime ok [0-9]+$' &&
    expect_guest time.0 'exited with status 0$'
}

# The guest's own handlers report and abort: the host delivers the
# exceptions instead of ending the guest itself.
guest_handles_its_own_traps() {
    expect_line '^\[pf\.0\] Solo5: trap: type=#PF ec=0x[0-9a-f]+ rip=0x[0-9a-f]+ cr2=0x400000$' &&
    expect_guest pf.0 'exited with status 255$' &&
    expect_line '^\[null\.0\] Solo5: trap: type=#PF ec=0x[0-9a-f]+ rip=0x[0-9a-f]+ cr2=0x0$' &&
    expect_guest null.0 'exited with status 255$' &&
    expect_line '^\[ud\.0\] Solo5: trap: type=#UD ' &&
    expect_guest ud.0 'exited with status 255$' &&
    expect_line '^\[ssp\.0\] Solo5: stack smashing detected' &&
    expect_guest ssp.0 'exited with status 255$' &&
    expect_no_line 'killed: guest exception'
}

hostile_hypercalls_end_only_their_guest() {
    expect_guest badstruct.0 'killed: hvt PUTS: argument struct at 0xfffff000 \(16 bytes\) lies outside its memory' &&
    expect_guest wrap.0 'killed: hvt PUTS: buffer at 0x[0-9a-f]+ \([0-9]+ bytes\) lies outside its memory' &&
    expect_line '^\[handle\.0\] bad-handle ok$' && expect_guest handle.0 'exited with status 0$' &&
    expect_guest port.0 'killed: I/O port 0x5ff write \(4 bytes\) denied at rip 0x[0-9a-f]+: hvt hypercalls are 32-bit OUTs to ports 0x501-0x508$' &&
    expect_guest inport.0 'killed: I/O port 0x501 read \(4 bytes\) denied' &&
    expect_guest spin.0 'killed: time limit of 500 ms reached$' &&
    expect_no_line 'survived'
}

# ---- boot 2: block devices, broken images, unmapped devices.
BLOCK_CONF='partition small 4M x 2
partition blk 4M x 1
guest block image=hvt-block.hvt block:storage=hvt-disk.img args="block"
guest big image=hvt-block.hvt block:storage=hvt-disk.img block-sector-size:storage=4096 args="block"
guest dirty image=hvt-block.hvt class=blk block:storage=hvt-disk.img args="block-dirty"
guest clean image=hvt-block.hvt class=blk block:storage=hvt-disk.img args="block-clean"
guest unmapped image=hvt-block.hvt
guest odd image=hvt-block.hvt block:storage=hvt-disk-odd.img
guest wrongkind image=hvt-block.hvt net:storage=lan0
guest stray image=hvt-test.hvt block:extra=hvt-disk.img
guest huge image=hvt-block.hvt block:storage=hvt-huge.img
guest hugeblk image=hvt-block.hvt class=blk block:storage=hvt-huge.img
guest oldnet image=hvt-test.hvt net=lan0
guest mfsmall image=bad-hvt-mftsmall.hvt
guest target image=bad-hvt-target.hvt
guest version image=bad-hvt-version.hvt
guest mftfirst image=bad-hvt-mftfirst.hvt
guest mftname image=bad-hvt-mftname.hvt
guest nomft image=bad-hvt-nomft.hvt
guest both image=bad-hvt-both.hvt
poweroff when-idle'

block_boots() {
    local f files=()
    for f in hvt-block.hvt hvt-test.hvt hvt-disk.img hvt-disk-odd.img bad-hvt-mftsmall.hvt \
             bad-hvt-target.hvt bad-hvt-version.hvt bad-hvt-mftfirst.hvt bad-hvt-mftname.hvt \
             bad-hvt-nomft.hvt bad-hvt-both.hvt; do
        files+=("$G/$f")
    done
    # 6 MiB of disk: with the image it needs 8 MiB, more than any partition.
    head -c $((6 << 20)) /dev/zero > "$CASE_DIR/hvt-huge.img"
    files+=("$CASE_DIR/hvt-huge.img")
    BOCHS_SECONDS=300 boot_bochs tigerlake 128 "$BLOCK_CONF" "${files[@]}" &&
    expect_line '^mayfly: all guests have ended: 4 started, 4 exited 0, 0 failed, 0 killed' &&
    expect_no_line 'panic' &&
    expect_poweroff 0
}

block_reads_writes_and_refuses() {
    expect_line '^\[block\.0\] hvt-block: storage: 32768 bytes, 512-byte sectors$' &&
    expect_line '^\[block\.0\] block: last sector 63 ok$' &&
    expect_line '^\[block\.0\] block: out-of-range and misaligned requests refused$' &&
    expect_line '^\[block\.0\] block ok$' && expect_guest block.0 'exited with status 0$' &&
    expect_line '^\[big\.0\] hvt-block: storage: 32768 bytes, 4096-byte sectors$' &&
    expect_line '^\[big\.0\] block ok$'
}

block_writes_vanish_with_the_guest() {
    expect_line '^\[dirty\.0\] block-dirty: sector 0 now says dirty$' &&
    expect_line '^\[clean\.0\] block-clean: sector 0 is clean$' &&
    expect_guest clean.0 'exited with status 0$'
}

unmapped_devices_are_refused() {
    expect_line '^mayfly: guest unmapped: device storage \(BLOCK_BASIC\) of hvt-block.hvt.s manifest is not attached: add block:storage=<file> to the guest line; not started$' &&
    expect_line '^mayfly: guest odd: block:storage=hvt-disk-odd.img: the disk image is [0-9]+ bytes, not a whole number of 512-byte sectors' &&
    expect_line '^mayfly: guest wrongkind: device storage of hvt-block.hvt.s manifest is BLOCK_BASIC, but the guest line maps it with net:' &&
    expect_line '^mayfly: guest stray: block:extra: hvt-test.hvt.s manifest declares no device extra' &&
    expect_line '^mayfly: guest huge: it needs 8192 KiB \(image, stack and disks\) and the largest partition it may get has 4096 KiB: use a larger class; not started$' &&
    expect_line '^mayfly: guest hugeblk: it needs 8192 KiB .* has 4096 KiB' &&
    expect_line '^mayfly: guest oldnet: hvt-test.hvt is a Solo5 hvt image: map its network devices with net:<device>=<switch>, not net='
}

broken_images_are_refused() {
    expect_line '^mayfly: guest mfsmall: image bad-hvt-mftsmall.hvt rejected: Solo5 manifest' &&
    expect_line '^mayfly: guest target: image bad-hvt-target.hvt rejected: Solo5 ABI target 2 \(spt\) is not hvt' &&
    expect_line '^mayfly: guest version: image bad-hvt-version.hvt rejected: .*version 3' &&
    expect_line '^mayfly: guest mftfirst: image bad-hvt-mftfirst.hvt rejected: Solo5 manifest' &&
    expect_line '^mayfly: guest mftname: image bad-hvt-mftname.hvt rejected: Solo5 manifest' &&
    expect_line '^mayfly: guest nomft: image bad-hvt-nomft.hvt rejected: .*no Solo5 manifest' &&
    expect_line '^mayfly: guest both: image bad-hvt-both.hvt rejected: .*both a Mayfly and a Solo5'
}

# ---- boot 3: a Solo5 responder and a native pinger on one switch, and a
# Solo5 guest that never polls beside them.
NET_CONF='partition small 4M x 3
guest echo image=hvt-net.hvt net:service=lan0 args="ip=10.0.0.1 idle=3"
guest ping image=udp-ping.elf net=lan0 args="ip=10.0.0.2 peer=10.0.0.1 count=1000"
guest deaf image=hvt-net.hvt net:service=lan0 timeout=2000 args="ip=10.0.0.9 mode=never-polls"
poweroff when-idle'

solo5_and_native_exchange_1000_datagrams() {
    BOCHS_SECONDS=400 boot_bochs tigerlake 128 "$NET_CONF" "$G/hvt-net.hvt" "$G/udp-ping.elf" &&
    expect_line '^\[echo\.0\] hvt-net: 10\.0\.0\.1 mac 02:4d:46:00:00:01 mtu 1500 handle 1' &&
    expect_line '^\[ping\.0\] udp-ping: 1000/1000 replies intact, rtt min/avg/max [0-9]+/[0-9]+/[0-9]+ ticks$' &&
    expect_line '^\[echo\.0\] hvt-net: answered [0-9]+ arp, 0 icmp, 1000 udp; ignored 0, send failures 0$' &&
    expect_guest ping.0 'exited with status 0$' &&
    expect_guest echo.0 'exited with status 0$' &&
    expect_guest deaf.0 'killed: time limit of 2000 ms reached$' &&
    expect_no_line 'panic' &&
    expect_poweroff 1
}

run_case fleet_boots
for check in native_guests_run_beside_hvt hvt_hello_gets_its_command_line \
             abi_version_1_image_runs data_tls_and_sse_work time_and_walltime_hold \
             guest_handles_its_own_traps hostile_hypercalls_end_only_their_guest; do
    run_check "$check" "$SYSTEST_OUT/fleet_boots"
done
run_case block_boots
for check in block_reads_writes_and_refuses block_writes_vanish_with_the_guest \
             unmapped_devices_are_refused broken_images_are_refused; do
    run_check "$check" "$SYSTEST_OUT/block_boots"
done
run_case solo5_and_native_exchange_1000_datagrams
end_of_script
