# Summoning from outside (issue 14): the host's own TCP (curl in a
# network namespace whose tap is the emulator's NIC, tests/lib/netns.sh)
# at a summoned httpd behind the uplink. Under QEMU's software CPU
# (AMD-V), whose e1000 receives for any MAC, so the service keeps an
# address of its own beside a sentinel guest; its TSC follows the wall
# clock, so idle= is close to wall time. The first request is answered
# by an instance that did not exist before it (its /status counts that
# request as its first); after idle= the instance is gone; then 50
# first requests at once to the max=4 service are all answered, by at
# most 4 instances. A UDP datagram to the sentinel (udp-echo count=1)
# ends the run once the instances have idled out. Needs root and
# network namespaces, and qemu-system-x86_64; skips cleanly elsewhere.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/../lib/netns.sh"
G=$MAYFLY_BUILD/guests
HOST=$(cd "$(dirname "$0")" && pwd)/uplink_host.py
NIC_MAC=52:54:00:12:34:56
IDLE_MS=1500

# The host side, once the sentinel answers ICMP: one request, a wait of
# twice idle=, 50 at once, then the datagram that ends the sentinel.
summon_host_side() {
    local ns=$1 d=$2 i
    mkdir -p "$d"
    ip netns exec "$ns" python3 "$HOST" ping --dst 10.0.0.3 --until-up 90 --count 0 \
        --stop-file "$CASE_DIR/boot.done" > "$d/up.out" 2>&1 ||
        { cat "$d/up.out" > "$d/error"; return; }
    ip netns exec "$ns" curl -sS -m 30 -o "$d/first" -w '%{http_code}\n' \
        http://10.0.0.9/status > "$d/first.code" 2>&1
    sleep $((2 * IDLE_MS / 1000 + 1))
    local urls=()
    for ((i = 1; i <= 50; i++)); do
        urls+=(-o "$d/par.$i" http://10.0.0.9/status)
    done
    ip netns exec "$ns" curl -sS --no-progress-meter -m 60 \
        --parallel --parallel-immediate --parallel-max 50 \
        -w '%{http_code}\n' "${urls[@]}" > "$d/par.codes" 2>&1
    ip netns exec "$ns" python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.sendto(b"end", ("10.0.0.3", 7))'
}

summon_host_boot() {
    local host_pid
    netns_make 1 || return 1
    summon_host_side "$NETNS_NAME" "$CASE_DIR/host" &
    host_pid=$!
    netns_boot "$NETNS_NAME" qemu "$NIC_MAC" "partition small 2M x 6
uplink lan0
summon web image=httpd.elf ip=10.0.0.9 port=80 idle=$IDLE_MS max=4
guest sentinel image=udp-echo.elf net=lan0 args=\"ip=10.0.0.3 count=1 idle=0\"
poweroff when-idle" "$G/httpd.elf" "$G/udp-echo.elf"
    touch "$CASE_DIR/boot.done"
    wait $host_pid
    [ ! -f "$CASE_DIR/host/error" ] || { CASE_WHY="host side: $(head -3 "$CASE_DIR/host/error")"; return 1; }
    expect_line '^mayfly: AMD-V: ' &&
    expect_line '^mayfly: summon web: 10\.0\.0\.9 port 80 on switch lan0, mac 02:4d:53:00:00:01, '
}

# The first request: 200 from web.0, the first request that instance
# served, which was started after boot for it (a summon line for it).
first_request_summons() {
    [ "$(cat "$CASE_DIR/host/first.code")" = 200 ] ||
        { CASE_WHY="first request: $(cat "$CASE_DIR/host/first.code")"; return 1; }
    grep -q '"requests":1}' "$CASE_DIR/host/first" ||
        { CASE_WHY="first reply is not its instance's first request: $(cat "$CASE_DIR/host/first")"; return 1; }
    expect_line '^mayfly: summon web: instance 0 is guest [0-9]+, [0-9]+ ticks after its first frame$' &&
    expect_line "^mayfly: guest [0-9]+ web\\.0 retired: idle for $IDLE_MS ms"
}

# The 50: all 200, from at most 4 instances (by the ids in /status).
parallel_first_requests() {
    local codes ids
    codes=$(grep -c '^200$' "$CASE_DIR/host/par.codes")
    [ "$codes" = 50 ] || { CASE_WHY="$codes of 50 parallel requests got 200: $(grep -v '^200$' "$CASE_DIR/host/par.codes" | head -3)"; return 1; }
    ids=$(cat "$CASE_DIR"/host/par.* 2>/dev/null | grep -o '"id":[0-9]*' | sort -u | wc -l)
    [ "$ids" -ge 1 ] && [ "$ids" -le 4 ] || { CASE_WHY="$ids instances answered (expected 1 to 4)"; return 1; }
    expect_no_line '^mayfly: summon web: instance [4-9]' &&
    expect_line '^mayfly: summon web: [0-9]+ summoned, [0-9]+ idled out, [0-9]+ ended, 0 running, 0 launch failures' &&
    expect_line '^mayfly: guest [0-9]+ sentinel\.0 exited with status 0$' &&
    expect_poweroff 0
}

if ! why=$(netns_can_run) || ! command -v qemu-system-x86_64 >/dev/null ||
   [ "${MAYFLY_QEMU:-1}" = 0 ]; then
    why=${why:-no qemu-system-x86_64, or turned off with MAYFLY_QEMU=0}
    for c in summon_host_boot first_request_summons parallel_first_requests; do
        echo "SKIP: $c: $why (needs root, network namespaces and QEMU)"
    done
    end_of_script
fi
run_case summon_host_boot
run_check first_request_summons "$SYSTEST_OUT/summon_host_boot"
run_check parallel_first_requests "$SYSTEST_OUT/summon_host_boot"
end_of_script
