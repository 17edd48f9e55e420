#!/usr/bin/env bash
# Part of `make bench` (bench/run.sh runs it and puts what it prints on
# stdout into bench/RESULTS.md): summon latency (issue 14) in Bochs
# (tigerlake, VT-x, one TSC tick per emulated instruction), for a native
# guest (httpd, asked by an http-get guest on the same switch) and a
# Solo5 unikernel (hvt-net, asked by udp-ping). Each service is summoned
# CYCLES times (every request waits out the previous instance's idle=),
# and the figures are the averages over those cycles.
set -u
cd "$(dirname "$0")/.."
source tests/lib/emu.sh
OUT=$MAYFLY_BUILD/bench
G=$MAYFLY_BUILD/guests
CYCLES=5

sboot() {   # sboot NAME CONFIG FILE...
    local name=$1 conf=$2; shift 2
    mkdir -p "$OUT/$name"
    printf '%s\n' "$conf" > "$OUT/$name/mayfly.conf"
    mk_iso "$OUT/$name/boot.iso" "$OUT/$name/mayfly.conf" "$@" || { echo "bench: ISO failed" >&2; exit 1; }
    bochs_run "$OUT/$name" "$OUT/$name/boot.iso" tigerlake 256 20000000000 1200
    [ "$EMU_RESULT" = poweroff ] ||
        { echo "bench: run $name ended by $EMU_RESULT; see $OUT/$name/serial.log" >&2; exit 1; }
}
# avg RUN REGEX: "F / A": the first number after the regex's first match
# (the first summon, into a partition used for the first time since
# boot) and the average of the same number over the later matches (the
# later summons, each into a partition its previous tenant left clean).
avg() {
    grep -oE "$2 [0-9]+" "$OUT/$1/serial.log" | grep -oE '[0-9]+$' |
        awk 'NR == 1 { f = $1; next } { s += $1; n++ }
             END { if (n) printf "%d / %d", f, s / n; else if (NR) printf "%d / -", f; else print "-" }'
}
count() { grep -cE "$2" "$OUT/$1/serial.log"; }

echo "bench: summon latency, native and Solo5 ($CYCLES cycles each)" >&2
sboot summon_native "partition cli 2M x 1
partition svc 2M x 2
switch lan
summon web image=httpd.elf ip=10.0.0.9 port=80 idle=100 class=svc
guest client image=http-get.elf class=cli net=lan count=$CYCLES args=\"ip=10.0.0.2 peer=10.0.0.9 count=1 delay=300\"
poweroff when-idle" "$G/httpd.elf" "$G/http-get.elf"
sboot summon_solo5 "partition cli 2M x 1
partition svc 4M x 2
switch lan
summon echo image=hvt-net.hvt ip=10.0.0.1 net:service=lan idle=1 class=svc args=\"ip=10.0.0.1 idle=0\"
guest ping image=udp-ping.elf class=cli net=lan count=$CYCLES args=\"ip=10.0.0.2 peer=10.0.0.1 count=1\"
poweroff when-idle" "$G/hvt-net.hvt" "$G/udp-ping.elf"

N_LAUNCH=$(avg summon_native 'instance 0 is guest [0-9]+,')
N_FIRST=$(avg summon_native 'httpd: first instruction')
N_READY=$(avg summon_native 'got the first frame')
N_REPLY=$(avg summon_native 'sent its first frame')
N_OK=$(count summon_native '^\[client\.[0-9]+\] http-get: 1/1 ok$')
N_SUM=$(count summon_native 'web\.0 retired: idle')
S_LAUNCH=$(avg summon_solo5 'instance 0 is guest [0-9]+,')
S_READY=$(avg summon_solo5 'got the first frame')
S_REPLY=$(avg summon_solo5 'sent its first frame')
S_OK=$(count summon_solo5 '^\[ping\.[0-9]+\] udp-ping: 1/1 replies intact')
S_SUM=$(count summon_solo5 'echo\.0 retired: idle')
cat <<MD

## Summoned services (Bochs, VT-x; $CYCLES summons each: the first / the average of the later ones)

| measurement | native guest (httpd, TCP) | Solo5 unikernel (hvt-net, UDP) |
|---|---|---|
| first frame at the switch → instance launched (the summoner woken, the launch through the fleet) | $N_LAUNCH ticks | $S_LAUNCH ticks |
| first frame → the instance's first instruction (boot info \`request_tsc\` to the guest's entry TSC) | $N_FIRST ticks | - |
| first frame → delivered to the instance (its port set up, the held frame taken) | $N_READY ticks | $S_READY ticks |
| first frame → the instance's first frame out (its first answer) | $N_REPLY ticks | $S_REPLY ticks |
| requests answered, instances summoned and retired | $N_OK of $CYCLES, $N_SUM | $S_OK of $CYCLES, $S_SUM |

Each request comes from a guest on the same switch once the previous
instance has been retired (idle=100 ms), so every one summons a fresh
instance. Each figure is given twice: the first summon, and the average
of the later ones. Partitions are dirty at boot and zeroed before their
first use, at idle or by the launch that takes one (docs/decisions.md,
"Zeroing at idle"): the native client waits 300 ms before its request,
so the machine idled and its partition was zeroed by then; the Solo5
client sends at once, so its first summon zeroes a 4 MiB partition in
front of the launch (about 524,000 ticks). Later summons find a clean
partition (the previous tenant's teardown or the idle slices zeroed it).
The launch figure is the front waking the summoner (at once, a few
thousand ticks) and the launch through the fleet (a copy of the line
checked at boot, the image copy, page tables, boot info, the vCPU, the
console lines); the image is not checked again. Between the launch and
the first delivered frame the guest runs its own start-up and sets its
virtio-net port up; between delivery and the first answer it brings its
network stack up. The hypervisor's own share is the launch line; the
rest is the guest's.
MD
