/* The VMCB (AMD APM vol. 2, appendix B): the control area the
 * hypervisor fills and the CPU reports exits in, then the guest's state
 * save area at 0x400. Only what Mayfly uses is named; every offset is
 * checked against the APM's table below. */
#ifndef SVM_VMCB_H
#define SVM_VMCB_H

#include <stddef.h>
#include <stdint.h>

struct vmcb_segment {
    uint16_t selector;
    uint16_t attrib;                /* descriptor bits 47:40 and 55:52, packed */
    uint32_t limit;
    uint64_t base;
};

struct vmcb_control {
    uint32_t intercept_cr;          /* 0x000: reads in 15:0, writes in 31:16 */
    uint32_t intercept_dr;          /* 0x004: the same for DR0-15 */
    uint32_t intercept_exceptions;  /* 0x008: one bit per vector */
    uint32_t intercept_misc1;       /* 0x00c: INTR ... shutdown */
    uint32_t intercept_misc2;       /* 0x010: VMRUN ... */
    uint32_t intercept_misc3;       /* 0x014: INVLPGB ... */
    uint8_t reserved1[0x03c - 0x018];
    uint16_t pause_filter_threshold;
    uint16_t pause_filter_count;
    uint64_t iopm_base_pa;          /* 0x040 */
    uint64_t msrpm_base_pa;         /* 0x048 */
    uint64_t tsc_offset;            /* 0x050 */
    uint32_t asid;                  /* 0x058 */
    uint8_t tlb_control;            /* 0x05c */
    uint8_t reserved2[3];
    uint64_t int_control;           /* 0x060: V_TPR, V_IRQ, V_INTR_MASKING ... */
    uint64_t int_state;             /* 0x068: interrupt shadow */
    uint64_t exitcode;              /* 0x070 */
    uint64_t exitinfo1;             /* 0x078 */
    uint64_t exitinfo2;             /* 0x080 */
    uint64_t exitintinfo;           /* 0x088: the event being delivered at the exit */
    uint64_t np_control;            /* 0x090: bit 0 NP_ENABLE */
    uint64_t avic_apic_bar;         /* 0x098 */
    uint64_t ghcb_pa;               /* 0x0a0 */
    uint64_t event_inject;          /* 0x0a8 */
    uint64_t n_cr3;                 /* 0x0b0: the nested page table root */
    uint64_t virt_ext;              /* 0x0b8: LBR, VMSAVE/VMLOAD virtualisation */
    uint32_t clean;                 /* 0x0c0: VMCB clean bits */
    uint32_t reserved3;
    uint64_t next_rip;              /* 0x0c8: with NRIP save */
    uint8_t insn_len;               /* 0x0d0: with decode assists */
    uint8_t insn_bytes[15];
    uint8_t reserved4[0x400 - 0x0e0];
};

struct vmcb_save {
    struct vmcb_segment es, cs, ss, ds, fs, gs;     /* 0x400 */
    struct vmcb_segment gdtr, ldtr, idtr, tr;       /* 0x460 */
    uint8_t reserved1[0x4cb - 0x4a0];
    uint8_t cpl;                    /* 0x4cb */
    uint32_t reserved2;
    uint64_t efer;                  /* 0x4d0 */
    uint8_t reserved3[0x548 - 0x4d8];
    uint64_t cr4;                   /* 0x548 */
    uint64_t cr3;
    uint64_t cr0;
    uint64_t dr7;
    uint64_t dr6;
    uint64_t rflags;
    uint64_t rip;                   /* 0x578 */
    uint8_t reserved4[0x5d8 - 0x580];
    uint64_t rsp;                   /* 0x5d8 */
    uint64_t s_cet, ssp, isst_addr;
    uint64_t rax;                   /* 0x5f8 */
    uint64_t star, lstar, cstar, sfmask;
    uint64_t kernel_gs_base;        /* 0x620 */
    uint64_t sysenter_cs, sysenter_esp, sysenter_eip;
    uint64_t cr2;                   /* 0x640 */
    uint8_t reserved5[0x668 - 0x648];
    uint64_t g_pat;                 /* 0x668 */
    uint64_t dbgctl;                /* 0x670 */
    uint8_t reserved6[0x1000 - 0x678];
};

struct vmcb {
    struct vmcb_control control;
    struct vmcb_save save;
};

#define VMCB_AT(field, offset) \
    _Static_assert(offsetof(struct vmcb, field) == (offset), "VMCB offset of " #field)
VMCB_AT(control.iopm_base_pa, 0x040);
VMCB_AT(control.asid, 0x058);
VMCB_AT(control.tlb_control, 0x05c);
VMCB_AT(control.int_control, 0x060);
VMCB_AT(control.exitcode, 0x070);
VMCB_AT(control.exitintinfo, 0x088);
VMCB_AT(control.np_control, 0x090);
VMCB_AT(control.n_cr3, 0x0b0);
VMCB_AT(control.clean, 0x0c0);
VMCB_AT(control.next_rip, 0x0c8);
VMCB_AT(save.es, 0x400);
VMCB_AT(save.cs, 0x410);
VMCB_AT(save.gdtr, 0x460);
VMCB_AT(save.ldtr, 0x470);
VMCB_AT(save.idtr, 0x480);
VMCB_AT(save.tr, 0x490);
VMCB_AT(save.cpl, 0x4cb);
VMCB_AT(save.efer, 0x4d0);
VMCB_AT(save.cr4, 0x548);
VMCB_AT(save.cr0, 0x558);
VMCB_AT(save.dr6, 0x568);
VMCB_AT(save.rip, 0x578);
VMCB_AT(save.rsp, 0x5d8);
VMCB_AT(save.rax, 0x5f8);
VMCB_AT(save.kernel_gs_base, 0x620);
VMCB_AT(save.cr2, 0x640);
VMCB_AT(save.g_pat, 0x668);
_Static_assert(sizeof(struct vmcb) == 0x1000, "a VMCB is one page");

/* Intercept vector 3 (intercept_misc1). */
#define INTERCEPT_INTR          (1u << 0)
#define INTERCEPT_NMI           (1u << 1)
#define INTERCEPT_SMI           (1u << 2)
#define INTERCEPT_INIT          (1u << 3)
#define INTERCEPT_RDPMC         (1u << 15)
#define INTERCEPT_CPUID         (1u << 18)
#define INTERCEPT_INVD          (1u << 22)
#define INTERCEPT_HLT           (1u << 24)
#define INTERCEPT_INVLPGA       (1u << 26)
#define INTERCEPT_IOIO_PROT     (1u << 27)
#define INTERCEPT_MSR_PROT      (1u << 28)
#define INTERCEPT_TASK_SWITCH   (1u << 29)
#define INTERCEPT_FERR_FREEZE   (1u << 30)
#define INTERCEPT_SHUTDOWN      (1u << 31)
/* Intercept vector 4 (intercept_misc2). */
#define INTERCEPT_VMRUN         (1u << 0)
#define INTERCEPT_VMMCALL       (1u << 1)
#define INTERCEPT_VMLOAD        (1u << 2)
#define INTERCEPT_VMSAVE        (1u << 3)
#define INTERCEPT_STGI          (1u << 4)
#define INTERCEPT_CLGI          (1u << 5)
#define INTERCEPT_SKINIT        (1u << 6)
#define INTERCEPT_RDTSCP        (1u << 7)
#define INTERCEPT_ICEBP         (1u << 8)
#define INTERCEPT_WBINVD        (1u << 9)
#define INTERCEPT_MONITOR       (1u << 10)
#define INTERCEPT_MWAIT         (1u << 11)
#define INTERCEPT_MWAIT_ARMED   (1u << 12)
#define INTERCEPT_XSETBV        (1u << 13)
#define INTERCEPT_RDPRU         (1u << 14)
/* Intercept vector 5 (intercept_misc3). */
#define INTERCEPT_INVLPGB       (1u << 0)
#define INTERCEPT_INVLPGB_BAD   (1u << 1)
#define INTERCEPT_INVPCID       (1u << 2)
#define INTERCEPT_MCOMMIT       (1u << 3)
#define INTERCEPT_TLBSYNC       (1u << 4)

#define INT_CONTROL_V_INTR_MASKING (1ULL << 24)
#define NP_ENABLE               (1ULL << 0)

/* TLB_CONTROL: what VMRUN flushes before it enters. */
#define TLB_CONTROL_NOTHING     0x00
#define TLB_CONTROL_FLUSH_ALL   0x01    /* every ASID: any SVM CPU */
#define TLB_CONTROL_FLUSH_ASID  0x03    /* this guest's ASID: flush-by-ASID CPUs */

/* VMCB clean bits 0-11 (intercepts ... AVIC): what the CPU may keep. */
#define VMCB_CLEAN_ALL          0xfffu

/* EXITINTINFO / EVENTINJ. */
#define EVENT_VECTOR(e)         ((uint32_t)(e) & 0xff)
#define EVENT_TYPE(e)           (((uint32_t)(e) >> 8) & 7)
#define EVENT_TYPE_EXCEPTION    3
#define EVENT_TYPE_SOFT_INT     4
#define EVENT_VALID             (1u << 31)

#endif
