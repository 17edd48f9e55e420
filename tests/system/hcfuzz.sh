# The in-guest fuzzer (issue 16, tests/guests/hcfuzz/): random hypercalls
# with random arguments and random ring contents beside a victim, in
# Bochs (VT-x). Two fuzzers with different seeds and a network port
# each, so NET_SETUP and NET_KICK reach real ports; the victim must
# print its correct result, each fuzzer must make every call and exit 0
# (the hypervisor answered each), and the hypervisor must report with
# nothing lost (the resource check). HCFUZZ_CALLS per fuzzer (default
# 20000 here; `make soak` runs 1,000,000 each).
source "$(dirname "$0")/lib.sh"
G=$MAYFLY_BUILD/guests
HCFUZZ_CALLS=${HCFUZZ_CALLS:-20000}

hcfuzz_beside_a_victim() {
    BOCHS_SECONDS=$(( 300 + HCFUZZ_CALLS / 500 )) BOCHS_BUDGET=$(( 3000000000 + HCFUZZ_CALLS * 200000 )) \
    boot_bochs tigerlake 256 "partition small 2M x 4
switch lan
guest fuzz1 image=hcfuzz.elf net=lan args=\"$HCFUZZ_CALLS 1\"
guest fuzz2 image=hcfuzz.elf net=lan args=\"$HCFUZZ_CALLS 2\"
guest victim image=count.elf args=\"20000\"
poweroff when-idle" "$G/hcfuzz.elf" "$G/count.elf" &&
    expect_no_line 'panic|resource check .*WRONG' &&
    expect_guest fuzz1.0 'exited with status 0$' &&
    expect_guest fuzz2.0 'exited with status 0$' &&
    expect_line '^\[victim\.0\] count victim\.0 guest [0-9]+: primes below 20000 = 2262 ok$' &&
    expect_guest victim.0 'exited with status 0$' &&
    expect_line '^mayfly: all guests have ended: 3 started, 3 exited 0, 0 failed, 0 killed' &&
    expect_line '^mayfly: resource check after 3 guests ended: 4 of 4 partitions free, 0 held; .*: ok$' &&
    expect_poweroff 0
}

run_case hcfuzz_beside_a_victim
end_of_script
