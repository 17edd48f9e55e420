#!/usr/bin/env bash
# The network control channel's benchmark (issue 14), run by bench/run.sh
# (or alone): the same 4 MiB upload (mfctl load --disk: every chunk
# checked as for an image) over the network, through the control guest
# (Bochs's e1000 on a tap in a network namespace, tests/lib/netns.sh), and
# over COM2 (mfctl run --control); then START round trips over the
# network. Emulated time is the hypervisor's uptime (STATS) before and
# after, in TSC ticks (one per instruction in Bochs); wall seconds beside
# it. Prints the markdown section for bench/RESULTS.md on stdout (a line
# saying why, where it cannot run: not root, no namespaces).
set -u
cd "$(dirname "$0")/.."
export MAYFLY_BUILD=${MAYFLY_BUILD:-$PWD/build}
export SYSTEST_OUT=${SYSTEST_OUT:-$MAYFLY_BUILD/bench/control_net}
source tests/system/lib.sh
source tests/lib/netns.sh
source tests/lib/control.sh
MFCTL_REAL=$MAYFLY_BUILD/mfctl
G=$MAYFLY_BUILD/guests
KEY=00112233445566778899aabbccddeeff
NETNS_NIC_MAC=52:54:00:12:34:56
OUT=$SYSTEST_OUT
SIZE_MIB=4
STARTS=10
mkdir -p "$OUT"

section_head() {
    printf '## Network control (control net: the control guest on the uplink)\n\n'
}

if ! why=$(netns_can_run); then
    section_head
    printf 'Not measured here: %s (the network control benchmark needs root and network namespaces).\n' "$why"
    exit 0
fi
head -c $((SIZE_MIB << 20)) /dev/urandom > "$OUT/disk.img"

now() { date +%s.%N; }
wall() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
uptime_tsc() { "$@" stats --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["uptime_tsc"])'; }
khz() { sed -nE 's/^mayfly: TSC ([0-9]+) kHz.*/\1/p' "$1/serial.log" | head -1; }

# --- over the network ---------------------------------------------------
NET=$OUT/net
rm -rf "$NET"; mkdir -p "$NET"
netns_make 1 && netns_wrap_to "$NETNS_NAME" "$MFCTL_REAL" "$NET/mfctl" &&
    netns_boot_bg "$NETNS_NAME" bochs "$NET" "partition small 2M x 4
uplink lan0
control net lan0 ip=10.0.0.2 port=7000 mac=$NETNS_NIC_MAC key=$KEY store=8M" &&
    netns_wait_line "$NET" 'ctlnet: serving control on' 120 ||
    { section_head; echo "Not measured: $NETNS_WHY"; exit 0; }
nctl() { "$NET/mfctl" "$@" --control tcp://10.0.0.2:7000 --key "$KEY" --timeout 120; }
for _ in $(seq 1 30); do nctl stats >/dev/null 2>&1 && break; sleep 1; done
U0=$(uptime_tsc nctl); W0=$(now)
nctl load --disk "$OUT/disk.img" > "$NET/load.out" 2>&1 || { section_head; echo "Not measured: the network upload failed: $(tail -1 "$NET/load.out")"; exit 0; }
W1=$(now); U1=$(uptime_tsc nctl)
NET_TICKS=$((U1 - U0)); NET_WALL=$(wall "$W0" "$W1")
nctl load "$G/bench.elf" >/dev/null 2>&1
U0=$(uptime_tsc nctl); W0=$(now)
for _ in $(seq 1 $STARTS); do nctl start bench.elf --name req >/dev/null 2>&1; done
W1=$(now); U1=$(uptime_tsc nctl)
START_TICKS=$(( (U1 - U0) / STARTS ))
START_WALL_MS=$(awk -v a="$W0" -v b="$W1" -v n=$STARTS 'BEGIN { printf "%.0f", (b - a) * 1000 / n }')
sleep 1
netns_stop
NET_KHZ=$(khz "$NET")
REQ_LINES=$(grep -E '^\[req\.0\] bench request:' "$NET/serial.log")
REQ_MIN=$(echo "$REQ_LINES" | sed -E 's/.*: ([0-9]+) ticks from the START.*/\1/' | sort -n | head -1)

# --- over COM2 ----------------------------------------------------------
SOCK_DIR=$(mktemp -d /tmp/mayfly-bench.XXXXXX)
RUN_SECONDS=1800
control_boot serial "partition small 2M x 4
control com2 store=8M key=$KEY" || { section_head; echo "Not measured: $BOOT_WHY"; exit 0; }
SER=$BOOT_DIR
sctl() { "$MFCTL_REAL" "$@" --control "$SOCK" --key "$KEY" --timeout 600; }
U0=$(uptime_tsc sctl); W0=$(now)
sctl load --disk "$OUT/disk.img" > "$SER/load.out" 2>&1
SER_RC=$?
W1=$(now); U1=$(uptime_tsc sctl)
control_shutdown
rm -rf "$SOCK_DIR"
SER_TICKS=$((U1 - U0)); SER_WALL=$(wall "$W0" "$W1")
SER_KHZ=$(khz "$SER")

ms() { awk -v t="$1" -v k="$2" 'BEGIN { printf "%.0f", t / k }'; }
rate() { awk -v t="$1" -v k="$2" -v m=$SIZE_MIB 'BEGIN { printf "%.0f", m * 1024 * 1000 * k / t }'; }
section_head
cat <<MD
| measurement | over the network (control guest, TCP) | over COM2 (115200 baud) |
|---|---|---|
| \`mfctl load --disk\` of $SIZE_MIB MiB, keyed | $NET_TICKS ticks = $(ms "$NET_TICKS" "$NET_KHZ") emulated ms ($(rate "$NET_TICKS" "$NET_KHZ") KiB/s emulated), $NET_WALL s wall | $([ "$SER_RC" = 0 ] && echo "$SER_TICKS ticks = $(ms "$SER_TICKS" "$SER_KHZ") emulated ms ($(rate "$SER_TICKS" "$SER_KHZ") KiB/s emulated), $SER_WALL s wall" || echo "failed: $(tail -1 "$SER/load.out")") |
| \`mfctl start\` round trip (HELLO and START, one after another, $STARTS times) | $START_TICKS ticks each, $START_WALL_MS ms wall each | see "Control channel" above |
| START request to the guest's first instruction (stored 15 KiB image) | $REQ_MIN ticks | see "Control channel" above |

Emulated time is the hypervisor's uptime from STATS before and after
(its own two requests included), one tick per emulated instruction.
Unlike the rest of this file these figures do not repeat exactly: the
host's TCP stack and Bochs's tap run on the wall clock, and with \`clock:
sync=none\` emulated time races on while the guest idles waiting for the
host, so they vary by a fifth or so from run to run, and the ticks per
\`mfctl start\` are mostly such idling (as over COM2). Over the network
the bytes go host TCP → Bochs's e1000 on the tap → the uplink → the
switch → the control guest's TCP stack → MF_HC_CTL_XFER → the control
server on the boot CPU, which parses, authenticates and stores each
4 KiB chunk with the same checks as on COM2; mfctl keeps 8 chunks in
flight over TCP (one at a time over COM2), so the upload is bound by
Bochs's e1000 and the two TCP stacks, not by the hypervisor's work.
Over COM2 every byte crosses the emulated UART at 115200 baud.
The START figure is keyed (the network needs a key; the COM2 figure
above is not): it includes checking the request's HMAC and signing the
reply, in software SHA-256, before the new guest is first scheduled.
MD
