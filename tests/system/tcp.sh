# TCP in Bochs (tigerlake, one CPU): the httpd guest and the http-get
# client guest on one switch, both on the guest library's TCP.
source "$(dirname "$0")/lib.sh"
G=$MAYFLY_BUILD/guests

# One boot: 200 requests one after another (4 per connection, so 50
# connections opened and closed, keep-alive and "Connection: close" both
# used), then 20 on 20 connections opened at once, then one GET /status
# whose count must be all of them.
http_boot() {
    BOCHS_SECONDS=${BOCHS_SECONDS:-300} boot_bochs tigerlake 256 'partition small 2M x 2
guest web image=httpd.elf net=lan0 args="ip=10.0.0.1 idle=3000"
guest get image=http-get.elf net=lan0 args="ip=10.0.0.2 peer=10.0.0.1 count=200 keepalive=4 burst=20 path=/status"
poweroff when-idle' "$G/httpd.elf" "$G/http-get.elf"
}

http_200_sequential_and_20_parallel() {
    expect_line '^\[get\.0\] http-get: 220/220 ok$' &&
    expect_guest get.0 'exited with status 0$'
}

http_status_count_matches() {
    expect_line '^\[get\.0\] http-get: server counted 221 requests$' &&
    expect_line '^\[web\.0\] httpd: served 221 requests$' &&
    # 50 + 20 + 1 connections, all closed by the server first: more
    # TIME-WAIT connections than the table holds, so slots were reused.
    expect_line '^\[web\.0\] httpd: tcp: 71 connections accepted, [1-9][0-9]* TIME-WAIT slots reused, 0 refused, ' &&
    expect_guest web.0 'exited with status 0$' &&
    expect_no_line 'panic' &&
    expect_poweroff 0
}

# The client does not resolve the server first: its first SYN finds no
# MAC and is dropped, and the SYN the RTO sends again gets through.
syn_retransmitted_after_arp_miss() {
    boot_bochs tigerlake 256 'partition small 2M x 2
guest web image=httpd.elf net=lan0 args="ip=10.0.0.1 idle=2000"
guest get image=http-get.elf net=lan0 args="ip=10.0.0.2 peer=10.0.0.1 count=5 keepalive=2 path=/ resolve=0"
poweroff when-idle' "$G/httpd.elf" "$G/http-get.elf" &&
    expect_line '^\[get\.0\] http-get: 5/5 ok$' &&
    expect_line '^\[get\.0\] http-get: tcp: [0-9]+ segments out, [0-9]+ in, [1-9][0-9]* retransmitted$' &&
    expect_line '^\[web\.0\] httpd: served 6 requests$' &&
    expect_poweroff 0
}

run_case http_boot
run_check http_200_sequential_and_20_parallel "$SYSTEST_OUT/http_boot"
run_check http_status_count_matches "$SYSTEST_OUT/http_boot"
run_case syn_retransmitted_after_arp_miss
end_of_script
