/*
 * The adversarial guest: each mode does one thing a guest must not be able
 * to get away with (or one thing it is allowed to do), after saying what it
 * is about to do.
 *
 * Exit status: 0 the mode's own check passed; 1 it failed; 2 the guest
 * survived an action the hypervisor should have stopped (for write, wrmsr,
 * rdmsr, out and in that may be fine: the test knows which); 3 fsbase read
 * back something else; 4 bad arguments or the mode could not be set up.
 */
#ifndef EVIL_H
#define EVIL_H

#include "mf.h"

#define EVIL_OK             0
#define EVIL_WRONG          1
#define EVIL_SURVIVED       2
#define EVIL_FSBASE_WRONG   3
#define EVIL_USAGE          4

/* The "secret" the secret mode leaves behind and the scan mode looks for. */
#define EVIL_PATTERN        0x5ec2e75ec2e75ec2ULL

/* memory.c: modes that touch guest-physical memory. */
int evil_past_end(uint64_t unused);
int evil_write(uint64_t gpa);
int evil_secret(uint64_t unused);
int evil_scan(uint64_t unused);

/* arch.c: state that must not cross tenants. */
struct evil_entry_regs {
    uint64_t rbx, rsi, rbp, r9, r10, r11, r12, r13, r14, r15;
};
extern struct evil_entry_regs evil_entry_regs;
int evil_archset(uint64_t ms);
int evil_archcheck(uint64_t ms);

/* cpu.c: CPUID policy and instructions that must end the guest by name. */
int evil_cpuid_policy(uint64_t unused);
int evil_wbinvd(uint64_t unused);
int evil_invd(uint64_t unused);
int evil_mov_dr(uint64_t unused);
int evil_rdpmc(uint64_t unused);
int evil_dr_read(uint64_t n);
int evil_dr_write(uint64_t n);
int evil_avx(uint64_t unused);
int evil_xsetbv(uint64_t unused);
int evil_irq_victim(uint64_t rounds);

/* Reports that an action which should have ended the guest did not. */
int evil_survived(const char *mode);

#endif
