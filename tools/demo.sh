#!/usr/bin/env bash
# `make demo`: boots the hypervisor with the fleet in tools/demo/mayfly.conf,
# streams its console, then prints a summary of what happened.
# DEMO_CONF=path overrides the fleet; DEMO_EMU picks the emulator: bochs
# (VT-x with EPT, emulated instruction by instruction) or qemu (QEMU's
# software CPU: AMD-V with nested paging, several times faster).
set -u
cd "$(dirname "$0")/.."
tools/install-deps.sh --check-or-install || exit 2
source tests/lib/emu.sh
CONF=${DEMO_CONF:-tools/demo/mayfly.conf}
OUT=$MAYFLY_BUILD/demo
mkdir -p "$OUT"

# Every image the config names, from build/guests/.
images=()
for img in $(grep -oE 'image=[^ ]+' "$CONF" | cut -d= -f2 | sort -u); do
    [ -f "$MAYFLY_BUILD/guests/$img" ] || { echo "demo: $img is not built (run make)"; exit 1; }
    images+=("$MAYFLY_BUILD/guests/$img")
done
mk_iso "$OUT/demo.iso" "$CONF" "${images[@]}" || { echo "demo: grub-mkrescue failed"; exit 1; }

EMU=${DEMO_EMU:-bochs}
case "$EMU" in
    bochs) echo "demo: booting Mayfly in Bochs (cpu: tigerlake, VT-x, 512 MiB); console follows" ;;
    qemu) echo "demo: booting Mayfly in QEMU (cpu: max, AMD-V, 512 MiB); console follows" ;;
    *) echo "demo: DEMO_EMU=$EMU: use bochs or qemu"; exit 2 ;;
esac
echo "------------------------------------------------------------------------"
: > "$OUT/serial.log"
( if [ "$EMU" = qemu ]; then
      QEMU_ACCEL=tcg qemu_iso_run "$OUT" "$OUT/demo.iso" 512 600
  else
      bochs_run "$OUT" "$OUT/demo.iso" tigerlake 512 20000000000 600
  fi
  echo "$EMU_RESULT" > "$OUT/result" ) &
RUN=$!
# Follows the console until the run ends, then prints what is left.
tail -n +1 -f --pid=$RUN "$OUT/serial.log" 2>/dev/null | tr -d '\r'
wait $RUN
EMU_RESULT=$(cat "$OUT/result")
echo "------------------------------------------------------------------------"

LOG=$OUT/serial.log
printf '\n%-6s %-14s %s\n' "guest" "name" "how it ended"
grep -E '^mayfly: guest [0-9]+ [^ ]+ (exited|killed)' "$LOG" |
    sed -E 's/^mayfly: guest ([0-9]+) ([^ ]+) (.*)$/\1|\2|\3/' |
    sort -t'|' -k1,1n | while IFS='|' read -r id name how; do
        printf '%-6s %-14s %s\n' "$id" "$name" "$how"
    done
echo
grep -E '^mayfly: all guests have ended' "$LOG" | sed 's/^mayfly: /summary: /'
grep -E '^mayfly: switch ' "$LOG" | sed 's/^mayfly: /network: /'
# Round trips the ping clients measured (TSC ticks; 50 MHz in Bochs).
grep -oE 'udp-ping: [0-9]+/[0-9]+ replies intact, rtt min/avg/max [0-9/]+' "$LOG" |
    awk '{ split($2, n, "/"); ok += n[1]; all += n[2]; split($NF, r, "/");
           if (!min || r[1] < min) min = r[1]; if (r[3] > max) max = r[3]; sum += r[2]; c++ }
         END { if (c) printf "round trips: %d/%d datagrams intact over %d clients, rtt min %d, mean of averages %d, max %d ticks\n", ok, all, c, min, sum / c, max }'
status=$(sed -nE 's/^mayfly: power off \(status ([0-9]+)\)/\1/p' "$LOG" | tail -1)
echo "run ended: $EMU_RESULT, power-off status ${status:-none} (0: every guest exited 0; 1: some failed or were killed)"
[ "$EMU_RESULT" = poweroff ]
