/*
 * evil: the adversarial guest (see evil.h for exit statuses). The first
 * argument picks the mode; a second argument, where a mode takes one, is a
 * number (hex for addresses, MSRs and ports).
 */
#include "evil.h"

#define IA32_FS_BASE        0xc0000100u
#define FS_BASE_VALUE       ((uint64_t)0x123456789000)
#define CR4_VMXE            (1ULL << 13)
#define CR4_RESERVED_31     (1ULL << 31)

enum evil_arg { ARG_NONE, ARG_HEX, ARG_DEC, ARG_OPT_DEC };

struct evil_mode {
    const char *name;
    enum evil_arg arg;
    int (*run)(uint64_t arg);
};

int evil_survived(const char *mode)
{
    mf_printf("evil: %s: survived (the hypervisor let it through)\n", mode);
    return EVIL_SURVIVED;
}

static void wrmsr(uint32_t msr, uint64_t value)
{
    __asm__ volatile("wrmsr"
                     : : "c"(msr), "a"((uint32_t)value), "d"((uint32_t)(value >> 32))
                     : "memory");
}

static uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;

    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}

static int mode_wrmsr(uint64_t msr)
{
    if (msr > UINT32_MAX)
        return EVIL_USAGE;
    mf_printf("evil: wrmsr: writing 0 to MSR 0x%lx\n", msr);
    wrmsr((uint32_t)msr, 0);
    return evil_survived("wrmsr");
}

static int mode_rdmsr(uint64_t msr)
{
    uint64_t value;

    if (msr > UINT32_MAX)
        return EVIL_USAGE;
    mf_printf("evil: rdmsr: reading MSR 0x%lx\n", msr);
    value = rdmsr((uint32_t)msr);
    mf_printf("evil: rdmsr: MSR 0x%lx = 0x%lx\n", msr, value);
    return evil_survived("rdmsr");
}

/* Allowed: a guest owns its FS base. */
static int mode_fsbase(uint64_t unused)
{
    uint64_t got;

    (void)unused;
    mf_printf("evil: fsbase: writing 0x%lx to IA32_FS_BASE and reading it back\n",
              FS_BASE_VALUE);
    wrmsr(IA32_FS_BASE, FS_BASE_VALUE);
    got = rdmsr(IA32_FS_BASE);
    if (got != FS_BASE_VALUE) {
        mf_printf("evil: fsbase: read back 0x%lx WRONG\n", got);
        return EVIL_FSBASE_WRONG;
    }
    mf_puts("evil: fsbase: ok\n");
    return EVIL_OK;
}

static int mode_out(uint64_t port)
{
    if (port > 0xffff)
        return EVIL_USAGE;
    mf_printf("evil: out: writing 0 to I/O port 0x%lx\n", port);
    __asm__ volatile("outb %b0, %w1" : : "a"(0), "Nd"((uint16_t)port));
    return evil_survived("out");
}

static int mode_in(uint64_t port)
{
    uint8_t value;

    if (port > 0xffff)
        return EVIL_USAGE;
    mf_printf("evil: in: reading I/O port 0x%lx\n", port);
    __asm__ volatile("inb %w1, %b0" : "=a"(value) : "Nd"((uint16_t)port));
    mf_printf("evil: in: port 0x%lx = 0x%x\n", port, value);
    return evil_survived("in");
}

static uint64_t read_cr4(void)
{
    uint64_t cr4;

    __asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
    return cr4;
}

static int set_cr4_bit(const char *mode, uint64_t bit)
{
    uint64_t cr4 = read_cr4();

    mf_printf("evil: %s: CR4 reads 0x%lx, writing 0x%lx\n", mode, cr4, cr4 | bit);
    __asm__ volatile("mov %0, %%cr4" : : "r"(cr4 | bit) : "memory");
    mf_printf("evil: %s: CR4 now reads 0x%lx\n", mode, read_cr4());
    return evil_survived(mode);
}

static int mode_cr4_vmxe(uint64_t unused)
{
    (void)unused;
    return set_cr4_bit("cr4-vmxe", CR4_VMXE);
}

static int mode_cr4_reserved(uint64_t unused)
{
    (void)unused;
    return set_cr4_bit("cr4-reserved", CR4_RESERVED_31);
}

static int mode_hlt(uint64_t unused)
{
    (void)unused;
    mf_puts("evil: hlt: cli; hlt with interrupts off\n");
    __asm__ volatile("cli; hlt" : : : "memory");
    return evil_survived("hlt");
}

static int mode_ud2(uint64_t unused)
{
    (void)unused;
    mf_puts("evil: ud2: executing an undefined instruction\n");
    __asm__ volatile("ud2" : : : "memory");
    return evil_survived("ud2");
}

static int mode_int3(uint64_t unused)
{
    (void)unused;
    mf_puts("evil: int3: executing a breakpoint\n");
    __asm__ volatile("int3" : : : "memory");
    return evil_survived("int3");
}

/* An empty IDT makes any interrupt a #GP, then a #DF, then a triple fault. */
static int mode_triple(uint64_t unused)
{
    struct __attribute__((packed)) {
        uint16_t limit;
        uint64_t base;
    } idtr = { 0, 0 };

    (void)unused;
    mf_puts("evil: triple: loading an empty IDT and raising int 0x40\n");
    __asm__ volatile("lidt %0; int $0x40" : : "m"(idtr) : "memory");
    return evil_survived("triple");
}

static int expect_result(const char *mode, long got, long want)
{
    mf_printf("evil: %s: returned %ld (want %ld) %s\n", mode, got, want,
              got == want ? "ok" : "WRONG");
    return got == want ? EVIL_OK : EVIL_WRONG;
}

static int mode_hc_unknown(uint64_t unused)
{
    (void)unused;
    mf_puts("evil: hc-unknown: vmcall with RAX=999\n");
    return expect_result("hc-unknown", mf_hypercall0(999), -MF_ENOSYS);
}

static int mode_hc_outside(uint64_t unused)
{
    uint64_t buf = mf_mem_size() + 0x1000;

    (void)unused;
    mf_printf("evil: hc-outside: console write of 16 bytes at 0x%lx\n", buf);
    return expect_result("hc-outside", mf_hypercall3(MF_HC_CONSOLE_WRITE, MF_CAP_CONSOLE, buf, 16), -MF_EFAULT);
}

static int mode_hc_wrap(uint64_t unused)
{
    (void)unused;
    mf_puts("evil: hc-wrap: console write of 0x2000 bytes at 0xfffffffffffff000\n");
    return expect_result("hc-wrap",
                         mf_hypercall3(MF_HC_CONSOLE_WRITE, MF_CAP_CONSOLE, 0xfffffffffffff000ULL, 0x2000),
                         -MF_EFAULT);
}

static __attribute__((noreturn)) void spin_forever(void)
{
    for (;;)
        __asm__ volatile("" : : : "memory");
}

/* Capability misuse: each call must fail with the documented error and
 * change nothing (the console still works afterwards). */
static int mode_caps(uint64_t unused)
{
    static const char msg[] = "evil: caps: this must never be printed\n";
    int ok = EVIL_OK;

    (void)unused;
    mf_puts("evil: caps: empty slot, wrong type, missing right\n");
    if (expect_result("caps empty slot", mf_hypercall3(MF_HC_CONSOLE_WRITE, 5,
                      (uint64_t)msg, sizeof(msg) - 1), -MF_ENOENT) != EVIL_OK)
        ok = EVIL_WRONG;
    if (expect_result("caps out-of-range slot", mf_hypercall3(MF_HC_CONSOLE_WRITE, 1000,
                      (uint64_t)msg, sizeof(msg) - 1), -MF_ENOENT) != EVIL_OK)
        ok = EVIL_WRONG;
    if (expect_result("caps wrong type", mf_hypercall3(MF_HC_CONSOLE_WRITE,
                      MF_CAP_NOTIFICATION, (uint64_t)msg, sizeof(msg) - 1), -MF_ETYPE) != EVIL_OK)
        ok = EVIL_WRONG;
    if (expect_result("caps wait on console", mf_hypercall2(MF_HC_WAIT, MF_CAP_CONSOLE, 0),
                      -MF_ETYPE) != EVIL_OK)
        ok = EVIL_WRONG;
    if (expect_result("caps missing right", mf_hypercall2(MF_HC_NOTIFY, MF_CAP_NOTIFICATION, 1),
                      -MF_EPERM) != EVIL_OK)
        ok = EVIL_WRONG;
    if (expect_result("caps net on console", mf_hypercall2(MF_HC_NET_KICK, MF_CAP_CONSOLE, 1),
                      -MF_ETYPE) != EVIL_OK)
        ok = EVIL_WRONG;
    /* Nothing changed: a wait that was never notified times out with 0. */
    if (expect_result("caps no stray notification", mf_wait_until(mf_tsc() + 1000), 0) != EVIL_OK)
        ok = EVIL_WRONG;
    return ok;
}

/* MF_HC_CTL_XFER without the guest-control capability (only the network
 * control guest has it): every slot is refused (-MF_ENOENT empty,
 * -MF_ETYPE another object), the transfer's OUT fields stay as they were
 * and the bytes offered (a HELLO) reach no control server. */
static int mode_ctl_xfer(uint64_t unused)
{
    static const uint8_t hello[24] = { 'M', 'C', 'T', 'L', 1, 1 };
    static uint8_t out[256];
    const struct mf_boot_info *bi = mf_boot_info();
    struct mf_ctl_xfer x;
    int ok = EVIL_OK;

    (void)unused;
    mf_puts("evil: ctl-xfer: MF_HC_CTL_XFER on every slot of a guest without the capability\n");
    for (uint64_t slot = 0; slot <= MF_CAP_SLOTS; slot++) {
        uint16_t type = MF_OBJ_NONE;
        long want;

        for (uint32_t i = 0; i < bi->cap_count && i < MF_CAP_SLOTS; i++)
            if (bi->caps[i].slot == slot)
                type = bi->caps[i].type;
        want = type == MF_OBJ_NONE ? -MF_ENOENT : -MF_ETYPE;
        memset(&x, 0, sizeof(x));
        x.in_gpa = (uint64_t)(uintptr_t)hello;
        x.in_len = sizeof(hello);
        x.out_gpa = (uint64_t)(uintptr_t)out;
        x.out_room = sizeof(out);
        x.in_taken = x.out_len = x.out_pending = 0xdeadbeef;
        if (expect_result(type == MF_OBJ_NONE ? "ctl-xfer empty slot" : "ctl-xfer other object",
                          mf_hypercall2(MF_HC_CTL_XFER, slot, (uint64_t)(uintptr_t)&x),
                          want) != EVIL_OK ||
            x.in_taken != 0xdeadbeef || x.out_len != 0xdeadbeef || x.out_pending != 0xdeadbeef)
            ok = EVIL_WRONG;
    }
    mf_printf("evil: ctl-xfer: %s\n", ok == EVIL_OK ? "every slot refused, nothing changed"
                                                  : "WRONG");
    return ok;
}

static int mode_spin(uint64_t unused)
{
    (void)unused;
    mf_puts("evil: spin: looping forever\n");
    spin_forever();
}

static int mode_exit(uint64_t status)
{
    mf_printf("evil: exit: exiting with status %lu\n", status);
    mf_exit(status);
}

/* The soak's guests say nothing: each console line costs emulated serial
 * time, and the hypervisor's own lines say how each ended. */
static int mode_quiet_exit(uint64_t status)
{
    mf_exit(status);
}

static int mode_quiet_spin(uint64_t unused)
{
    (void)unused;
    spin_forever();
}

static const struct evil_mode evil_modes[] = {
    { "past-end",     ARG_NONE, evil_past_end },
    { "write",        ARG_HEX,  evil_write },
    { "wrmsr",        ARG_HEX,  mode_wrmsr },
    { "rdmsr",        ARG_HEX,  mode_rdmsr },
    { "fsbase",       ARG_NONE, mode_fsbase },
    { "out",          ARG_HEX,  mode_out },
    { "in",           ARG_HEX,  mode_in },
    { "cr4-vmxe",     ARG_NONE, mode_cr4_vmxe },
    { "cr4-reserved", ARG_NONE, mode_cr4_reserved },
    { "hlt",          ARG_NONE, mode_hlt },
    { "ud2",          ARG_NONE, mode_ud2 },
    { "int3",         ARG_NONE, mode_int3 },
    { "triple",       ARG_NONE, mode_triple },
    { "hc-unknown",   ARG_NONE, mode_hc_unknown },
    { "hc-outside",   ARG_NONE, mode_hc_outside },
    { "hc-wrap",      ARG_NONE, mode_hc_wrap },
    { "secret",       ARG_NONE, evil_secret },
    { "scan",         ARG_NONE, evil_scan },
    { "caps",         ARG_NONE, mode_caps },
    { "ctl-xfer",     ARG_NONE, mode_ctl_xfer },
    { "spin",         ARG_NONE, mode_spin },
    { "exit",         ARG_DEC,  mode_exit },
    { "quiet-exit",   ARG_DEC,  mode_quiet_exit },
    { "quiet-spin",   ARG_NONE, mode_quiet_spin },
    { "archset",      ARG_OPT_DEC, evil_archset },
    { "archcheck",    ARG_OPT_DEC, evil_archcheck },
    { "cpuid-policy", ARG_NONE, evil_cpuid_policy },
    { "wbinvd",       ARG_NONE, evil_wbinvd },
    { "invd",         ARG_NONE, evil_invd },
    { "mov-dr",       ARG_NONE, evil_mov_dr },
    { "rdpmc",        ARG_NONE, evil_rdpmc },
    { "dr-read",      ARG_DEC,  evil_dr_read },
    { "dr-write",     ARG_DEC,  evil_dr_write },
    { "avx",          ARG_NONE, evil_avx },
    { "xsetbv",       ARG_NONE, evil_xsetbv },
    { "irq-victim",   ARG_DEC,  evil_irq_victim },
};

static int usage(void)
{
    size_t i;

    mf_printf("evil: unknown mode or bad argument in '%s'; modes:", mf_cmdline());
    for (i = 0; i < sizeof(evil_modes) / sizeof(evil_modes[0]); i++)
        mf_printf(" %s%s", evil_modes[i].name,
                  evil_modes[i].arg == ARG_NONE ? "" :
                  evil_modes[i].arg == ARG_HEX ? " <hex>" :
                  evil_modes[i].arg == ARG_DEC ? " <n>" : " [n]");
    mf_puts("\n");
    return EVIL_USAGE;
}

static int parse_arg(enum evil_arg kind, const char *s, uint64_t *out)
{
    *out = 0;
    if (kind == ARG_NONE)
        return 0;
    if (kind == ARG_HEX)
        return mf_parse_hex(s, out);
    if (kind == ARG_OPT_DEC && s == NULL)
        return 0;
    return mf_parse_u64(s, out);
}

int main(const struct mf_boot_info *bi)
{
    const char *name;
    size_t i;
    uint64_t arg;

    /* First, before any call: what archcheck reports as the registers a
     * new tenant started with (as far as the runtime left them alone). */
    __asm__ volatile("movq %%rbx, 0(%0)\n\t"
                     "movq %%rsi, 8(%0)\n\t"
                     "movq %%rbp, 16(%0)\n\t"
                     "movq %%r9, 24(%0)\n\t"
                     "movq %%r10, 32(%0)\n\t"
                     "movq %%r11, 40(%0)\n\t"
                     "movq %%r12, 48(%0)\n\t"
                     "movq %%r13, 56(%0)\n\t"
                     "movq %%r14, 64(%0)\n\t"
                     "movq %%r15, 72(%0)"
                     : : "a"(&evil_entry_regs) : "memory");
    (void)bi;
    name = mf_arg(0);
    if (name == NULL)
        return usage();
    for (i = 0; i < sizeof(evil_modes) / sizeof(evil_modes[0]); i++) {
        const struct evil_mode *m = &evil_modes[i];

        if (strcmp(name, m->name) != 0)
            continue;
        if (parse_arg(m->arg, mf_arg(1), &arg) < 0)
            return usage();
        return m->run(arg);
    }
    return usage();
}
