# Network I/O in Bochs (tigerlake): virtio-net ports on switches in the
# hypervisor, driven by the guests' own virtio driver and UDP stack.
source "$(dirname "$0")/lib.sh"
G=$MAYFLY_BUILD/guests

echo_and_ping_1000_datagrams() {
    boot_bochs tigerlake 256 'partition small 2M x 4
guest echo image=udp-echo.elf net=lan0 args="ip=10.0.0.1 idle=3000"
guest ping image=udp-ping.elf net=lan0 args="ip=10.0.0.2 peer=10.0.0.1 count=1000"
poweroff when-idle' "$G/udp-echo.elf" "$G/udp-ping.elf" &&
    expect_line '^\[ping\.0\] udp-ping: 1000/1000 replies intact, rtt min/avg/max [0-9]+/[0-9]+/[0-9]+ ticks$' &&
    expect_line '^\[echo\.0\] udp-echo: echoed 1000 datagrams$' &&
    expect_guest ping.0 'exited with status 0$' &&
    expect_guest echo.0 'exited with status 0$' &&
    expect_line '^mayfly: switch lan0: [0-9]+ frames switched, 0 dropped; [0-9]+ kicks took [0-9]+ TSC ticks$' &&
    expect_poweroff 0
}

sixteen_guests_mesh() {
    local conf='partition small 2M x 16' k
    for k in $(seq 1 16); do
        conf+=$'\n'"guest m$k image=udp-ping.elf net=lan0 args=\"ip=10.0.0.$k mesh=16 rounds=2\""
    done
    conf+=$'\npoweroff when-idle'
    BOCHS_SECONDS=400 boot_bochs tigerlake 256 "$conf" "$G/udp-ping.elf" || return 1
    # Every guest reached all 15 peers and every tally is the same.
    expect_count 16 '^\[m[0-9]+\.0\] mesh 10\.0\.0\.[0-9]+: sent 30, answered 30, got 30 replies from 15 peers$' &&
    expect_count 16 '^mayfly: guest [0-9]+ m[0-9]+\.0 exited with status 0$' &&
    expect_poweroff 0
}

switches_are_isolated() {
    # lone is on lan1 and pings the echo server on lan0: its frames are
    # not delivered, so it times out; a client on lan0 gets through.
    boot_bochs tigerlake 256 'partition small 2M x 4
guest echo image=udp-echo.elf net=lan0 args="ip=10.0.0.1 idle=3000"
guest near image=udp-ping.elf net=lan0 args="ip=10.0.0.2 peer=10.0.0.1 count=20"
guest lone image=udp-ping.elf net=lan1 args="ip=10.0.0.3 peer=10.0.0.1 count=20 arp=500"
poweroff when-idle' "$G/udp-echo.elf" "$G/udp-ping.elf" &&
    expect_line '^\[near\.0\] udp-ping: 20/20 replies intact' &&
    expect_line '^\[lone\.0\] udp-ping: timeout: no ARP reply from 10\.0\.0\.1' &&
    expect_guest lone.0 'exited with status 1$' &&
    expect_line '^\[echo\.0\] udp-echo: echoed 20 datagrams$' &&
    expect_poweroff 1
}

malicious_rings_beside_healthy_pair() {
    local conf='partition small 2M x 12
guest echo image=udp-echo.elf net=lan0 args="ip=10.0.0.1 idle=4000"
guest ping image=udp-ping.elf net=lan0 args="ip=10.0.0.2 peer=10.0.0.1 count=300"' mode
    for mode in loop outside wrap huge ahead badsize flip indirect; do
        conf+=$'\n'"guest $mode image=badring.elf net=lan0 args=\"$mode\""
    done
    conf+=$'\npoweroff when-idle'
    boot_bochs tigerlake 256 "$conf" "$G/udp-echo.elf" "$G/udp-ping.elf" "$G/badring.elf" || return 1
    expect_line '^\[ping\.0\] udp-ping: 300/300 replies intact' &&
    expect_guest ping.0 'exited with status 0$' &&
    expect_guest echo.0 'exited with status 0$' || return 1
    for mode in loop outside wrap huge ahead badsize flip indirect; do
        expect_line "^\\[$mode\\.0\\] badring: $mode: PASS" || return 1
        expect_guest "$mode.0" 'exited with status 0$' || return 1
    done
    # Each broken ring is named in the hypervisor's log.
    expect_line 'loop\.0: port 2 on lan0 failed: .*(chain|loop)' &&
    expect_line 'outside\.0: port 2 on lan0 failed: .*outside guest memory' &&
    expect_line 'wrap\.0: port 2 on lan0 failed: .*outside guest memory' &&
    expect_line 'ahead\.0: port 2 on lan0 failed: .*avail index jumped' &&
    expect_line 'huge\.0: port 2 on lan0 failed: .*4294967295 outside guest memory' &&
    expect_line 'indirect\.0: port 2 on lan0 failed: .*indirect' &&
    expect_line 'badsize\.0: port 2 setup refused: .*' &&
    expect_no_line 'panic' &&
    expect_poweroff 0
}

run_case echo_and_ping_1000_datagrams
run_case sixteen_guests_mesh
run_case switches_are_isolated
run_case malicious_rings_beside_healthy_pair
end_of_script
