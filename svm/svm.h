/* AMD-V discovery and exit codes, by the APM's names (vol. 2, ch. 15
 * and appendix C). The pure parts (svm/svm_required.c, svm/exit_decode.c)
 * compile on the host for the unit tests. */
#ifndef SVM_SVM_H
#define SVM_SVM_H

#include <stddef.h>
#include <stdint.h>

#include "../hv/arch.h"

#define CPUID_EXT1_ECX_SVM      (1u << 2)   /* CPUID 0x80000001 ECX */
#define CPUID_EXT1_EDX_RDTSCP   (1u << 27)
/* CPUID 0x8000000A EDX: SVM features. */
#define SVM_FEATURE_NP          (1u << 0)
#define SVM_FEATURE_NRIPS       (1u << 3)
#define SVM_FEATURE_VMCB_CLEAN  (1u << 5)
#define SVM_FEATURE_FLUSH_ASID  (1u << 6)
#define SVM_FEATURE_DECODE      (1u << 7)
#define SVM_FEATURE_VGIF        (1u << 16)

#define MSR_VM_CR               0xc0010114u
#define MSR_VM_HSAVE_PA         0xc0010117u
#define VM_CR_SVMDIS            (1ULL << 4)
#define EFER_SVME               (1ULL << 12)

/* What CPUID and VM_CR said, read once at boot. */
struct svm_caps {
    int svm;                        /* CPUID 0x80000001 ECX.SVM */
    uint64_t vm_cr;
    uint32_t revision;              /* CPUID 0x8000000A EAX[7:0] */
    uint32_t asids;                 /* EBX: ASIDs, including the host's 0 */
    uint32_t features;              /* EDX */
};

extern struct svm_caps svm_caps;

/* Checks that the CPU can run Mayfly's guests with AMD-V: SVM present,
 * not disabled by the firmware (VM_CR.SVMDIS), nested paging, and at
 * least one guest ASID. Returns HV_OK with the one-line summary in buf,
 * or the fatal hv_status with the reason and fix. Pure (reads only *c):
 * tests/unit/test_svm_required.c. */
int svm_check_required(const struct svm_caps *c, char *buf, size_t size);

/* EXITCODEs (APM vol. 2, appendix C). */
#define SVM_EXIT_CR_READ        0x000   /* + CR number */
#define SVM_EXIT_CR_WRITE       0x010
#define SVM_EXIT_DR_READ        0x020
#define SVM_EXIT_DR_WRITE       0x030
#define SVM_EXIT_EXCEPTION      0x040   /* + vector */
#define SVM_EXIT_INTR           0x060
#define SVM_EXIT_NMI            0x061
#define SVM_EXIT_SMI            0x062
#define SVM_EXIT_INIT           0x063
#define SVM_EXIT_VINTR          0x064
#define SVM_EXIT_RDPMC          0x06f
#define SVM_EXIT_CPUID          0x072
#define SVM_EXIT_INVD           0x076
#define SVM_EXIT_HLT            0x078
#define SVM_EXIT_IOIO           0x07b
#define SVM_EXIT_MSR            0x07c
#define SVM_EXIT_SHUTDOWN       0x07f
#define SVM_EXIT_VMMCALL        0x081
#define SVM_EXIT_WBINVD         0x089
#define SVM_EXIT_XSETBV         0x08d
#define SVM_EXIT_LAST_NAMED     0x0a4   /* TLBSYNC */
#define SVM_EXIT_NPF            0x400
#define SVM_EXIT_INVALID        0xffffffffu     /* compare the low 32 bits */

/* "CPUID", "nested page fault" ...: the APM's name of an EXITCODE, or
 * "not in the APM". Pure. */
const char *svm_exit_name(uint64_t exitcode);

/* IOIO EXITINFO1 (APM 15.10.2). */
#define IOIO_IN                 (1u << 0)
#define IOIO_STRING             (1u << 2)
#define IOIO_REP                (1u << 3)
#define IOIO_SIZE8              (1u << 4)
#define IOIO_SIZE16             (1u << 5)
#define IOIO_SIZE32             (1u << 6)
#define IOIO_PORT(info)         ((uint16_t)((info) >> 16))

/* Fills *exit as a VM_EXIT_IO from an IOIO exit's EXITINFO1, the guest's
 * RAX and RIP. Returns 0, or -1 (leaving *exit alone) when EXITINFO1
 * names no single access size. Pure: tests/unit/test_svm_exit_decode.c. */
int svm_decode_io(uint64_t exitinfo1, uint64_t rax, uint64_t rip, struct vm_exit *exit);

/* NPF EXITINFO1: the #PF-style error code of the nested walk. */
#define NPF_WRITE               (1ULL << 1)
#define NPF_FETCH               (1ULL << 4)

/* "read", "write" or "instruction fetch": what a nested page fault was. */
const char *svm_npf_access(uint64_t exitinfo1);

#endif
