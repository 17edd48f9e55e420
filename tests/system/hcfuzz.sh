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

# The same for the Solo5 personality (tests/guests/hvt/fuzz/): two
# hvt-fuzz unikernels with a network device on the switch and a private
# disk each make HCFUZZ_CALLS random hypercalls, checking every answer
# against the interface (a refusal where one is due, success where the
# request is good, sectors read back as written); four "wild" instances
# each make one call the host must end them for (a struct or buffer
# outside their memory, a port that is no hypercall), and each must be
# ended by name for it. The victim's result, the fleet's summary and the
# resource check as above.
hvt_fuzz_beside_a_victim() {
    BOCHS_SECONDS=$(( 300 + HCFUZZ_CALLS / 500 )) BOCHS_BUDGET=$(( 3000000000 + HCFUZZ_CALLS * 200000 )) \
    boot_bochs tigerlake 256 "partition small 4M x 4
switch lan
guest sfuzz1 image=hvt-fuzz.hvt net:service=lan block:storage=hvt-disk.img args=\"$HCFUZZ_CALLS 1\"
guest sfuzz2 image=hvt-fuzz.hvt net:service=lan block:storage=hvt-disk.img args=\"$HCFUZZ_CALLS 2\"
guest wild image=hvt-fuzz.hvt net:service=lan block:storage=hvt-disk.img count=4 args=\"1000000 3 wild\"
guest victim image=count.elf args=\"20000\"
poweroff when-idle" "$G/hvt-fuzz.hvt" "$G/hvt-disk.img" "$G/count.elf" &&
    expect_no_line 'panic|resource check .*WRONG|hvt-fuzz: FAIL' &&
    expect_line "^\\[sfuzz1\\.0\\] hvt-fuzz: $HCFUZZ_CALLS calls \\(seed 0x[0-9a-f]+\\): per call: 1:[1-9][0-9]* 2:[1-9][0-9]* 3:[1-9][0-9]* 4:[1-9][0-9]* 5:[1-9][0-9]* 6:[1-9][0-9]* 7:[1-9][0-9]*$" &&
    expect_line "^\\[sfuzz2\\.0\\] hvt-fuzz: $HCFUZZ_CALLS calls " &&
    expect_guest sfuzz1.0 'exited with status 0$' &&
    expect_guest sfuzz2.0 'exited with status 0$' &&
    expect_count 4 '^mayfly: guest [0-9]+ wild\.[0-3] killed: (hvt PUTS: (argument struct|buffer) at 0x[0-9a-f]+ .*lies outside its memory|I/O port 0x5[0-9a-f]{2} .*denied)' &&
    expect_line '^\[victim\.0\] count victim\.0 guest [0-9]+: primes below 20000 = 2262 ok$' &&
    expect_guest victim.0 'exited with status 0$' &&
    expect_line '^mayfly: all guests have ended: 7 started, 3 exited 0, 0 failed, 4 killed' &&
    expect_line '^mayfly: resource check after 7 guests ended: 4 of 4 partitions free, 0 held; .*: ok$' &&
    expect_poweroff 1                   # the wild ones were killed
}

run_case hcfuzz_beside_a_victim
run_case hvt_fuzz_beside_a_victim
end_of_script
