/*
 * x86's software population counts, __sw_hweight32() and __sw_hweight64().
 *
 * Linux's <asm/arch_hweight.h> calls them from inline assembly (the form
 * that the alternatives would patch into popcnt, which nothing patches in a
 * task) with the argument in %rdi, the result in %rax and no other register
 * declared clobbered: x86 implements them in assembly that saves every
 * register it uses (arch/x86/lib/hweight.S). Linux's generic C versions
 * (lib/hweight.c) follow the ordinary calling convention, and a caller's
 * %rdi or %rdx changing under it corrupts it (the loop of lib/bitmap.c's
 * __bitmap_weight() faulted on its cursor). These keep x86's contract:
 * `no_caller_saved_registers` makes the compiler save whatever they touch,
 * and they use no vector registers.
 */
#include <linux/bitops.h>

#define SAVES_ALL __attribute__((no_caller_saved_registers, target("general-regs-only")))

/* Bits set in each pair, nibble and byte, then the bytes summed by one
 * multiplication into the top byte. */
SAVES_ALL unsigned int __sw_hweight32(unsigned int w)
{
    w -= (w >> 1) & 0x55555555u;
    w = (w & 0x33333333u) + ((w >> 2) & 0x33333333u);
    w = (w + (w >> 4)) & 0x0f0f0f0fu;
    return (w * 0x01010101u) >> 24;
}

SAVES_ALL unsigned long __sw_hweight64(__u64 w)
{
    w -= (w >> 1) & 0x5555555555555555ull;
    w = (w & 0x3333333333333333ull) + ((w >> 2) & 0x3333333333333333ull);
    w = (w + (w >> 4)) & 0x0f0f0f0f0f0f0f0full;
    return (unsigned long)((w * 0x0101010101010101ull) >> 56);
}
