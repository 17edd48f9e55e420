/* AMD-V (SVM) backend: placeholder until the backend lands; x86/virt.c
 * picks VT-x while svm_backend.probe is NULL. */
#include "../x86/virt.h"

const struct virt_backend svm_backend = {
    .name = "AMD-V",
    .hypercall_vmmcall = 1,
};
