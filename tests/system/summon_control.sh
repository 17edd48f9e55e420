# Summoned services over the control channel (issue 14; Bochs, mfctl run
# --control): a client's request summons an instance of service web,
# which `mfctl ps` lists with its service and slot (web/0) while it
# runs; `mfctl stats` reports the service (summoned, the first-reply
# latency timed); after the instance idles out the service shows 0
# running and ps drops its SERVICE column again. Against a fake
# hypervisor from before summoning, stats sends no SERVICES request and
# prints no services.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/../lib/control.sh"
FAKE=$(dirname "$0")/fake_ctl_server.py

# idle= is emulated time, which runs several times faster than the wall
# clock while the machine idles: 30 s of it leaves mfctl a few seconds
# to see the instance. The client waits 5 emulated s, so its request
# comes after the control server is up.
CONF='partition cli 2M x 1
partition svc 2M x 1
switch lan
control com2
summon web image=httpd.elf ip=10.0.0.9 port=80 idle=30000 class=svc
guest client image=http-get.elf class=cli net=lan args="ip=10.0.0.2 peer=10.0.0.9 count=1 delay=5000"'

POLLS=${SUMMON_CONTROL_POLLS:-120}      # mfctl calls at most per wait

# py EXPR-LINES: a Python check of mfctl's JSON (as j); its error in CASE_WHY.
py() {
    python3 -c "import json, sys
j = json.load(open(sys.argv[1]))
$1" "$CASE_DIR/out" 2>"$CASE_DIR/py.err" && return 0
    CASE_WHY="$(tail -1 "$CASE_DIR/py.err"): $(head -c 400 "$CASE_DIR/out")"
    return 1
}

# The instance while it runs: ps --json names its service and slot (and
# null for the client), the table shows web/0 in a SERVICE column.
summon_control_ps_lists_instance() {
    need_boot || return 1
    local i json=0
    for ((i = 0; i < POLLS; i++)); do
        ctl ps --json
        expect_ctl_rc 0 "ps --json" || return 1
        if grep -q '"web\.0"' "$CASE_DIR/out"; then
            py 'w = [g for g in j if g["name"] == "web.0"]
assert len(w) == 1 and w[0]["service"] == "web" and w[0]["service_slot"] == 0, w
assert w[0]["image"] == "httpd.elf" and w[0]["class"] == "svc", w
assert all(g["service"] is None and g["service_slot"] is None for g in j if g["name"] != "web.0"), j' ||
                return 1
            json=1
            ctl ps
            expect_ctl_rc 0 ps || return 1
            grep -qE '^[0-9]+ +web\.0 ' "$CASE_DIR/out" || continue    # gone meanwhile
            expect_out '^ID +NAME +IMAGE +PERSONALITY +CLASS +STATE +MEM +UPTIME\(ms\) +HYPERCALLS +SERVICE$' &&
            expect_out '^[0-9]+ +web\.0 +httpd\.elf +mayfly +svc +(running|waiting) +2M +[0-9]+ +[0-9]+ +web/0$' ||
                return 1
            if grep -qE ' client\.0 ' "$CASE_DIR/out"; then
                expect_out '^[0-9]+ +client\.0 +http-get\.elf +mayfly +cli +[a-z]+ +2M +[0-9]+ +[0-9]+ +-$' || return 1
            fi
            return 0
        fi
        sleep 0.2
    done
    [ $json = 1 ] && CASE_WHY="web.0 was gone before the table listed it ($POLLS tries)" ||
        CASE_WHY="ps never listed web.0 ($POLLS tries): $(grep -E 'web|client' "$CASE_DIR/serial.log" | tail -3 | tr '\n' ' ')"
    return 1
}

# stats --json: the service as its summon line says, summoned once, its
# first reply timed (min <= avg <= max, in ticks and in µs).
summon_control_stats_while_summoned() {
    need_boot || return 1
    local i
    for ((i = 0; i < POLLS; i++)); do
        ctl stats --json
        expect_ctl_rc 0 "stats --json" || return 1
        py 'assert j["services"][0]["latency_count"] >= 1' 2>/dev/null && break
        sleep 0.2
    done
    py 's = j["services"]
assert len(s) == 1, s
s = s[0]
assert (s["name"], s["ip"], s["port"], s["max"], s["idle_ms"]) == ("web", "10.0.0.9", 80, 1, 30000), s
assert s["summoned"] == 1 and s["latency_count"] == 1 and s["launch_failures"] == 0, s
assert 0 < s["latency_min_tsc"] <= s["latency_avg_tsc"] <= s["latency_max_tsc"], s
assert s["latency_avg_us"] == s["latency_avg_tsc"] * 1000000 // j["tsc_hz"], s
assert s["held"] >= 1 and s["arp_answered"] >= 1 and s["flows"] >= 1, s'
}

# After the instance idled out: 0 running, one idled out, in the JSON
# and in the text line; ps has no SERVICE column without instances.
summon_control_idled_out() {
    need_boot || return 1
    local i
    for ((i = 0; i < POLLS; i++)); do
        ctl stats --json
        expect_ctl_rc 0 "stats --json" || return 1
        py 's = j["services"][0]
assert s["running"] == 0 and s["idled"] == 1' 2>/dev/null && break
        sleep 0.5
    done
    py 's = j["services"][0]
assert (s["running"], s["summoned"], s["idled"], s["ended"]) == (0, 1, 1, 1), s' &&
    expect_line '^mayfly: guest [0-9]+ web\.0 retired: idle for 30000 ms \(summoned service web\)$' || return 1
    ctl stats
    expect_ctl_rc 0 stats &&
    expect_out '^guests_started +2$' &&
    expect_out '^service web 10\.0\.0\.9:80: 0/1 running, summoned 1 times, 1 idled out, 0 launch failures; first reply [0-9]+ ticks \([0-9]+\.\.[0-9]+, 1 timed\) = [0-9]+ us \([0-9]+\.\.[0-9]+\); frames [1-9][0-9]* held, 0 dropped$' ||
        return 1
    ctl ps
    expect_ctl_rc 0 ps && expect_out '^ID +NAME +IMAGE +PERSONALITY +CLASS +STATE +MEM +UPTIME\(ms\) +HYPERCALLS$'
}

# A hypervisor from before summoning (the fake, which answers LIST with
# 144-byte entries and would answer any other type with zeros): stats is
# what it was, with no services, and never asks for them.
summon_control_older_hypervisor() {
    local sock=$SOCK_DIR/fake.sock save=$SOCK i
    python3 "$FAKE" "$sock" record >"$CASE_DIR/fake.log" 2>&1 &
    local fake=$!
    for ((i = 0; i < 50; i++)); do
        [ -S "$sock" ] && grep -q listening "$CASE_DIR/fake.log" && break
        sleep 0.1
    done
    SOCK=$sock
    ctl stats --json
    local rc_json=$CTL_RC
    cp "$CASE_DIR/out" "$CASE_DIR/json.out"
    ctl stats
    SOCK=$save
    kill "$fake" 2>/dev/null; wait "$fake" 2>/dev/null
    [ "$rc_json" = 0 ] || { CASE_WHY="stats --json exited $rc_json: $(ctl_err_tail)"; return 1; }
    expect_ctl_rc 0 stats &&
    ! grep -q '^service ' "$CASE_DIR/out" || { CASE_WHY="${CASE_WHY:-stats printed a service}"; return 1; }
    [ ! -s "$CASE_DIR/err" ] || { CASE_WHY="stats said something: $(ctl_err_tail)"; return 1; }
    ! grep -q 'answered type 10 ' "$CASE_DIR/fake.log" ||
        { CASE_WHY="SERVICES was sent to a hypervisor that does not know it"; return 1; }
    grep -q 'answered type 8 ' "$CASE_DIR/fake.log" ||
        { CASE_WHY="the fake saw no STATS: $(tail -3 "$CASE_DIR/fake.log" | tr '\n' ' ')"; return 1; }
    cp "$CASE_DIR/json.out" "$CASE_DIR/out"
    py 'assert j["services"] == [], j'
}

CHECKS="summon_control_ps_lists_instance summon_control_stats_while_summoned
summon_control_idled_out"

missing=$(missing_tools)
[ -n "$missing" ] || [ -f "$G/httpd.elf" ] || missing="$G/httpd.elf (run make)"
[ -n "$missing" ] || [ -f "$G/http-get.elf" ] || missing="$G/http-get.elf (run make)"
if [ -n "$missing" ]; then
    for c in $CHECKS summon_control_older_hypervisor; do echo "SKIP: $c: $missing not found"; done
    end_of_script
fi
SOCK_DIR=$(mktemp -d /tmp/mayfly-sc.XXXXXX)
trap cleanup EXIT
mkdir -p "$SYSTEST_OUT"
run_case summon_control_older_hypervisor
if wanted $CHECKS; then
    control_boot summon_control "$CONF" "$G/httpd.elf" "$G/http-get.elf"
    for c in $CHECKS; do
        run_check "$c" "$BOOT_DIR"
    done
    control_shutdown
fi
end_of_script
