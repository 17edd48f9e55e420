#!/usr/bin/env bash
# `make bench`: boots Bochs (tigerlake, deterministic) with benchmark
# guests and reports emulated instructions (TSC ticks: in Bochs the TSC
# advances one tick per instruction). Prints the figures and rewrites
# bench/RESULTS.md. Numbers are not asserted anywhere.
set -u
cd "$(dirname "$0")/.."
source tests/lib/emu.sh
tools/install-deps.sh --bench || exit 2
OUT=$MAYFLY_BUILD/bench
G=$MAYFLY_BUILD/guests
mkdir -p "$OUT"
# Sections recorded by hand from longer runs (make soak, make fuzz-long:
# their headings say "recorded by hand") are carried over as they are,
# in their order.
HAND_MD=$(awk '/^## / { p = /recorded by hand/ } p' bench/RESULTS.md 2>/dev/null)

# boot NAME MEM_MIB CONFIG FILE...: one Bochs run; its serial log is $OUT/NAME/serial.log
boot() {
    local name=$1 mem=$2 conf=$3; shift 3
    mkdir -p "$OUT/$name"
    printf '%s\n' "$conf" > "$OUT/$name/mayfly.conf"
    mk_iso "$OUT/$name/boot.iso" "$OUT/$name/mayfly.conf" "$@" || { echo "bench: ISO failed"; exit 1; }
    bochs_run "$OUT/$name" "$OUT/$name/boot.iso" tigerlake "$mem" 20000000000 1200
    if [ "$EMU_RESULT" != poweroff ]; then
        echo "bench: run $name ended by $EMU_RESULT; see $OUT/$name/serial.log"
        exit 1
    fi
}
# qboot NAME MEM_MIB CONFIG FILE...: the same under QEMU's software CPU on
# AMD-V, counting instructions (-icount: one TSC tick per instruction).
qboot() {
    local name=$1 mem=$2 conf=$3; shift 3
    mkdir -p "$OUT/$name"
    printf '%s\n' "$conf" > "$OUT/$name/mayfly.conf"
    mk_iso "$OUT/$name/boot.iso" "$OUT/$name/mayfly.conf" "$@" || { echo "bench: ISO failed"; exit 1; }
    QEMU_ACCEL=tcg QEMU_ICOUNT=1 qemu_iso_run "$OUT/$name" "$OUT/$name/boot.iso" "$mem" 600
    if [ "$EMU_RESULT" != poweroff ]; then
        echo "bench: run $name ended by $EMU_RESULT; see $OUT/$name/serial.log"
        exit 1
    fi
}
field() {   # field RUN REGEX SED-EXPR: first match, transformed
    grep -E "$2" "$OUT/$1/serial.log" | head -1 | sed -E "$3"
}

echo "bench: null hypercall"
boot null 256 'partition small 2M x 1
guest null image=bench.elf args="null 2000"
poweroff when-idle' "$G/bench.elf"
NULL=$(field null 'bench null:' 's/.* ([0-9]+) ticks per round trip.*/\1/')
# The null hypercall is answered by the fast path at the VM exit
# (docs/fastpaths.md): 26 instructions from the exit to VMRESUME on
# VT-x, 11 from VMRUN to VMRUN on AMD-V. A bare stub that only moves RIP
# past the call and re-enters takes 7 (two VMREADs and their field
# numbers, the add, the VMWRITE, VMRESUME) and 2 (the add to the VMCB's
# RIP, VMRUN): the floor is the round trip less the difference.
FAST_VMX_EXTRA=$(( 26 - 7 )); FAST_SVM_EXTRA=$(( 11 - 2 ))

echo "bench: launches (one partition, one guest at a time, nothing else runnable)"
# The first instance finds its partition as the boot left it (dirty: the
# launch zeroes it); the second starts in it right after the first ended
# (its teardown zeroed it: the class has no other clean partition).
# Launches into a partition zeroed at idle are measured over the control
# channel below.
boot launch-small 256 'partition only 2M x 1
guest small image=bench.elf count=2
poweroff when-idle' "$G/bench.elf"
boot launch-big 256 'partition only 4M x 1
guest big image=benchbig.elf count=2
poweroff when-idle' "$G/benchbig.elf"
boot launch-huge 256 'partition only 64M x 1
guest huge image=bench.elf
poweroff when-idle' "$G/bench.elf"
launch_line() {   # launch_line RUN NAME.INSTANCE -> "total scrub copy rest"
    field "$1" "^\[$2\] bench launch" \
        's/.*: ([0-9]+) ticks from start.*scrub ([0-9]+), copy ([0-9]+), rest ([0-9]+).*/\1 \2 \3 \4/'
}
read -r S0_T S0_S S0_C S0_R <<<"$(launch_line launch-small small.0)"
read -r S1_T S1_S S1_C S1_R <<<"$(launch_line launch-small small.1)"
read -r B1_T B1_S B1_C B1_R <<<"$(launch_line launch-big big.1)"
read -r H0_T H0_S H0_C H0_R <<<"$(launch_line launch-huge huge.0)"
SCRUB_PER_MIB=$(( H0_S / 64 ))

echo "bench: launch with 1000 guests running"
# 1000 hold guests alive (waiting) in their own class while a small one
# starts in a clean partition: the same launch as small.1 above, on a
# full machine. wait.0 holds that partition first, long enough for the
# console ring to drain the 1000 start lines (or the launch line would
# be dropped), and scrubs it at its end, as small.0 does above.
boot launch-full 2048 'partition hold 2M x 1000
partition only 2M x 1
guest hold image=bench.elf class=hold count=1000 args="hold 20000"
guest wait image=bench.elf class=only args="hold 12000"
guest small image=bench.elf class=only
poweroff when-idle' "$G/bench.elf"
read -r LF_T LF_S LF_C LF_R <<<"$(launch_line launch-full small.0)"
LF_RUNNING=$(grep -cE 'guest [0-9]+ hold\.[0-9]+ started' "$OUT/launch-full/serial.log")

echo "bench: scrub floor (rep stosq in a guest)"
boot zero 256 'partition small 4M x 1
guest zero image=bench.elf args="zero 2048"
poweroff when-idle' "$G/bench.elf"
ZERO_PER_MIB=$(field zero 'bench zero:' 's/.* ([0-9]+) ticks per MiB.*/\1/')
for v in LF_T S1_T ZERO_PER_MIB; do
    if [ -z "${!v}" ]; then echo "bench: no figure for $v; see $OUT/launch-full, $OUT/zero"; exit 1; fi
done
mib_per_million() { awk -v t="$1" 'BEGIN { printf "%.2f", 1000000 / t }'; }
SCRUB_MPM=$(mib_per_million "$SCRUB_PER_MIB"); ZERO_MPM=$(mib_per_million "$ZERO_PER_MIB")
LF_PCT=$(awk -v a="$LF_T" -v b="$S1_T" 'BEGIN { printf "%+.2f", (a - b) * 100 / b }')

echo "bench: Solo5 hvt beside native (launch, POLL, datagram round trip)"
# The same as the small launch above, for an hvt image (hvt-bench, about
# the size of bench.elf): start -> first instruction and -> first PUTS,
# and the native guest's start -> first console write from launch-small.
boot hvt-launch 256 'partition only 2M x 1
guest hvt image=hvt-bench.hvt count=2
poweroff when-idle' "$G/hvt-bench.hvt"
hvt_launch() {   # hvt_launch INSTANCE -> "first_instruction first_puts"
    field hvt-launch "^\[hvt\.$1\] hvt-bench launch" \
        's/.*: ([0-9]+) ticks from start to first instruction, ([0-9]+) to first PUTS.*/\1 \2/'
}
read -r HVT_I HVT_P <<<"$(hvt_launch 1)"
NATIVE_W=$(field launch-small '^\[small\.1\] bench first write' 's/.*: ([0-9]+) ticks from start.*/\1/')
HVT_SIZE=$(stat -c %s "$G/hvt-bench.hvt"); NATIVE_SIZE=$(stat -c %s "$G/bench.elf")
boot hvt-poll 256 'partition small 2M x 1
guest poll image=hvt-bench.hvt args="poll 2000"
poweroff when-idle' "$G/hvt-bench.hvt"
HVT_POLL=$(field hvt-poll 'hvt-bench poll:' 's/.* ([0-9]+) ticks per round trip.*/\1/')
# Round trip: udp-ping (native) against hvt-net (Solo5), as net-ping below
# does against udp-echo.
boot hvt-ping 256 'partition small 2M x 2
guest echo image=hvt-net.hvt net:service=lan0 args="ip=10.0.0.1 idle=3"
guest ping image=udp-ping.elf net=lan0 args="ip=10.0.0.2 peer=10.0.0.1 count=200 window=1 samples=1"
poweroff when-idle' "$G/hvt-net.hvt" "$G/udp-ping.elf"
read -r HRTT_OK HRTT_MIN HRTT_AVG HRTT_MAX <<<"$(field hvt-ping '^\[ping\.0\] udp-ping: [0-9]+/200 replies intact' \
    's/.*: ([0-9]+)\/200 replies intact, rtt min\/avg\/max ([0-9]+)\/([0-9]+)\/([0-9]+) ticks.*/\1 \2 \3 \4/')"
for v in HVT_I HVT_P NATIVE_W HVT_POLL HRTT_MIN HRTT_AVG; do
    if [ -z "${!v}" ]; then echo "bench: no figure for $v; see $OUT/hvt-*/serial.log"; exit 1; fi
done

echo "bench: AMD-V (QEMU TCG -cpu max, -icount): null hypercall, launches"
qboot svm-null 256 'partition small 2M x 1
guest null image=bench.elf args="null 2000"
poweroff when-idle' "$G/bench.elf"
SVM_NULL=$(field svm-null 'bench null:' 's/.* ([0-9]+) ticks per round trip.*/\1/')
qboot svm-launch 256 'partition only 2M x 1
guest small image=bench.elf count=2
poweroff when-idle' "$G/bench.elf"
read -r SVM_T SVM_S SVM_C SVM_R <<<"$(field svm-launch '^\[small\.1\] bench launch' \
    's/.*: ([0-9]+) ticks from start.*scrub ([0-9]+), copy ([0-9]+), rest ([0-9]+).*/\1 \2 \3 \4/')"
for v in SVM_NULL SVM_T; do
    if [ -z "${!v}" ]; then echo "bench: no figure for $v; see $OUT/svm-*/serial.log"; exit 1; fi
done

echo "bench: concurrency (2 GiB, 2 MiB partitions)"
N=${BENCH_GUESTS:-1000}
boot fleet 2048 "partition small 2M x $N
guest hold image=bench.elf count=$N args=\"hold 3000\"
poweroff when-idle" "$G/bench.elf"
PEAK=$(field fleet 'at most [0-9]+ ran at once' 's/.*at most ([0-9]+) ran at once.*/\1/')
POOL=$(field fleet 'vCPUs ready, pool' 's/.*pool ([0-9]+) KiB used.*/\1/')
PER_GUEST=$(( POOL * 1024 / N ))
OK=$(grep -cE 'hold\.[0-9]+ exited with status 0' "$OUT/fleet/serial.log")

echo "bench: network (virtio-net ports on one switch)"
# Round trip: udp-ping sends one datagram at a time (window=1) to udp-echo
# and waits for it to come back; sizes cycle through 1..1472 bytes.
boot net-ping 256 'partition small 2M x 2
guest echo image=udp-echo.elf net=lan0 args="ip=10.0.0.1 idle=1000"
guest ping image=udp-ping.elf net=lan0 args="ip=10.0.0.2 peer=10.0.0.1 count=200 window=1 samples=1"
poweroff when-idle' "$G/udp-echo.elf" "$G/udp-ping.elf"
read -r RTT_OK RTT_MIN RTT_AVG RTT_MAX <<<"$(field net-ping '^\[ping\.0\] udp-ping: [0-9]+/200 replies intact' \
    's/.*: ([0-9]+)\/200 replies intact, rtt min\/avg\/max ([0-9]+)\/([0-9]+)\/([0-9]+) ticks.*/\1 \2 \3 \4/')"

# flood_run NAME PAYLOAD COUNT: flood sends COUNT UDP datagrams of PAYLOAD
# bytes (frame = PAYLOAD + 42 bytes of Ethernet, IPv4 and UDP headers, no
# FCS) to port 9 of a sink. The sink is udp-echo listening on port 7: it
# keeps posting RX buffers, and its stack drops datagrams to an unbound
# port without answering, so the only traffic is flood's (plus one ARP
# exchange before flood starts its clock). Its idle limit counts from its
# start, so it must outlast the flood.
flood_run() {
    boot "$1" 256 "partition small 2M x 2
guest sink image=udp-echo.elf net=lan0 args=\"ip=10.0.0.1 port=7 idle=30000\"
guest flood image=flood.elf net=lan0 args=\"ip=10.0.0.2 peer=10.0.0.1 count=$3 size=$2 port=9\"
poweroff when-idle" "$G/udp-echo.elf" "$G/flood.elf"
}
# flood_figures RUN -> "sent kicks exits ticks ticks_per_frame switched dropped
#                        hv_kicks hv_ticks" (the last two: the switch's own
# count of kicks and the TSC ticks the hypervisor spent serving them)
flood_figures() {
    local sent kicks exits ticks per switched dropped hvk hvt
    read -r sent kicks exits <<<"$(field "$1" '^\[flood\.0\] flood: sent ' \
        's/.*sent ([0-9]+) frames, ([0-9]+) kicks, ([0-9]+) exits-ish.*/\1 \2 \3/')"
    read -r ticks per <<<"$(field "$1" '^\[flood\.0\] flood: [0-9]+ ticks, ' \
        's/.*flood: ([0-9]+) ticks, ([0-9]+) ticks per frame.*/\1 \2/')"
    read -r switched dropped hvk hvt <<<"$(field "$1" '^mayfly: switch lan0: ' \
        's/.*: ([0-9]+) frames switched, ([0-9]+) dropped; ([0-9]+) kicks took ([0-9]+) TSC.*/\1 \2 \3 \4/')"
    echo "$sent $kicks $exits $ticks $per $switched $dropped $hvk $hvt"
}
ratio() {   # ratio A B DIGITS: A / B with DIGITS decimals
    awk -v a="$1" -v b="$2" -v d="$3" 'BEGIN { if (b == 0) print "-"; else printf "%.*f\n", d, a / b }'
}
flood_run net-flood64 22 10000
flood_run net-burst64 22 120
flood_run net-flood1514 1472 10000
read -r F64_N F64_K F64_X F64_T F64_P F64_S F64_D F64_HK F64_HT <<<"$(flood_figures net-flood64)"
read -r B64_N B64_K B64_X B64_T B64_P B64_S B64_D B64_HK B64_HT <<<"$(flood_figures net-burst64)"
read -r F15_N F15_K F15_X F15_T F15_P F15_S F15_D F15_HK F15_HT <<<"$(flood_figures net-flood1514)"
# The hypervisor's own instructions per frame: ticks inside the kicks
# (switching, both copies, ring work) over the frames the sender sent.
B64_HPF=$(ratio "$B64_HT" "$B64_N" 0); F64_HPF=$(ratio "$F64_HT" "$F64_N" 0)
F15_HPF=$(ratio "$F15_HT" "$F15_N" 0)
# Copies and everything else: a delivered frame is copied out of the
# TX chain with its 12-byte virtio-net header into the bounce buffer
# (one memcpy of N + 12 bytes), then into the RX chain after a header of
# its own (the frame: one memcpy of N bytes; the 12-byte header is two
# plain stores, counted with everything else): hv/vport.c, for chains of
# one descriptor as flood's are. memcpy (hv/lib.c) is 7 instructions
# besides its REP MOVSQ (one per 8 bytes) and REP MOVSB (one per byte
# left), so the copies are derived from the code, not timed (a TSC read
# around each copy would cost more than the copy of a small frame).
memcpy_of() { echo $(( 7 + $1 / 8 + $1 % 8 )); }
copies_of() { echo $(( $(memcpy_of $(( $1 + 12 ))) + $(memcpy_of "$1") )); }
B64_COPY=$(copies_of 64); F15_COPY=$(copies_of 1514)
B64_REST=$(( B64_HPF - B64_COPY )); F15_REST=$(( F15_HPF - F15_COPY ))
for v in RTT_MIN RTT_AVG F64_P B64_P F15_P F64_S F15_S; do
    if [ -z "${!v}" ]; then echo "bench: no figure for $v; see $OUT/net-*/serial.log"; exit 1; fi
done
F64_KPF=$(ratio "$F64_K" "$F64_N" 4); F64_XPF=$(ratio "$F64_X" "$F64_N" 4)
F15_KPF=$(ratio "$F15_K" "$F15_N" 4); F15_XPF=$(ratio "$F15_X" "$F15_N" 4)
F64_FPM=$(ratio 1000000 "$F64_P" 0); B64_FPM=$(ratio 1000000 "$B64_P" 0)
F15_FPM=$(ratio 1000000 "$F15_P" 1)
# The flood's counters see its own hypercalls only; the preemption timer
# adds about one exit per quantum of the run (TSC kHz x 10 ms).
TSC_KHZ=$(field net-flood64 'mayfly: TSC [0-9]+ kHz' 's/.*TSC ([0-9]+) kHz.*/\1/')
F64_QUANTA=$(( F64_T / (TSC_KHZ * 10) ))

echo "bench: several CPUs (Bochs, VT-x, tigerlake x N)"
# Scaling: four spinners (bench spin: register-only work, no hypercall
# until it prints) on 1, 2 and 4 CPUs. The CPUs share one TSC, so the
# span from the first start to the last end is emulated time.
SPIN_ROUNDS=1500000
for n in 1 2 4; do
    BOCHS_CPUS=$n boot "smp-scale$n" 256 "cpus $n
partition small 2M x 4
guest spin image=bench.elf count=4 args=\"spin $SPIN_ROUNDS\"
poweroff when-idle" "$G/bench.elf"
done
# spin_span RUN -> "span sum cpus": ticks from the first start to the
# last end, the sum of the four durations, distinct CPUs they ran on
spin_span() {
    local span sum cpus
    read -r span sum <<<"$(grep 'bench spin:' "$OUT/$1/serial.log" |
        sed -E 's/.* from ([0-9]+) to ([0-9]+) .*/\1 \2/' |
        awk 'NR == 1 { lo = $1; hi = $2 } { if ($1 < lo) lo = $1; if ($2 > hi) hi = $2; s += $2 - $1 }
             END { print hi - lo, s }')"
    cpus=$(grep -E 'guest [0-9]+ spin\.[0-9]+ started' "$OUT/$1/serial.log" |
        sed -E 's/.* on CPU ([0-9]+)$/\1/' | sort -u | wc -l)
    echo "$span $sum $cpus"
}
read -r SC1_SPAN SC1_SUM SC1_CPUS <<<"$(spin_span smp-scale1)"
read -r SC2_SPAN SC2_SUM SC2_CPUS <<<"$(spin_span smp-scale2)"
read -r SC4_SPAN SC4_SUM SC4_CPUS <<<"$(spin_span smp-scale4)"
SC2_X=$(ratio "$SC1_SPAN" "$SC2_SPAN" 2); SC4_X=$(ratio "$SC1_SPAN" "$SC4_SPAN" 2)
# Round trips with ping and echo on one CPU and on two (window 1): each
# cross-CPU round trip wakes an idle CPU twice (a kick IPI out of HLT).
rtt_run() {   # rtt_run NAME ECHO_CPU PING_CPU
    BOCHS_CPUS=2 boot "$1" 256 "partition small 2M x 2
guest echo image=udp-echo.elf net=lan0 cpu=$2 args=\"ip=10.0.0.1 idle=1000\"
guest ping image=udp-ping.elf net=lan0 cpu=$3 args=\"ip=10.0.0.2 peer=10.0.0.1 count=200 window=1 samples=1\"
poweroff when-idle" "$G/udp-echo.elf" "$G/udp-ping.elf"
}
rtt_figures() {
    field "$1" '^\[ping\.0\] udp-ping: [0-9]+/200 replies intact' \
        's/.*: ([0-9]+)\/200 replies intact, rtt min\/avg\/max ([0-9]+)\/([0-9]+)\/([0-9]+) ticks.*/\1 \2 \3 \4/'
}
rtt_run smp-rtt-same 1 1
rtt_run smp-rtt-cross 0 1
read -r RS_OK RS_MIN RS_AVG RS_MAX <<<"$(rtt_figures smp-rtt-same)"
read -r RX_OK RX_MIN RX_AVG RX_MAX <<<"$(rtt_figures smp-rtt-cross)"
# The hypervisor's own count of those wake-ups (each datagram wakes the
# other CPU's guest): from the notify on one CPU to the guest's dispatch
# on the other.
read -r XW_N XW_T <<<"$(field smp-rtt-cross '^mayfly: [0-9]+ cross-CPU wake-ups' \
    's/^mayfly: ([0-9]+) cross-CPU wake-ups, ([0-9]+) ticks.*/\1 \2/')"
# Two senders on two CPUs through one switch (its lock), each to its own
# sink on its own CPU: the switch's ticks per frame beside one sender's.
BOCHS_CPUS=2 boot smp-flood2 256 'partition small 2M x 4
guest sinka image=udp-echo.elf net=lan0 cpu=0 args="ip=10.0.0.1 port=7 idle=1500"
guest sinkb image=udp-echo.elf net=lan0 cpu=1 args="ip=10.0.0.3 port=7 idle=1500"
guest flooda image=flood.elf net=lan0 cpu=0 args="ip=10.0.0.2 peer=10.0.0.1 count=120 size=22 port=9"
guest floodb image=flood.elf net=lan0 cpu=1 args="ip=10.0.0.4 peer=10.0.0.3 count=120 size=22 port=9"
poweroff when-idle' "$G/udp-echo.elf" "$G/flood.elf"
read -r D2_SW D2_DR D2_HK D2_HT <<<"$(field smp-flood2 '^mayfly: switch lan0: ' \
    's/.*: ([0-9]+) frames switched, ([0-9]+) dropped; ([0-9]+) kicks took ([0-9]+) TSC.*/\1 \2 \3 \4/')"
D2_HPF=$(ratio "$D2_HT" 240 0)
for v in SC1_SPAN SC2_SPAN SC4_SPAN RS_AVG RX_AVG XW_T D2_HT; do
    if [ -z "${!v}" ]; then echo "bench: no figure for $v; see $OUT/smp-*/serial.log"; exit 1; fi
done

echo "bench: uplink (Bochs e1000, socket backend: a host on loopback)"
# 200 UDP datagrams (1..1472 bytes) from tests/system/wire.py through the
# e1000 uplink to udp-echo and back, one at a time.
UPL_EMU=$(( 42000 + RANDOM % 1000 * 2 ))
python3 tests/system/wire.py echo --port $(( UPL_EMU + 1 )) --emu-port "$UPL_EMU" \
    --guest-ip 10.0.0.2 --guest-mac 52:54:00:12:34:56 --count 200 --timeout 300 \
    > "$OUT/uplink-wire.out" 2>&1 &
UPL_WIRE=$!
BOCHS_E1000="mac=52:54:00:12:34:56, ethmod=socket, ethdev=$UPL_EMU" boot uplink 128 'partition small 2M x 1
uplink lan0
guest echo image=udp-echo.elf net=lan0 mac=52:54:00:12:34:56 args="ip=10.0.0.2 count=200 idle=0"
poweroff when-idle' "$G/udp-echo.elf"
wait "$UPL_WIRE"
UPL_OK=$(sed -nE 's/^wire: ([0-9]+)\/200 echoed intact$/\1/p' "$OUT/uplink-wire.out")
UPL_WALL=$(sed -nE 's/^wire: ([0-9.]+) ms per round trip.*/\1/p' "$OUT/uplink-wire.out")
read -r UPL_IN UPL_OUT UPL_TICKS <<<"$(field uplink '^mayfly: uplink lan0: [0-9]+ frames in' \
    's/.*: ([0-9]+) frames in, ([0-9]+) out;.*; ([0-9]+) TSC ticks taking frames in.*/\1 \2 \3/')"
read -r UPL_KICKS UPL_KT <<<"$(field uplink '^mayfly: switch lan0: ' \
    's/.*; ([0-9]+) kicks took ([0-9]+) TSC.*/\1 \2/')"
UPL_IPF=$(ratio "$UPL_TICKS" "$UPL_IN" 0); UPL_OPF=$(ratio "$UPL_KT" "$UPL_OUT" 0)
for v in UPL_OK UPL_IN UPL_TICKS UPL_KT; do
    if [ -z "${!v}" ]; then echo "bench: no figure for $v; see $OUT/uplink/serial.log"; exit 1; fi
done

echo "bench: control channel (mfctl start over COM2)"
# The system tests' control_boot (tests/lib/control.sh): the image, `mfctl
# run --bochs --control` in the background, the wait for its COM2 line.
source tests/lib/control.sh
SYSTEST_OUT=$OUT
RUN_SECONDS=900
SOCK_DIR=$(mktemp -d /tmp/mayfly-bench.XXXXXX)
control_boot control "partition small 2M x 8
partition big 4M x 1
control com2 store=4M" || { echo "bench: control boot failed: $BOOT_WHY"; exit 1; }
CTL=$BOOT_DIR
ctl() { "$MFCTL" "$@" --control "$SOCK" --timeout 120; }
uptime_now() { ctl stats --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["uptime_tsc"])'; }
ctl load "$G/bench.elf" "$G/benchbig.elf" "$G/hvt-bench.hvt" >/dev/null 2>&1 ||
    { echo "bench: mfctl load failed"; control_shutdown; exit 1; }
CTL_STARTS=10
W0=$(date +%s.%N)
U0=$(uptime_now)
for i in $(seq 1 $CTL_STARTS); do
    ctl start bench.elf --name req >/dev/null || { echo "bench: mfctl start failed"; break; }
done
U1=$(uptime_now)
W1=$(date +%s.%N)
# Launches into a partition freed by the previous tenant and zeroed at
# idle since (each req instance ended before the next START came): the
# 1 MiB image and the hvt image once each, beside the req instances.
ctl start benchbig.elf --name big --class big >/dev/null || echo "bench: big start failed"
ctl start hvt-bench.hvt --name hvt --class small >/dev/null || echo "bench: hvt start failed"
sleep 1
control_shutdown
ctl_launch() {   # ctl_launch NAME -> "total scrub copy rest" (the least total)
    grep -E "^\[$1\.0\] bench launch" "$CTL/serial.log" |
        sed -E 's/.*: ([0-9]+) ticks from start.*scrub ([0-9]+), copy ([0-9]+), rest ([0-9]+).*/\1 \2 \3 \4/' |
        sort -n | head -1
}
read -r CS_T CS_S CS_C CS_R <<<"$(ctl_launch req)"
read -r CB_T CB_S CB_C CB_R <<<"$(ctl_launch big)"
CS_W=$(grep -E '^\[req\.0\] bench first write' "$CTL/serial.log" |
    sed -E 's/.*: ([0-9]+) ticks from start.*/\1/' | sort -n | head -1)
read -r CH_I CH_P <<<"$(grep -E '^\[hvt\.0\] hvt-bench launch' "$CTL/serial.log" | head -1 |
    sed -E 's/.*: ([0-9]+) ticks from start to first instruction, ([0-9]+) to first PUTS.*/\1 \2/')"
# The fleet's own count (the report of the last drain): teardowns from
# a guest's end to its partition free, idle zeroing, launches that had
# to zero a partition themselves.
read -r TD_N TD_D TD_T TZ_N TZ_T <<<"$(grep -E '^mayfly: [0-9]+ teardowns \(' "$CTL/serial.log" | tail -1 |
    sed -E 's/^mayfly: ([0-9]+) teardowns[^:]*: ([0-9]+) left it dirty, ([0-9]+) ticks on average; ([0-9]+) zeroed it .*, ([0-9]+) ticks on average$/\1 \2 \3 \4 \5/')"
read -r IZ_KIB IZ_SLICES IZ_PER_MIB LZ_N <<<"$(grep -E '^mayfly: [0-9]+ KiB zeroed at idle' "$CTL/serial.log" | tail -1 |
    sed -E 's/^mayfly: ([0-9]+) KiB zeroed at idle in ([0-9]+) slices, ([0-9]+) ticks per MiB; ([0-9]+) launches zeroed.*/\1 \2 \3 \4/')"
for v in CS_T CB_T CH_I TD_T IZ_PER_MIB; do
    if [ -z "${!v}" ]; then echo "bench: no figure for $v; see $CTL/serial.log"; exit 1; fi
done

echo "bench: batch START (mfctl start --count 100, one request)"
BATCH_N=100
control_boot control-batch "partition small 2M x $BATCH_N
control com2 store=4M" || { echo "bench: control boot failed: $BOOT_WHY"; exit 1; }
BAT=$BOOT_DIR
ctl load "$G/bench.elf" >/dev/null 2>&1 || { echo "bench: mfctl load failed"; control_shutdown; exit 1; }
ctl start bench.elf --name batch --count "$BATCH_N" >/dev/null || echo "bench: batch start failed"
for _ in $(seq 1 600); do
    [ "$(grep -cE '^mayfly: guest [0-9]+ batch\.[0-9]+ exited' "$BAT/serial.log")" -ge "$BATCH_N" ] && break
    sleep 0.2
done
control_shutdown
rm -rf "$SOCK_DIR"
# Each instance's boot info says when its launch began, counted from the
# request (the "before the launch began" figure): instance k's is the
# request's own work and the k launches before it, one after another.
BAT_PRE=$(grep -E '^\[batch\.[0-9]+\] bench request:' "$BAT/serial.log" |
    sed -E 's/^\[batch\.([0-9]+)\].*\(([0-9]+) of them before.*/\1 \2/' | sort -n)
BAT_GOT=$(echo "$BAT_PRE" | grep -c .)
BAT_FIRST=$(echo "$BAT_PRE" | head -1 | cut -d' ' -f2)
BAT_LAST=$(echo "$BAT_PRE" | tail -1 | cut -d' ' -f2)
BAT_EACH=$(( (BAT_LAST - BAT_FIRST) / (BATCH_N - 1) ))
for v in BAT_FIRST BAT_LAST; do
    if [ -z "${!v}" ] || [ "$BAT_GOT" != "$BATCH_N" ]; then
        echo "bench: batch figures missing ($BAT_GOT of $BATCH_N); see $BAT/serial.log"; exit 1
    fi
done
REQ_LINES=$(grep -E '^\[req\.0\] bench request:' "$CTL/serial.log")
REQ_MIN=$(echo "$REQ_LINES" | sed -E 's/.*: ([0-9]+) ticks from the START.*/\1/' | sort -n | head -1)
REQ_PRE=$(echo "$REQ_LINES" | sed -E 's/.*\(([0-9]+) of them before.*/\1/' | sort -n | head -1)
CTL_KHZ=$(sed -nE 's/^mayfly: TSC ([0-9]+) kHz.*/\1/p' "$CTL/serial.log" | head -1)
PER_CMD=$(( (U1 - U0) / CTL_STARTS ))       # the two stats calls' own cost is spread in
WALL_PER_CMD=$(awk -v a="$W0" -v b="$W1" -v n="$CTL_STARTS" 'BEGIN { printf "%.0f", (b - a) * 1000 / n }')
CMDS_PER_S=$(awk -v ms="$WALL_PER_CMD" 'BEGIN { printf "%.1f", 1000 / ms }')
# Bytes on the line per mfctl start: HELLO and its reply, START and its reply.
BYTES=$(( 24 + 24 + 256 + 24 + 424 + 24 + 184 ))
WIRE=$(( BYTES * 10 * CTL_KHZ * 1000 / 115200 ))

# The network control channel beside COM2 (its own script: a namespace
# and Bochs on a tap; a line saying why where it cannot run).
CTLNET_MD=$(bash bench/control_net.sh 2>"$OUT/control_net.err")

# The plots' data: under $OUT/plots (the PNGs go next to RESULTS.md).
PLOTS=$OUT/plots
mkdir -p "$PLOTS"
# Round trips, one per datagram (udp-ping samples=1), as a distribution:
# each run's samples sorted, with the fraction of datagrams at or below.
rtt_cdf() {   # rtt_cdf RUN FILE
    grep -E '^\[ping\.0\] udp-ping: rtt [0-9]+\.\.[0-9]+:' "$OUT/$1/serial.log" |
        sed -E 's/^.*: rtt [0-9]+\.\.[0-9]+://' | tr ' ' '\n' | grep -E '^[1-9][0-9]*$' |
        sort -n | awk '{ v[NR] = $1 } END { for (i = 1; i <= NR; i++) print v[i], i / NR }' > "$2"
}
rtt_cdf net-ping "$PLOTS/rtt-native.dat"
rtt_cdf hvt-ping "$PLOTS/rtt-hvt.dat"
rtt_cdf smp-rtt-same "$PLOTS/rtt-1cpu.dat"
rtt_cdf smp-rtt-cross "$PLOTS/rtt-2cpu.dat"
RTT_SAMPLES=$(wc -l < "$PLOTS/rtt-native.dat")
RTT_MEDIAN=$(awk '$2 >= 0.5 { print $1; exit }' "$PLOTS/rtt-native.dat")
RTT_P90=$(awk '$2 >= 0.9 { print $1; exit }' "$PLOTS/rtt-native.dat")

{
cat <<MD
# Benchmark results

Recorded by \`make bench\` ($(date -u +%Y-%m-%d)). Bochs 2.7, \`cpu: model=tigerlake\`,
where the TSC advances one tick per emulated instruction: every figure
below is emulated instructions ("ticks") and repeats exactly from run to
run. Guests measure with RDTSC; the hypervisor reports its own launch
phases in the guest's boot-info page (\`scrub_tsc\`, \`load_tsc\`).

| measurement | result | goal |
|---|---|---|
| null hypercall round trip, seen from the guest (fast path at the VM exit) | $NULL ticks (bare-stub floor $(( NULL - FAST_VMX_EXTRA ))) | ≤ 100 ticks |
| launch, small image (15 KiB), clean partition (its last tenant's teardown zeroed it: the class had no other clean one): start → first guest instruction | $S1_T ticks (zeroing $S1_S, copy $S1_C, rest $S1_R) | ≤ 15,000 beyond the copy |
| launch, small image, a partition freed by its last tenant and zeroed at idle since (START over COM2) | $CS_T ticks (zeroing $CS_S, copy $CS_C, rest $CS_R) | ≤ 15,000 beyond the copy |
| launch, small image, first use of a partition since boot (zeroed by the launch) | $S0_T ticks (zeroing $S0_S, copy $S0_C, rest $S0_R) | |
| launch, 1 MiB image, clean partition (zeroed by its last tenant's teardown) | $B1_T ticks (copy $B1_C, rest $B1_R) | ≤ 15,000 beyond the copy |
| launch, 1 MiB image, a partition zeroed at idle (START over COM2) | $CB_T ticks (zeroing $CB_S, copy $CB_C, rest $CB_R) | ≤ 15,000 beyond the copy |
| launch, small image, clean partition, $LF_RUNNING other guests alive | $LF_T ticks (copy $LF_C, rest $LF_R): $LF_PCT % against the empty machine's $S1_T | within 5% of the empty machine |
| teardown (exit, kill or STOP): the guest's end to its partition free, its class having another clean partition | $TD_T ticks on average ($TD_D teardowns over the control channel); before idle zeroing every teardown zeroed its partition: 264,950 for a 2 MiB one, counted the same way, from the config, as it still does when its class has no other clean one ($TZ_N here, the 4 MiB class's: $TZ_T) | |
| idle zeroing of free partitions | $IZ_PER_MIB ticks per MiB ($IZ_KIB KiB in $IZ_SLICES slices of 256 KiB); launches in that run that had to zero a partition themselves: $LZ_N | a launch normally finds a clean partition |
| scrub cost (the launch's own zeroing of a dirty partition) | $SCRUB_PER_MIB ticks per MiB (64 MiB partition: $H0_S): $SCRUB_MPM MiB per million instructions | |
| scrub floor: plain \`rep stosq\` over 2 MiB, in a guest | $ZERO_PER_MIB ticks per MiB: $ZERO_MPM MiB per million instructions | scrub at the floor |
| concurrent guests, 2 GiB machine, 2 MiB partitions | $PEAK ran at once ($OK of $N exited 0) | ≥ 900 |
| hypervisor memory per guest | $PER_GUEST bytes (pool $POOL KiB for $N partitions) | ≤ 16 KiB |

"rest" is the hypervisor's own work on a launch beyond zeroing and
copying: building the guest's page tables and boot-info page, resetting
the VMCS, queueing and scheduling it and entering it (docs/fastpaths.md,
"The launch": it was 9,936 before the guest's first 2 MiB of page
tables became one table copied whole). Over the control channel the
rest also holds what the control poller does after the launch before
the guest is dispatched (the START's reply); from the config, the
teardown path's return to the run loop.

Memory per guest is what the pool holds, over the partitions: a 4 KiB
VMCS, one 4 KiB EPT directory of 2 MiB leaves, the vCPU with its
512-byte FXSAVE area and the guest's record, plus the pool's fixed part
spread over them (the hypervisor's own page tables, stacks, queues, the
MSR and I/O bitmaps). The EPT's PML4 and PDPT are the CPU's, four pairs
per CPU pointed at the directories of the guests that run there
(\`x86/nested_root.c\`, docs/fastpaths.md); before that, every
partition had its own and the figure was 17792 bytes.

Null hypercall: the backend answers it at the VM exit, without the exit
table, the core or the entry checks (docs/fastpaths.md). The round trip
is the guest's loop (the call, its test of the instruction to use, the
loop) plus the hypervisor's 26 instructions from the exit to VMRESUME;
the bare-stub floor beside it is the same round trip with a handler
that only moves RIP past the VMCALL and resumes (7 instructions),
derived by taking the difference off. Before the fast path the round
trip was 210 ticks.

Launch on a full machine: the small launch again, with $LF_RUNNING hold
guests alive (waiting) in a class of their own. The launch path does
nothing that grows with them: \`partition_alloc\` pops its class's free
list, the guest's slot is its partition's and the run queue is a ring.
The copy differs from the empty machine's only if the image does.

Scrub: the hypervisor zeroes with \`rep stosq\` (\`mem_arch_zero\`),
which Bochs counts as one instruction per 8 bytes; the floor row is the
same instruction timed inside a guest over free memory of its own
(\`bench zero\`), a little slower there (the guest's accesses go through
EPT). \`rep stosb\` counts one per byte in Bochs (8 times slower).
A teardown frees its partition dirty while its class has another clean
one, and a CPU with nothing to run zeroes dirty free partitions in
256 KiB slices, looking for work between them (docs/decisions.md,
"Zeroing at idle"): a launch after idle time finds a clean partition
(the START rows, each into the partition its predecessor freed). The
teardown of a class's last clean-able partition zeroes it itself, as
every teardown did before (the config rows with one partition: their
second instance finds it clean), so that the next launch does not zero
it in front of its first instruction. A launch zeroes a partition
itself only when its class has no clean one free (the first use since
boot, with no idle time before). The teardown and idle figures are the
fleet's own (its report at the end of the control run).

## Network

| measurement | result | goal |
|---|---|---|
| round trip guest → switch → guest → switch → guest (udp-ping ↔ udp-echo, window 1, 200 datagrams of 1..1472 bytes) | min $RTT_MIN, avg $RTT_AVG ticks (max $RTT_MAX; $RTT_OK/200 intact) | |
| hypervisor instructions per switched 64-byte frame, batched (burst of $B64_N that fits the receiver's RX ring; both copies included) | $B64_HPF ($B64_HT ticks in $B64_HK kicks) | ≤ 150 per 64-byte frame, copy excluded |
| hypervisor instructions per 64-byte frame, sustained flood of $F64_N (most dropped at the switch: receiver's ring full) | $F64_HPF ($F64_HT ticks in $F64_HK kicks) | |
| hypervisor instructions per 1514-byte frame, flood of $F15_N (both copies included) | $F15_HPF ($F15_HT ticks in $F15_HK kicks) | |
| the same split: copies (derived) and everything else, 64-byte burst | copies $B64_COPY, everything else $B64_REST | ≤ 150 beyond the copies: not met, the floor of this design (docs/fastpaths.md, "The switch") |
| the same split, 1514-byte flood | copies $F15_COPY, everything else $F15_REST | |
| 64-byte frames, sustained flood of $F64_N: ticks per frame seen by the sender (everything: guests and hypervisor) | $F64_P ticks per frame; switch: $F64_S switched, $F64_D dropped | |
| 64-byte frames, burst of $B64_N: ticks per frame seen by the sender | $B64_P ticks per frame; switch: $B64_S switched, $B64_D dropped | |
| 1514-byte frames (1472-byte UDP payload, a 1500-byte IP packet), flood of $F15_N: ticks per frame seen by the sender | $F15_P ticks per frame; switch: $F15_S switched, $F15_D dropped | |
| VM exits per frame under load, 64-byte flood | $F64_KPF kicks, $F64_XPF hypercalls per frame ($F64_K kicks, $F64_X hypercalls for $F64_N frames) | ≤ 0.05 exits per frame |
| VM exits per frame under load, 1514-byte flood | $F15_KPF kicks, $F15_XPF hypercalls per frame ($F15_K kicks, $F15_X hypercalls) | ≤ 0.05 exits per frame |
| frames per million emulated instructions (10⁶ / ticks per frame) | 64 bytes: $F64_FPM sustained, $B64_FPM burst; 1514 bytes: $F15_FPM | |

Frame sizes are Ethernet frames as the switch copies them, without FCS:
14 bytes of Ethernet header, 28 of IPv4 and UDP headers and the UDP
payload (22 bytes gives 64, 1472 gives 1514). The
"switched" and "dropped" figures are the switch's own counters
(\`mayfly: switch lan0: ...\`) and include the one ARP request and reply
before the flood.

Round trip: udp-ping takes the TSC before sending and when the matching
reply is back and checked. It includes both guests' work (building and
checksumming the datagram, filling and checking its payload, udp-echo's
receive and resend), two passes through the switch with their copies,
the notifications and the switches between the two guests. The sizes
cycle through 1..1472 bytes, so min is a small datagram and avg mixes
all sizes.

Hypervisor instructions per frame: the hypervisor reads the TSC around
every transmit kick it serves (walking the sender's TX ring, the copy
into its bounce buffer, the forwarding lookup, the copy into the
receiver's RX buffer and its used ring, the notification decision) and
prints the sum per switch at the end; divided by the frames sent. It does
not include the VM exit and entry of the kick itself (about one per 64
frames, see the null hypercall above). A kick is one burst: each ring's
avail idx is read once for the entries it shows, the lookup is
remembered while the forwarding table is unchanged, and each side's used
idx and notification decision come once per kick; what each piece of a
frame costs, before and after, and why 150 beyond the copies is not
reached, are in [docs/fastpaths.md](../docs/fastpaths.md) ("The
switch"). The copies are derived from the code: one \`memcpy\` of N + 12
bytes out of the TX chain, one of N bytes into the RX chain (its 12-byte
header is two stores, counted with everything else).

Ticks per frame: flood takes the TSC around its send loop and divides by
the frames sent. That is everything the machine did meanwhile, not the
hypervisor alone: flood's own work (building each frame, the UDP
checksum, the ring), the hypervisor's (the kick, the copy out of the TX
ring into its bounce buffer, the forwarding lookup, the copy into the
receiver's RX buffer, notifying it) and the receiver's whenever it runs
inside the window (its stack checks and drops each datagram). There is
no separate count of hypervisor instructions, so the 150-instruction
goal is neither met nor missed by this figure: it is an upper bound on
the hypervisor's share, copies included. The sender never waits (each
kick is served at once), so in the sustained 64-byte flood the receiver
runs only when the sender's 10 ms quantum ends, and its 128-entry RX ring overflows and most frames
are dropped at the switch after the TX copy and the lookup (no RX copy):
that figure mixes delivered and dropped frames (the faster the sender's
kicks, the more of its frames meet a full ring: $F64_S switched here, 4354
before the switch's burst work). The 120-frame burst fits
the ring, so every frame is delivered and pays the RX copy; being short
(two kicks), it also carries more fixed cost per frame. At 1514 bytes
the receiver keeps up (no drops) and its per-frame work is inside the
figure.

Exits per frame: flood's own counters. Kicks are MF_HC_NET_KICK calls,
which the driver makes only when the device's avail_event asks for one
(EVENT_IDX), so about one per TX ring of 64 frames; "hypercalls" is every
hypercall the driver made during the flood (kicks, yields, waits). They
do not include preemption-timer exits, about one per 10 ms quantum
(about $F64_QUANTA over the sustained 64-byte flood, $(ratio "$F64_QUANTA" "$F64_N" 4) per frame), nor the
receiver's: it never kicks its RX queue (the device keeps RX avail_event
out of its reach) and exits only to wait once it has emptied its ring.

## Several CPUs (Bochs, VT-x, tigerlake with 1, 2 or 4 CPUs)

| measurement | result |
|---|---|
| 4 CPU-bound guests (\`bench spin $SPIN_ROUNDS\`), first start to last end, 1 CPU | $SC1_SPAN ticks (sum of the four runs $SC1_SUM; on $SC1_CPUS CPU) |
| the same on 2 CPUs | $SC2_SPAN ticks, $SC2_X x faster (sum $SC2_SUM; on $SC2_CPUS CPUs) |
| the same on 4 CPUs | $SC4_SPAN ticks, $SC4_X x faster (sum $SC4_SUM; on $SC4_CPUS CPUs) |
| round trip udp-ping ↔ udp-echo on the same CPU (window 1, 200 datagrams of 1..1472 bytes) | min $RS_MIN, avg $RS_AVG ticks (max $RS_MAX; $RS_OK/200 intact) |
| the same with ping and echo on two CPUs | min $RX_MIN, avg $RX_AVG ticks (max $RX_MAX; $RX_OK/200 intact) |
| cross-CPU wake-up: a notify on CPU A (a frame delivered to a waiting guest) → that guest dispatched on CPU B, which idled in HLT | $XW_T ticks on average ($XW_N wake-ups in the two-CPU round trips) |
| hypervisor instructions per switched 64-byte frame, two senders on two CPUs through one switch (2 x 120-frame bursts, each to its own receiver) | $D2_HPF ($D2_HT ticks in $D2_HK kicks; one sender: $B64_HPF above) |

The TSC is one clock for all CPUs and, in Bochs, advances with emulated
time, so a span is the wall time the machine took, not instructions
executed (with N busy CPUs, N times as many instructions run per tick).
The speed-up of the spinners is the work spreading over the CPUs
(least-loaded placement puts one or two per CPU); the sum of the four
durations grows on one CPU because each also waits out the others'
quanta there.

Cross-CPU round trip: each datagram wakes the other guest on the other
CPU, which idles in HLT while its guest waits: the switch's delivery
queues the guest there and sends a kick (a fixed IPI) because that CPU
is idle (Bochs takes an IPI to a halted CPU in about 60 ticks). On one
CPU the same wake-up is a guest switch instead: the other VMCS loaded
(VMPTRLD) and the x87/SSE, CR2 and KERNEL_GS_BASE of the two guests
swapped on every datagram, which the two-CPU case never does (each CPU
keeps its own guest's). The difference between the two rows is the
price of one against the other. The wake-up alone is the hypervisor's
own figure (\`mayfly: N cross-CPU wake-ups, T ticks on average ...\` at
the end of a run with several CPUs): the TSC when the notify queued the
guest on the other CPU, against the TSC when that CPU's run loop
dispatches it (just before its VM entry): the kick IPI, the way out of
HLT and the idle loop, the wake-due and dispatch steps.

Two senders: the switch's own count of ticks inside the kicks it served,
from both CPUs, over the 240 frames sent. Both senders take the one lock
of the switch for each kick, so a kick that finds the other CPU's send in
progress spins until it ends, and that wait is counted here.

## Uplink (Bochs e1000 on its socket backend)

| measurement | result |
|---|---|
| UDP round trip host → e1000 → switch → udp-echo → switch → e1000 → host, 200 datagrams of 1..1472 bytes, one at a time | $UPL_OK/200 intact, $UPL_WALL ms each (wall clock) |
| hypervisor instructions per frame taken in from the wire (poll, descriptor checks, copy out of the DMA buffer, switching, the copy into the guest's RX ring) | $UPL_IPF ($UPL_TICKS ticks for $UPL_IN frames) |
| hypervisor instructions per frame sent out (the guest's TX kick: ring walk, copy, lookup, the copy into the e1000's TX buffer, the tail write) | $UPL_OPF ($UPL_KT ticks in $UPL_KICKS kicks for $UPL_OUT frames) |

Bochs takes at most one frame from the host per emulated millisecond
(one per 50,000 instructions at ips=50M), so the host side waits for
Bochs, not for Mayfly: the wall-clock round trip is Bochs's receive
cadence and the host's loopback, and says nothing about the hypervisor.
The instruction counts are the hypervisor's own (the TSC around each
poll that brought frames in, and around each transmit kick), and count
the ARP exchange before the datagrams too.

## AMD-V beside VT-x

| measurement | AMD-V (QEMU TCG, \`-cpu max\`, \`-icount\`) | VT-x (Bochs, tigerlake) |
|---|---|---|
| null hypercall round trip, seen from the guest (fast path) | $SVM_NULL ticks (bare-stub floor $(( SVM_NULL - FAST_SVM_EXTRA ))) | $NULL ticks (floor $(( NULL - FAST_VMX_EXTRA ))) |
| launch, small image, clean partition: start → first guest instruction | $SVM_T ticks (copy $SVM_C, rest $SVM_R) | $S1_T ticks (copy $S1_C, rest $S1_R) |

Both count emulated instructions: Bochs advances the TSC one tick per
instruction, and QEMU with \`-icount shift=0\` makes one instruction one
virtual nanosecond, which its TSC follows. The two emulators count
VMRUN/VMEXIT and VMLAUNCH/VMRESUME each as one instruction and do the
world switch inside it, so the figures compare the hypervisor's own
instructions per round trip, not what the switch costs on hardware (an
SVM round trip on hardware is hundreds of cycles, like VT-x's). The
AMD-V backend has no preemption timer: each run arms the local APIC
timer, which adds its own instructions to every run but not to a
hypercall served in place. Its fast path is 11 instructions from VMRUN
to VMRUN and needs no deadline check (the alarm's interrupt exits the
next VMRUN); before it, the round trip was 248 ticks.

## Solo5 hvt guests

| measurement | Solo5 hvt guest | native Mayfly guest |
|---|---|---|
| launch, clean partition: start → first guest instruction | $HVT_I ticks (hvt-bench, $HVT_SIZE bytes) | $S1_T ticks (bench.elf, $NATIVE_SIZE bytes) |
| launch, clean partition: start → first console output (PUTS / console write issued) | $HVT_P ticks | $NATIVE_W ticks |
| launch, a partition zeroed at idle (START over COM2): start → first guest instruction / first console output | $CH_I / $CH_P ticks | $CS_T / $CS_W ticks |
| hypercall round trip: POLL with a zero timeout / null hypercall | $HVT_POLL ticks | $NULL ticks |
| datagram round trip with udp-ping (native, window 1, 200 datagrams of 1..1472 bytes) | min $HRTT_MIN, avg $HRTT_AVG ticks (max $HRTT_MAX; $HRTT_OK/200 intact) against hvt-net | min $RTT_MIN, avg $RTT_AVG ticks against udp-echo |

The hvt launch measures from the hypervisor's launch TSC (Mayfly's
\`struct hvt_mayfly\` after the boot info) to the image's first
instruction (its \`_start\` reads the TSC first thing) and to the moment
its \`main\` issues its first PUTS, after the runtime set up its GDT, IDT,
TSS and TLS. Beyond the native launch it builds Solo5's page tables
(4 KiB pages below 2 MiB) and writes the hvt boot info and manifest copy.
A POLL is a port-I/O exit (decoded from the exit qualification), the
argument struct copied in and out through the checked translation, and
RIP advanced by hand; the null hypercall is a VMCALL with its result in
RAX. The hvt round trip pays NET_WRITE/NET_READ copies per frame (one
hypercall each, no rings) and the responder's POLL wake-up.

## Control channel

| measurement | result |
|---|---|
| START request to the guest's first instruction (stored 15 KiB image) | $REQ_MIN ticks ($REQ_PRE of them from the request to the launch) |
| START of $BATCH_N instances in one request (\`mfctl start --count $BATCH_N\`, 15 KiB image, partitions zeroed at idle) | $BAT_EACH ticks per instance: each launch began that long after the one before (the first $BAT_FIRST ticks after the request, the last $BAT_LAST); $BATCH_N separate STARTs cost $REQ_MIN each, request to first instruction |
| \`mfctl start\` commands per second, one after another (each a HELLO and a START) | $CMDS_PER_S (wall clock with Bochs: $WALL_PER_CMD ms each) |
| bytes on the serial line per \`mfctl start\` | $BYTES = $WIRE ticks at 115200 baud |

Where the time goes: serial lines. Inside the request-to-first-instruction
figure, the hypervisor's own work (decoding and checking the frame,
validating the image, the launch of about 3,300 ticks measured above) is
small next to what it spends writing at 115200 baud, where one character
costs about 4,300 ticks once the 16-byte FIFO is full: the two console
lines about the new guest before the launch, and the reply to the START
on COM2 before the guest is first scheduled (writes block). The rate of
\`mfctl start\` commands is bounded by the line ($BYTES bytes each) and
by starting an mfctl process per command; between commands the
hypervisor idles, so emulated time per command is not a useful figure
there. Faster starts would come from sending the reply and console text
from a buffer while guests run, from many STARTs per session, and from
the network channel the design plans.

Batch START: one request for $BATCH_N instances, all launched one after
another inside it before any of them runs, each into a partition zeroed
at idle. Per instance what is left is the launch itself (about 3,300
ticks: the copy and the rest above) and its two lines, the console's
"started" line (formatted and queued: most of the rest) and the same in
the log ring the control channel's LOGS reads. It was 29,500 ticks per
instance and grew with the batch: the log ring counted a new guest's
bytes by walking every record it held, and every 32 new guests pushed
the hypervisor's own count out of its cache, so that its next line
walked them all again; the console ring copied each line a byte at a
time with a division per byte.
MD
bash bench/summon.sh
printf '\n%s\n' "$CTLNET_MD"
[ -n "$HAND_MD" ] && printf '\n%s\n' "$HAND_MD"
cat <<MD

## Plots

Rendered by \`make bench\` with gnuplot next to this file:
[launch.png](launch.png) (launch cost against guests alive),
[switch.png](switch.png) (hypervisor instructions per frame by frame
size, copies apart), [rtt.png](rtt.png) (datagram round trips, every
datagram of each run: the fraction of the $RTT_SAMPLES at or below a
round trip; udp-ping's \`samples=1\` prints each one. Native on one CPU:
median $RTT_MEDIAN, 90 % at or below $RTT_P90 ticks; the sizes alternate
small and large, hence the steps).
MD
} > bench/RESULTS.md
# The plots: data files under $OUT/plots, PNGs next to RESULTS.md.
PLOTS=$OUT/plots
mkdir -p "$PLOTS"
printf '%s %s %s %s\n' 0 "$S1_C" "$S1_R" "$S1_T" "$LF_RUNNING" "$LF_C" "$LF_R" "$LF_T" \
    > "$PLOTS/launch.dat"
printf '"%s" %s %s\n' "64 B burst" "$B64_COPY" "$B64_REST" "1514 B flood" "$F15_COPY" "$F15_REST" \
    > "$PLOTS/switch.dat"
gnuplot <<GP || echo "bench: gnuplot failed; the figures above stand"
set terminal pngcairo size 800,480
set grid ytics
set output 'bench/launch.png'
set title 'Launch, small image, clean partition: start to first instruction'
set xlabel 'guests alive'
set ylabel 'emulated instructions'
set yrange [0:*]
set xrange [-100:1100]
set key center center
plot '$PLOTS/launch.dat' using 1:4 with linespoints lw 2 title 'total', \
     '' using 1:3 with linespoints title 'beyond the copy', \
     '' using 1:2 with linespoints title 'copy'
set output 'bench/switch.png'
set title 'Hypervisor instructions per switched frame'
set xlabel 'frame size'
set style data histograms
set style histogram rowstacked
set style fill solid 0.6 border -1
set boxwidth 0.5
set xrange [*:*]
plot '$PLOTS/switch.dat' using 2:xtic(1) title 'copies (derived)', '' using 3 title 'everything else'
set output 'bench/rtt.png'
set title 'Datagram round trips, 200 datagrams of 1..1472 bytes each: distribution'
set xlabel 'round trip, emulated instructions'
set ylabel 'fraction of datagrams at or below'
set style data lines
set xrange [0:*]
set yrange [0:1]
set key bottom right
plot '$PLOTS/rtt-native.dat' using 1:2 with steps lw 2 title 'udp-echo, 1 CPU', \
     '$PLOTS/rtt-hvt.dat' using 1:2 with steps lw 2 title 'hvt-net (Solo5), 1 CPU', \
     '$PLOTS/rtt-1cpu.dat' using 1:2 with steps title 'udp-echo, same CPU of 2', \
     '$PLOTS/rtt-2cpu.dat' using 1:2 with steps title 'udp-echo, two CPUs'
GP
cat bench/RESULTS.md
