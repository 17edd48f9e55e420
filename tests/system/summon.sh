# Summoning (issue 14): a summon line registers a service address on a
# switch; the switch answers ARP for it, and the first frame for it
# starts an instance, which gets that frame (held meanwhile) and those
# after it; an instance idle for idle= ms is retired: stopped, its
# partition scrubbed and freed.
#
# These cases run inside the machine (client guests on the same switch)
# in Bochs (VT-x); tests/system/summon_host.sh sends the host's own TCP
# at summoned services through the uplink (QEMU, AMD-V).
source "$(dirname "$0")/lib.sh"
G=$MAYFLY_BUILD/guests
CYCLES=${SUMMON_CYCLES:-100}

# Clients one after another (one partition of class cli), each waiting
# 300 emulated ms, longer than the service's idle=, before its request:
# so every request summons a fresh instance, which is retired before
# the next client starts.
summon_cycles_boot() {
    BOCHS_SECONDS=${BOCHS_SECONDS:-300} boot_bochs tigerlake 256 "partition cli 2M x 1
partition svc 2M x 2
switch lan
summon web image=httpd.elf ip=10.0.0.9 port=80 idle=100 class=svc
guest client image=http-get.elf class=cli net=lan count=$CYCLES args=\"ip=10.0.0.2 peer=10.0.0.9 count=1 delay=300\"
poweroff when-idle" "$G/httpd.elf" "$G/http-get.elf"
}

# Every request answered, each by an instance that did not exist
# before it: as many instances started and retired as requests.
every_first_request_answered() {
    expect_count "$CYCLES" '^\[client\.[0-9]+\] http-get: 1/1 ok$' &&
    expect_count "$CYCLES" '^mayfly: guest [0-9]+ web\.0 started in partition svc/' &&
    expect_count "$CYCLES" '^mayfly: guest [0-9]+ web\.0 retired: idle for 100 ms \(summoned service web\)$' &&
    expect_count "$CYCLES" '^\[web\.0\] httpd: first instruction [0-9]+ ticks after the request that started it$' &&
    expect_count "$CYCLES" '^mayfly: summon web: instance 0 \(guest [0-9]+\) sent its first frame [0-9]+ ticks after the first frame for it arrived$' &&
    expect_no_line '^mayfly: summon web: instance [1-9]' &&
    expect_no_line 'panic|WRONG'
}

# After the last cycle every count is back: nothing runs, every
# partition and port is free, the hold queue and flows were drained.
counts_back_after_cycles() {
    expect_line "^mayfly: summon web: instance 0 \\(guest [0-9]+\\) stopped; 0 running now, $CYCLES summoned so far; [01] guests running, [23] partitions free$" &&
    expect_line "^mayfly: all guests have ended: $((2 * CYCLES)) started, $CYCLES exited 0, 0 failed, 0 killed; " &&
    expect_line "^mayfly: $CYCLES instances were retired when idle" &&
    expect_line "^mayfly: summon web: $CYCLES summoned, $CYCLES idled out, $CYCLES ended, 0 running, 0 launch failures; $((2 * CYCLES)) flows, $CYCLES ARP answers$" &&
    expect_line "^mayfly: summon web: frames $CYCLES held, $CYCLES delivered from the hold, 0 dropped from it, 0 for no instance$" &&
    expect_line "^mayfly: summon web: first reply [0-9]+ ticks after the first frame on average \\([0-9]+ to [0-9]+, $CYCLES timed\\)$" &&
    expect_line '^mayfly: resource check after [0-9]+ guests ended: 3 of 3 partitions free, 0 held; ports ([0-9]+) free of \1, 0 held; switch slots 1 in use; .*: ok$' &&
    expect_poweroff 0
}

# 50 first requests at once (three clients on 17, 17 and 16 parallel
# connections) to a service of at most 4 instances: all answered, by
# exactly 4 instances (new flows go to an instance without load, else
# to a new one while there are fewer than 4).
summon_parallel_boot() {
    BOCHS_SECONDS=${BOCHS_SECONDS:-300} boot_bochs tigerlake 256 'partition cli 2M x 3
partition svc 2M x 6
switch lan
summon web image=httpd.elf ip=10.0.0.9 port=80 idle=300 max=4 class=svc
guest a image=http-get.elf class=cli net=lan args="ip=10.0.0.2 peer=10.0.0.9 count=17 parallel=17 timeout=20000"
guest b image=http-get.elf class=cli net=lan args="ip=10.0.0.3 peer=10.0.0.9 count=17 parallel=17 timeout=20000"
guest c image=http-get.elf class=cli net=lan args="ip=10.0.0.4 peer=10.0.0.9 count=16 parallel=16 timeout=20000"
poweroff when-idle' "$G/httpd.elf" "$G/http-get.elf" &&
    expect_line '^\[a\.0\] http-get: 17/17 ok$' &&
    expect_line '^\[b\.0\] http-get: 17/17 ok$' &&
    expect_line '^\[c\.0\] http-get: 16/16 ok$' &&
    expect_count 3 '^mayfly: guest [0-9]+ [abc]\.0 exited with status 0$' &&
    expect_count 4 '^mayfly: guest [0-9]+ web\.[0-9]+ started in partition svc/' &&
    expect_count 1 '^mayfly: guest [0-9]+ web\.0 started in partition svc/' &&
    expect_count 1 '^mayfly: guest [0-9]+ web\.1 started in partition svc/' &&
    expect_count 1 '^mayfly: guest [0-9]+ web\.2 started in partition svc/' &&
    expect_count 1 '^mayfly: guest [0-9]+ web\.3 started in partition svc/' &&
    expect_line '^mayfly: summon web: 4 summoned, 4 idled out, 4 ended, 0 running, 0 launch failures; ' &&
    expect_line '^mayfly: summon web: frames [0-9]+ held, [0-9]+ delivered from the hold, 0 dropped from it, ' &&
    expect_poweroff 0
}

# A Solo5 unikernel summoned the same way: the hvt-net echo, its device
# mapped with net:service=, driven by udp-ping. Also from the UEFI
# image under OVMF (QEMU, AMD-V), whose loader must bring the summoned
# image from the disk beside the config.
SOLO5_CONF='partition small 4M x 2
switch lan
summon echo image=hvt-net.hvt ip=10.0.0.1 net:service=lan idle=100 args="ip=10.0.0.1 idle=0"
guest ping image=udp-ping.elf net=lan args="ip=10.0.0.2 peer=10.0.0.1 count=50"
poweroff when-idle'

solo5_summoned() {
    expect_line '^\[ping\.0\] udp-ping: 50/50 ' &&
    expect_guest ping.0 'exited with status 0$' &&
    expect_count 1 '^mayfly: guest [0-9]+ echo\.0 started' &&
    expect_line '^mayfly: guest [0-9]+ echo\.0 retired: idle for 100 ms' &&
    expect_line '^mayfly: summon echo: 1 summoned, 1 idled out, 1 ended, 0 running' &&
    expect_poweroff 0
}

# Beside it in Bochs, a service whose line cannot run its image (a Solo5
# image given net=): the whole line is checked once at boot, so it is
# refused there with the reason, before any frame for it, and left out.
summon_solo5_boot() {
    BOCHS_SECONDS=${BOCHS_SECONDS:-300} boot_bochs tigerlake 256 "$SOLO5_CONF
summon bad image=hvt-net.hvt ip=10.0.0.7 net=lan" \
        "$G/hvt-net.hvt" "$G/udp-ping.elf" && solo5_summoned &&
    expect_line '^mayfly: summon bad: image hvt-net\.hvt refused: hvt-net\.hvt is a Solo5 hvt image: map its network devices with net:<device>=<switch>, not net=; the service is left out$' &&
    expect_no_line 'bad\.0'
}

summon_solo5_uefi() {
    MAYFLY_EMULATOR=qemu-uefi QEMU_SECONDS=${QEMU_SECONDS:-120} boot_bochs tigerlake 256 \
        "$SOLO5_CONF" "$G/hvt-net.hvt" "$G/udp-ping.elf" &&
    expect_line '^mayfly: AMD-V: ' && expect_no_line 'was not loaded' && solo5_summoned
}

run_case summon_cycles_boot
run_check every_first_request_answered "$SYSTEST_OUT/summon_cycles_boot"
run_check counts_back_after_cycles "$SYSTEST_OUT/summon_cycles_boot"
run_case summon_parallel_boot
run_case summon_solo5_boot
if command -v qemu-system-x86_64 >/dev/null && [ -r "$OVMF_CODE" ] && [ "${MAYFLY_QEMU:-1}" != 0 ]; then
    run_case summon_solo5_uefi
else
    echo "SKIP: summon_solo5_uefi: no qemu-system-x86_64 or OVMF, or turned off with MAYFLY_QEMU=0"
fi
end_of_script
