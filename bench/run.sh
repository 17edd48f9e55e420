#!/usr/bin/env bash
# `make bench`: boots Bochs (tigerlake, deterministic) with benchmark
# guests and reports emulated instructions (TSC ticks: in Bochs the TSC
# advances one tick per instruction). Prints the figures and rewrites
# bench/RESULTS.md. Numbers are not asserted anywhere.
set -u
cd "$(dirname "$0")/.."
source tests/lib/emu.sh
tools/install-deps.sh --check-or-install || exit 2
OUT=$MAYFLY_BUILD/bench
G=$MAYFLY_BUILD/guests
mkdir -p "$OUT"

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
field() {   # field RUN REGEX SED-EXPR: first match, transformed
    grep -E "$2" "$OUT/$1/serial.log" | head -1 | sed -E "$3"
}

echo "bench: null hypercall"
boot null 256 'partition small 2M x 1
guest null image=bench.elf args="null 2000"
poweroff when-idle' "$G/bench.elf"
NULL=$(field null 'bench null:' 's/.* ([0-9]+) ticks per round trip.*/\1/')

echo "bench: launches (one partition, one guest at a time, nothing else runnable)"
# The first instance finds its partition as the boot left it (scrubbed at
# launch); the second starts in it right after the first ended (already
# scrubbed at the end, so the launch only copies).
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

echo "bench: concurrency (2 GiB, 2 MiB partitions)"
N=${BENCH_GUESTS:-1000}
boot fleet 2048 "partition small 2M x $N
guest hold image=bench.elf count=$N args=\"hold 3000\"
poweroff when-idle" "$G/bench.elf"
PEAK=$(field fleet 'at most [0-9]+ ran at once' 's/.*at most ([0-9]+) ran at once.*/\1/')
POOL=$(field fleet 'vCPUs ready, pool' 's/.*pool ([0-9]+) KiB used.*/\1/')
PER_GUEST=$(( POOL * 1024 / N ))
OK=$(grep -cE 'hold\.[0-9]+ exited with status 0' "$OUT/fleet/serial.log")

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
| null hypercall round trip, seen from the guest | $NULL ticks | ≤ 100 hypervisor instructions |
| launch, small image (15 KiB), clean partition: start → first guest instruction | $S1_T ticks (copy $S1_C, rest $S1_R) | ≤ 15,000 beyond the copy |
| launch, small image, first use of a partition (scrub included) | $S0_T ticks (scrub $S0_S, copy $S0_C, rest $S0_R) | |
| launch, 1 MiB image, clean partition | $B1_T ticks (copy $B1_C, rest $B1_R) | ≤ 15,000 beyond the copy |
| scrub cost | $SCRUB_PER_MIB ticks per MiB (64 MiB partition: $H0_S) | |
| concurrent guests, 2 GiB machine, 2 MiB partitions | $PEAK ran at once ($OK of $N exited 0) | ≥ 900 |
| hypervisor memory per guest | $PER_GUEST bytes (pool $POOL KiB for $N partitions) | ≤ 16 KiB |

"rest" is the hypervisor's own work on a launch beyond scrubbing and
copying: building the guest's page tables and boot-info page, resetting
the VMCS, queueing and scheduling it and entering it.

Memory per guest is what the pool holds per partition: a 4 KiB VMCS,
three 4 KiB EPT pages (PML4, PDPT, one directory of 2 MiB leaves), the
vCPU with its 512-byte FXSAVE area and the guest's record; the MSR and
I/O bitmaps are shared by all guests.
MD
} > bench/RESULTS.md
cat bench/RESULTS.md
