# The host's real TCP stack against guests through the uplink (issue 13):
# each case makes a network namespace with a tap in it (10.0.0.1/24),
# runs the emulator inside it with its NIC on that tap, and so the
# namespace's own kernel (curl, an HTTP server, ICMP) talks to the guest
# behind the uplink. Nothing outside the namespace is touched and it is
# deleted afterwards. Needs root; skips cleanly elsewhere.
#
# Three emulators, the same cases: Bochs (tigerlake, one CPU, VT-x) with
# its e1000 on the 'tuntap' backend, and QEMU's software CPU (AMD-V,
# MAYFLY_EMULATOR=qemu) with its e1000 and with virtio-net-pci on
# `-netdev tap` (tests/lib/emu.sh QEMU_NIC_TAP).
#
# Bochs passes in only frames for the MAC it was given, so there the
# guest takes that address with mac=, and it takes at most one frame from
# the host per emulated millisecond. With `clock: sync=none` emulated time
# runs many times faster than the wall clock while the guest idles: httpd
# gets a long idle= (emulated ms) and ends the run after the host side is
# done. Under QEMU the drivers receive promiscuously, so the guest keeps
# an address of its own (not the NIC's), and the TSC follows the host's
# clock: idle= and timeout= are close to wall time there and kept short.
# QEMU's e1000 delivers nothing for about a second after receive is
# enabled; the host side pings until the guest answers before it starts.
# UTCP_QEMU=0 (or MAYFLY_QEMU=0) leaves the QEMU cases out.
source "$(dirname "$0")/lib.sh"
G=$MAYFLY_BUILD/guests
HOST=$(cd "$(dirname "$0")" && pwd)/uplink_host.py
NIC_MAC=52:54:00:12:34:56
GUEST_MAC=52:54:00:ab:cd:02     # the guest's own address, under QEMU only
# Emulated ms without a connection before httpd stops: far more than any
# gap the host side leaves between connections (emulated time races while
# curl starts), and 1-3 s of wall time once it is done. Under QEMU an
# emulated ms is a wall ms: a few seconds, still well over any gap (a
# curl start, the 12 pings at the end: about 1 s).
HTTPD_IDLE_BOCHS=60000
HTTPD_IDLE_QEMU=5000

source "$(dirname "$0")/../lib/netns.sh"

# utcp_boot NS CONFIG FILE...: netns_boot for this variant's emulator
# (UTCP_EMU: bochs, qemu) and QEMU device (UTCP_NIC: e1000,
# virtio-net-pci), the NIC's MAC NIC_MAC.
utcp_boot() {
    local ns=$1 conf=$2; shift 2
    NETNS_QEMU_NIC=$UTCP_NIC netns_boot "$ns" "$UTCP_EMU" "$NIC_MAC" "$conf" "$@"
}

# utcp_variant EMU NIC: the emulator and NIC the next boots use, and what
# follows from them: the hypervisor's name for the driver (UTCP_DRIVER),
# the guest's MAC (UTCP_MAC: the NIC's in Bochs, its own under QEMU), and
# httpd's idle= and http-get's timeout= in emulated ms.
utcp_variant() {
    UTCP_EMU=$1 UTCP_NIC=$2
    UTCP_DRIVER=$([ "$2" = e1000 ] && echo e1000 || echo virtio-net)
    if [ "$1" = qemu ]; then
        UTCP_MAC=$GUEST_MAC UTCP_IDLE=$HTTPD_IDLE_QEMU UTCP_GET_TIMEOUT=20000
    else
        UTCP_MAC=$NIC_MAC UTCP_IDLE=$HTTPD_IDLE_BOCHS UTCP_GET_TIMEOUT=60000
    fi
}
utcp_variant bochs e1000

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# --- curl against httpd -------------------------------------------------

# utcp_curl_host NS DIR: the host side of the httpd boot, run once the
# guest answers ICMP (so httpd listens): 100 curl runs of GET / and GET
# /status on one keep-alive connection each (200 requests, one after
# another), then one curl with 20 GET /status on 20 connections at once,
# then a last GET /status, then 11 requests with large headers, then 12
# pings. Raw results in DIR, timings in DIR/times; gives up once
# $CASE_DIR/boot.done says the run has ended.
utcp_curl_host() {
    local ns=$1 d=$2 t i
    mkdir -p "$d"
    # Not the serial line: Bochs may write it to the file only later.
    ip netns exec "$ns" python3 "$HOST" ping --dst 10.0.0.2 --until-up 90 --count 0 \
        --stop-file "$CASE_DIR/boot.done" \
        > "$d/up.out" 2>&1 || { cat "$d/up.out" > "$d/error"; return; }
    t=$(now)
    for ((i = 1; i <= 100; i++)); do
        [ ! -f "$CASE_DIR/boot.done" ] ||
            { echo "the run ended after $((i - 1)) curl runs" > "$d/error"; break; }
        ip netns exec "$ns" curl -sS -m 20 -w '%{http_code} %{num_connects}\n' \
            -o "$d/page.$i" http://10.0.0.2/ -o "$d/status.$i" http://10.0.0.2/status \
            > "$d/seq.$i" 2>&1 ||
            { echo "curl run $i failed: $(tr '\n' ' ' < "$d/seq.$i")" > "$d/error"
              ip netns exec "$ns" sh -c 'ip -s link show tap0; ip neigh' > "$d/tap.txt" 2>&1
              break; }
    done
    echo "sequential $(elapsed "$t")" >> "$d/times"
    t=$(now)
    local urls=()
    for ((i = 1; i <= 20; i++)); do
        urls+=(-o "$d/par.$i" http://10.0.0.2/status)
    done
    ip netns exec "$ns" curl -sS --no-progress-meter -m 60 \
        --parallel --parallel-immediate --parallel-max 20 \
        -w '%{http_code} %{num_connects}\n' "${urls[@]}" > "$d/par.codes" 2>&1
    echo "parallel $(elapsed "$t")" >> "$d/times"
    ip netns exec "$ns" curl -sS -m 20 -o "$d/final" -w '%{http_code}\n' \
        http://10.0.0.2/status > "$d/final.code" 2>&1
    t=$(now)
    local pad
    pad=$(head -c 3000 /dev/zero | tr '\0' x)
    for ((i = 1; i <= 10; i++)); do
        ip netns exec "$ns" curl -sS -m 20 -H "X-Pad: $pad" -o "$d/big.$i" -w '%{http_code}\n' \
            http://10.0.0.2/ > "$d/big.$i.code" 2>&1
    done
    pad=$(head -c 8000 /dev/zero | tr '\0' y)
    ip netns exec "$ns" curl -sS -m 20 -H "X-Pad: $pad" -o "$d/huge" -w '%{http_code}\n' \
        http://10.0.0.2/ > "$d/huge.code" 2>&1
    echo "large-headers $(elapsed "$t")" >> "$d/times"
    t=$(now)
    ip netns exec "$ns" python3 "$HOST" ping --dst 10.0.0.2 --count 12 \
        --sizes 56,1,1000,1472 > "$d/ping.out" 2>&1
    echo "ping $(elapsed "$t")" >> "$d/times"
}

# utcp_expect_qemu: under QEMU, the run was on AMD-V and the uplink on
# this variant's NIC (the Bochs cases check what they always did).
utcp_expect_qemu() {
    [ "$UTCP_EMU" = qemu ] || return 0
    expect_line '^mayfly: AMD-V: ' &&
    expect_line "^mayfly: uplink lan0: $UTCP_DRIVER [0-9a-f:.]+, mac $NIC_MAC$"
}

# utcp_httpd_conf: the config for the httpd boot of this variant.
utcp_httpd_conf() {
    printf '%s\n' "partition small 2M x 2" "uplink lan0" \
        "guest www image=httpd.elf net=lan0 mac=$UTCP_MAC args=\"ip=10.0.0.2 idle=$UTCP_IDLE\"" \
        "poweroff when-idle"
}

# utcp_httpd_run NS_NUMBER: one boot for the curl and ping checks, in
# namespace NS_NUMBER; httpd stops by itself idle= emulated ms after the
# host side is done.
utcp_httpd_run() {
    local t host_pid
    netns_make "$1" || return 1
    t=$(now)
    utcp_curl_host "$NETNS_NAME" "$CASE_DIR/host" &
    host_pid=$!
    utcp_boot "$NETNS_NAME" "$(utcp_httpd_conf)" "$G/httpd.elf"
    touch "$CASE_DIR/boot.done"     # a host side still waiting gives up
    wait "$host_pid"
    echo "  ${FUNCNAME[1]}: $(elapsed "$t") s wall (boot, host side, httpd idling out)"
    sed 's/^/  uplink_tcp: /; s/$/ s wall/' "$CASE_DIR/host/times" 2>/dev/null
    [ ! -f "$CASE_DIR/host/error" ] || { CASE_WHY=$(cat "$CASE_DIR/host/error"); return 1; }
    utcp_expect_qemu &&
    expect_line "^mayfly: uplink lan0: $UTCP_DRIVER [0-9a-f:.]+, mac $NIC_MAC$" &&
    expect_guest www.0 'exited with status 0$' &&
    expect_no_line 'panic' &&
    expect_poweroff 0
}

uplink_tcp_httpd_boot() {
    utcp_variant bochs e1000
    utcp_httpd_run 1
}

# The page curl must get: httpd's static page.
utcp_page_ok() {
    grep -q '<title>Mayfly</title>' "$1" && tail -c 15 "$1" | grep -q '</body></html>'
}

# 200 requests one after another from the host's TCP stack, two per
# connection (the second on the kept-alive connection): every status 200,
# every page httpd's, and every /status counting exactly the requests
# before it plus itself.
uplink_curl_200_sequential() {
    local d=$CASE_DIR/host i want
    for ((i = 1; i <= 100; i++)); do
        want=$(printf '200 1\n200 0')
        [ "$(cat "$d/seq.$i" 2>/dev/null)" = "$want" ] || {
            CASE_WHY="curl run $i: codes/connects '$(tr '\n' ' ' < "$d/seq.$i")', want '200 1 200 0'"
            return 1; }
        utcp_page_ok "$d/page.$i" && cmp -s "$d/page.1" "$d/page.$i" || {
            CASE_WHY="curl run $i: GET / body differs from httpd's page"; return 1; }
        grep -qE "^\{\"guest\":\"www\.0\",\"id\":[0-9]+,\"uptime_ms\":[0-9]+,\"requests\":$((2 * i))\}" \
            "$d/status.$i" || {
            CASE_WHY="curl run $i: /status '$(head -c 120 "$d/status.$i")' does not count $((2 * i))"
            return 1; }
    done
}

# 20 GET /status on 20 connections opened at once: all 200, each on its
# own connection, and the counts exactly 201..220 (each request counted
# once).
uplink_curl_20_parallel() {
    local d=$CASE_DIR/host counts i
    [ "$(grep -c '^200 1$' "$d/par.codes" 2>/dev/null)" = 20 ] || {
        CASE_WHY="parallel curl: $(sort "$d/par.codes" | uniq -c | tr '\n' ' ')"; return 1; }
    counts=$(for ((i = 1; i <= 20; i++)); do
                 grep -oE '"requests":[0-9]+' "$d/par.$i" | cut -d: -f2
             done | sort -n | tr '\n' ' ')
    [ "$counts" = "$(seq -s ' ' 201 220) " ] || {
        CASE_WHY="parallel /status counts '$counts', want 201..220"; return 1; }
    [ "$(cat "$d/final.code")" = 200 ] && grep -q '"requests":221}' "$d/final" || {
        CASE_WHY="last /status: $(cat "$d/final.code") $(cat "$d/final")"; return 1; }
}

# Requests that reach the guest in more than one segment: 10 with a
# 3000-byte header (three segments at the host's MSS less its timestamp
# option) all answered with the page, and one whose 8000-byte header
# overruns the guest's 4 KiB receive buffer and httpd's request limit:
# 431 while the host still has bytes queued, not a hang.
uplink_curl_multi_segment_requests() {
    local d=$CASE_DIR/host i
    for ((i = 1; i <= 10; i++)); do
        [ "$(cat "$d/big.$i.code" 2>/dev/null)" = 200 ] && cmp -s "$d/page.1" "$d/big.$i" || {
            CASE_WHY="3000-byte header, request $i: '$(tr '\n' ' ' < "$d/big.$i.code")'"
            return 1; }
    done
    [ "$(cat "$d/huge.code" 2>/dev/null)" = 431 ] || {
        CASE_WHY="8000-byte header: '$(tr '\n' ' ' < "$d/huge.code")', want 431"; return 1; }
}

# httpd's own view: 232 requests on 100 + 20 + 1 + 11 connections, none
# refused.
uplink_httpd_counted_the_host() {
    expect_line '^\[www\.0\] httpd: served 232 requests$' &&
    expect_line '^\[www\.0\] httpd: tcp: 132 connections accepted, [0-9]+ TIME-WAIT slots reused, 0 refused, '
}

# ICMP echo from the namespace (1 to 1472 bytes of payload) answered
# intact by the guest's stack.
uplink_ping_answered() {
    grep -q '^ping: 12/12 answered intact' "$CASE_DIR/host/ping.out" 2>/dev/null || {
        CASE_WHY="ping: $(tr '\n' ' ' < "$CASE_DIR/host/ping.out" 2>/dev/null || echo "did not run")"
        return 1; }
}

# --- guest to host ------------------------------------------------------

# http-get in the guest opens TCP connections to an HTTP/1.1 server on the
# host (10.0.0.1:8080 in the namespace): 40 GET / at 4 per connection, 8
# at once, then /status; every reply checked by the guest, every request
# seen by the server.
uplink_guest_to_host_http() {
    utcp_variant bochs e1000
    utcp_guest_to_host_run 2
}

# utcp_guest_to_host_run NS_NUMBER: that case for this variant, in
# namespace NS_NUMBER.
utcp_guest_to_host_run() {
    local t srv i
    local get_args="ip=10.0.0.2 peer=10.0.0.1 port=8080 count=40 keepalive=4 burst=8 path=/"
    get_args+=" timeout=$UTCP_GET_TIMEOUT"
    netns_make "$1" || return 1
    t=$(now)
    ip netns exec "$NETNS_NAME" python3 "$HOST" serve --addr 10.0.0.1 --port 8080 \
        --ready "$CASE_DIR/server.ready" --log "$CASE_DIR/server.log" --seconds 150 \
        > "$CASE_DIR/server.out" 2>&1 &
    srv=$!
    for ((i = 0; i < 100; i++)); do
        [ -f "$CASE_DIR/server.ready" ] && break
        sleep 0.05
    done
    [ -f "$CASE_DIR/server.ready" ] || {
        CASE_WHY="host server did not start: $(cat "$CASE_DIR/server.out")"; kill "$srv"; return 1; }
    utcp_boot "$NETNS_NAME" "partition small 2M x 2
uplink lan0
guest get image=http-get.elf net=lan0 mac=$UTCP_MAC args=\"$get_args\"
poweroff when-idle" "$G/http-get.elf"
    kill "$srv" 2>/dev/null
    wait "$srv" 2>/dev/null
    echo "  ${FUNCNAME[1]}: $(elapsed "$t") s wall"
    expect_line '^\[get\.0\] http-get: 48/48 ok$' &&
    utcp_expect_qemu &&
    expect_line '^\[get\.0\] http-get: server counted 49 requests$' &&
    expect_guest get.0 'exited with status 0$' &&
    expect_no_line 'panic' &&
    expect_poweroff 0 || return 1
    # The server saw them all, from the guest, on 10 + 8 + 1 connections.
    [ "$(grep -c '^10\.0\.0\.2:' "$CASE_DIR/server.log")" = 49 ] &&
    [ "$(cut -d' ' -f1 "$CASE_DIR/server.log" | sort -u | wc -l)" = 19 ] || {
        CASE_WHY="host server log: $(wc -l < "$CASE_DIR/server.log") requests on" \
                 "$(cut -d' ' -f1 "$CASE_DIR/server.log" | sort -u | wc -l) connections, want 49 on 19"
        return 1; }
}

# --- the same under QEMU ------------------------------------------------

# The QEMU variants of every case and check above, in namespaces of their
# own: uplink_qemu_e1000_* and uplink_qemu_virtio_net_*.
uplink_qemu_e1000_tcp_httpd_boot() { utcp_variant qemu e1000; utcp_httpd_run 3; }
uplink_qemu_e1000_guest_to_host_http() { utcp_variant qemu e1000; utcp_guest_to_host_run 4; }
uplink_qemu_virtio_net_tcp_httpd_boot() { utcp_variant qemu virtio-net-pci; utcp_httpd_run 5; }
uplink_qemu_virtio_net_guest_to_host_http() { utcp_variant qemu virtio-net-pci; utcp_guest_to_host_run 6; }
UTCP_CHECKS="curl_200_sequential curl_20_parallel curl_multi_segment_requests
             httpd_counted_the_host ping_answered"
for nic in e1000 virtio_net; do
    for c in $UTCP_CHECKS; do
        eval "uplink_qemu_${nic}_$c() { uplink_$c; }"
    done
done

# utcp_httpd_cases PREFIX: the httpd boot PREFIXtcp_httpd_boot and its
# checks (uplink_ for Bochs, uplink_qemu_NIC_ for QEMU).
utcp_httpd_cases() {
    local c
    run_case "${1}tcp_httpd_boot"
    for c in $UTCP_CHECKS; do
        run_check "$1$c" "$SYSTEST_OUT/${1}tcp_httpd_boot"
    done
}

UTCP_QEMU_ON=1
[ "${UTCP_QEMU:-1}" != 0 ] && [ "${MAYFLY_QEMU:-1}" != 0 ] &&
    command -v qemu-system-x86_64 >/dev/null || UTCP_QEMU_ON=0
UTCP_PREFIXES="uplink_"
[ "$UTCP_QEMU_ON" = 0 ] || UTCP_PREFIXES+=" uplink_qemu_e1000_ uplink_qemu_virtio_net_"

if ! why=$(netns_can_run); then
    for p in $UTCP_PREFIXES; do
        for c in tcp_httpd_boot $UTCP_CHECKS guest_to_host_http; do
            echo "SKIP: $p$c: $why (needs root and network namespaces)"
        done
    done
    end_of_script
fi
[ "$UTCP_QEMU_ON" = 1 ] ||
    echo "SKIP: uplink_qemu_*: no qemu-system-x86_64, or turned off with UTCP_QEMU=0/MAYFLY_QEMU=0"
for p in $UTCP_PREFIXES; do
    if command -v curl >/dev/null; then
        utcp_httpd_cases "$p"
    else
        echo "SKIP: ${p}tcp_httpd_boot: no curl on this machine (apt-get install curl)"
    fi
    run_case "${p}guest_to_host_http"
done
end_of_script
