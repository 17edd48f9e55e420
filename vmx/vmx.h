/* VMX capabilities and control bits, by their SDM names. */
#ifndef VMX_VMX_H
#define VMX_VMX_H

#include <stddef.h>
#include <stdint.h>

#define CPUID_1_ECX_VMX             (1U << 5)

#define VMX_BASIC_TRUE_CTLS         (1ULL << 55)

/* Pin-based controls. */
#define PIN_EXTERNAL_INTERRUPT_EXITING (1U << 0)
#define PIN_NMI_EXITING             (1U << 3)
#define PIN_PREEMPTION_TIMER        (1U << 6)

/* Primary processor-based controls. */
#define PROC_HLT_EXITING            (1U << 7)
#define PROC_INVLPG_EXITING         (1U << 9)
#define PROC_MWAIT_EXITING          (1U << 10)
#define PROC_RDPMC_EXITING          (1U << 11)
#define PROC_CR3_LOAD_EXITING       (1U << 15)
#define PROC_CR3_STORE_EXITING      (1U << 16)
#define PROC_CR8_LOAD_EXITING       (1U << 19)
#define PROC_CR8_STORE_EXITING      (1U << 20)
#define PROC_MOV_DR_EXITING         (1U << 23)
#define PROC_UNCONDITIONAL_IO_EXITING (1U << 24)
#define PROC_USE_IO_BITMAPS         (1U << 25)
#define PROC_USE_MSR_BITMAPS        (1U << 28)
#define PROC_MONITOR_EXITING        (1U << 29)
#define PROC_SECONDARY_CONTROLS     (1U << 31)

/* Secondary processor-based controls. */
#define PROC2_ENABLE_EPT            (1U << 1)
#define PROC2_DESCRIPTOR_EXITING    (1U << 2)
#define PROC2_ENABLE_RDTSCP         (1U << 3)
#define PROC2_ENABLE_VPID           (1U << 5)
#define PROC2_WBINVD_EXITING        (1U << 6)
#define PROC2_UNRESTRICTED_GUEST    (1U << 7)
#define PROC2_ENABLE_INVPCID        (1U << 12)
#define PROC2_ENABLE_XSAVES         (1U << 20)

/* VM-exit controls. */
#define EXIT_SAVE_DEBUG_CONTROLS    (1U << 2)
#define EXIT_HOST_ADDR_SPACE_SIZE   (1U << 9)
#define EXIT_ACK_INTERRUPT_ON_EXIT  (1U << 15)
#define EXIT_SAVE_IA32_PAT          (1U << 18)
#define EXIT_LOAD_IA32_PAT          (1U << 19)
#define EXIT_SAVE_IA32_EFER         (1U << 20)
#define EXIT_LOAD_IA32_EFER         (1U << 21)
#define EXIT_SAVE_PREEMPTION_TIMER  (1U << 22)

/* VM-entry controls. */
#define ENTRY_LOAD_DEBUG_CONTROLS   (1U << 2)
#define ENTRY_IA32E_MODE_GUEST      (1U << 9)
#define ENTRY_LOAD_IA32_PAT         (1U << 14)
#define ENTRY_LOAD_IA32_EFER        (1U << 15)

/* IA32_VMX_EPT_VPID_CAP. */
#define EPT_CAP_EXECUTE_ONLY        (1ULL << 0)
#define EPT_CAP_WALK_4              (1ULL << 6)
#define EPT_CAP_UC                  (1ULL << 8)
#define EPT_CAP_WB                  (1ULL << 14)
#define EPT_CAP_2M                  (1ULL << 16)
#define EPT_CAP_1G                  (1ULL << 17)
#define EPT_CAP_INVEPT              (1ULL << 20)
#define EPT_CAP_AD                  (1ULL << 21)
#define EPT_CAP_INVEPT_SINGLE       (1ULL << 25)
#define EPT_CAP_INVEPT_ALL          (1ULL << 26)
#define EPT_CAP_INVVPID             (1ULL << 32)

/* What the capability MSRs said, read once at boot. */
struct vmx_caps {
    uint64_t basic;
    uint64_t pinbased;              /* allowed-0 in the low half, allowed-1 in the high */
    uint64_t procbased;
    uint64_t procbased2;
    uint64_t exit;
    uint64_t entry;
    uint64_t misc;
    uint64_t ept_vpid;
};

extern struct vmx_caps vmx_caps;

/* True when every bit of want may be 1 according to a capability MSR. */
static inline int vmx_allowed1(uint64_t cap, uint32_t want)
{
    return ((uint32_t)(cap >> 32) & want) == want;
}

/* The one place control words are adjusted: bits the CPU requires are set,
 * bits it forbids are cleared (SDM 31.5.1). */
static inline uint32_t vmx_adjust_controls(uint64_t cap, uint32_t want)
{
    return (want | (uint32_t)cap) & (uint32_t)(cap >> 32);
}

/* Checks that the CPU offers every VMX feature Mayfly relies on (EPT,
 * 64-bit host and guest, bitmaps, and the controls that bound a guest's
 * time: preemption timer, saving its value, EFER load and save), each as
 * it comes out of vmx_adjust_controls. Returns HV_OK, or the fatal
 * hv_status with a line naming the missing feature in buf. Pure: it reads
 * only *c (vmx/vmx_required.c, unit-tested on the host). */
int vmx_check_required(const struct vmx_caps *c, char *buf, size_t size);

#endif
