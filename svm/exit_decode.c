/*
 * Turning what a #VMEXIT left in the VMCB into names and struct vm_exit
 * fields, where that is pure arithmetic: no VMCB access here, so the
 * host tests (tests/unit/test_svm_exit_decode.c) can feed it any value.
 */
#include "svm.h"

/* EXITCODEs 0x60 to 0xa4 by their APM names (vol. 2, appendix C). */
static const char *const misc_names[SVM_EXIT_LAST_NAMED - SVM_EXIT_INTR + 1] = {
    "INTR", "NMI", "SMI", "INIT", "VINTR", "CR0 selective write", "IDTR read", "GDTR read",
    "LDTR read", "TR read", "IDTR write", "GDTR write", "LDTR write", "TR write", "RDTSC",
    "RDPMC", "PUSHF", "POPF", "CPUID", "RSM", "IRET", "INTn", "INVD", "PAUSE", "HLT",
    "INVLPG", "INVLPGA", "IOIO", "MSR", "task switch", "FERR freeze", "shutdown", "VMRUN",
    "VMMCALL", "VMLOAD", "VMSAVE", "STGI", "CLGI", "SKINIT", "RDTSCP", "ICEBP",
    "WBINVD or WBNOINVD", "MONITOR", "MWAIT", "MWAIT armed", "XSETBV", "RDPRU",
    "EFER write trap", "CR0 write trap", "CR1 write trap", "CR2 write trap",
    "CR3 write trap", "CR4 write trap", "CR5 write trap", "CR6 write trap",
    "CR7 write trap", "CR8 write trap", "CR9 write trap", "CR10 write trap",
    "CR11 write trap", "CR12 write trap", "CR13 write trap", "CR14 write trap",
    "CR15 write trap", "INVLPGB", "illegal INVLPGB", "INVPCID", "MCOMMIT", "TLBSYNC",
};
_Static_assert(sizeof(misc_names) / sizeof(misc_names[0]) == SVM_EXIT_LAST_NAMED - 0x60 + 1,
               "one name per EXITCODE from INTR to TLBSYNC");

static const char *const range_names[4] = {
    "CR read", "CR write", "DR read", "DR write",
};

const char *svm_exit_name(uint64_t exitcode)
{
    if ((uint32_t)exitcode == SVM_EXIT_INVALID)
        return "invalid guest state";
    if (exitcode < SVM_EXIT_EXCEPTION)
        return range_names[exitcode >> 4];
    if (exitcode < SVM_EXIT_INTR)
        return "exception";
    if (exitcode <= SVM_EXIT_LAST_NAMED)
        return misc_names[exitcode - SVM_EXIT_INTR];
    switch (exitcode) {
    case SVM_EXIT_NPF:
        return "nested page fault";
    case 0x401:
        return "AVIC incomplete IPI";
    case 0x402:
        return "AVIC unaccelerated access";
    case 0x403:
        return "VMGEXIT";
    default:
        return "not in the APM";
    }
}

int svm_decode_io(uint64_t exitinfo1, uint64_t rax, uint64_t rip, struct vm_exit *exit)
{
    uint32_t sizes = (uint32_t)exitinfo1 & (IOIO_SIZE8 | IOIO_SIZE16 | IOIO_SIZE32);
    uint8_t size;

    if (sizes == IOIO_SIZE8)
        size = 1;
    else if (sizes == IOIO_SIZE16)
        size = 2;
    else if (sizes == IOIO_SIZE32)
        size = 4;
    else
        return -1;
    exit->kind = VM_EXIT_IO;
    exit->io.rip = rip;
    exit->io.port = IOIO_PORT(exitinfo1);
    exit->io.size = size;
    exit->io.is_in = (exitinfo1 & IOIO_IN) != 0;
    exit->io.is_string = (exitinfo1 & IOIO_STRING) != 0;
    /* OUT writes the low size bytes of RAX; IN and the string forms
     * carry no value in RAX. */
    exit->io.value = exit->io.is_in || exit->io.is_string
                         ? 0 : (uint32_t)(rax & ((1ULL << (size * 8)) - 1));
    return 0;
}

const char *svm_npf_access(uint64_t exitinfo1)
{
    return (exitinfo1 & NPF_WRITE) ? "write" : (exitinfo1 & NPF_FETCH) ? "instruction fetch"
                                                                      : "read";
}
