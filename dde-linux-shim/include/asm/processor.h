#ifndef _ASM_PROCESSOR_H
#define _ASM_PROCESSOR_H
#define cpu_relax() __asm__ __volatile__("pause" : : : "memory")
#endif
