/* Power-off statuses: what the machine's exit code says about the run.
 * QEMU's isa-debug-exit turns status s into exit code 2s+1; Bochs always
 * exits 1, so the serial log repeats the status on its last line. */
#ifndef HV_HV_H
#define HV_HV_H

enum hv_status {
    HV_OK = 0,              /* every guest ended with status 0 (or none ran) */
    HV_GUEST_FAILED = 1,    /* at least one guest failed or was killed */
    HV_PANIC = 2,           /* a broken hypervisor invariant or CPU exception */
    HV_BAD_CONFIG = 3,      /* mayfly.conf missing or invalid */
    HV_NO_MEMORY = 4,       /* partitions or hypervisor pool do not fit */
    HV_NO_VIRT = 5,         /* the CPU has neither VT-x nor AMD-V (SVM) */
    HV_VIRT_DISABLED = 6,   /* firmware turned VT-x or SVM off */
    HV_NO_NESTED_PAGING = 7,    /* VT-x without EPT, or SVM without NPT */
    HV_VIRT_INCOMPLETE = 8, /* a VT-x or SVM feature Mayfly needs is missing */
    HV_BAD_BOOT = 9,        /* the boot entry handed over nothing usable */
};

#endif
