/*
 * <asm/io.h>: device access on x86_64.
 *
 *  - MMIO (readb..writeq): volatile accesses through the uncached mappings
 *    that ioremap() gets from ddekit_request_mem.
 *  - Port I/O (inb..outl, the _p variants and the string forms): plain
 *    in/out instructions, allowed once the ports are in the task's I/O bitmap
 *    (request_region/pci_request_regions -> ddekit_request_io).
 *  - ioread/iowrite take either kind of cookie, as lib/iomap does: ports are
 *    mapped (ioport_map, pci_iomap) to cookies in [DDE_PIO_COOKIE_BASE,
 *    DDE_PIO_COOKIE_BASE + 0x10000), far below any mapping of the task.
 */
#ifndef _ASM_IO_H
#define _ASM_IO_H

#include <linux/compiler.h>
#include <linux/types.h>
#include <asm/barrier.h>
#include <linux/swab.h>

#define DDE_PIO_COOKIE_BASE 0x10000UL
#define DDE_PIO_COOKIE_END (DDE_PIO_COOKIE_BASE + 0x10000UL)
#define IO_SPACE_LIMIT 0xffff

/* ---- MMIO ---------------------------------------------------------------- */

static inline u8 readb(const volatile void __iomem *addr) { return *(const volatile u8 *)addr; }
static inline u16 readw(const volatile void __iomem *addr) { return *(const volatile u16 *)addr; }
static inline u32 readl(const volatile void __iomem *addr) { return *(const volatile u32 *)addr; }
static inline u64 readq(const volatile void __iomem *addr) { return *(const volatile u64 *)addr; }
static inline void writeb(u8 val, volatile void __iomem *addr) { *(volatile u8 *)addr = val; }
static inline void writew(u16 val, volatile void __iomem *addr) { *(volatile u16 *)addr = val; }
static inline void writel(u32 val, volatile void __iomem *addr) { *(volatile u32 *)addr = val; }
static inline void writeq(u64 val, volatile void __iomem *addr) { *(volatile u64 *)addr = val; }

#define __raw_readb readb
#define __raw_readw readw
#define __raw_readl readl
#define __raw_readq readq
#define __raw_writeb writeb
#define __raw_writew writew
#define __raw_writel writel
#define __raw_writeq writeq
#define readb_relaxed readb
#define readw_relaxed readw
#define readl_relaxed readl
#define readq_relaxed readq
#define writeb_relaxed writeb
#define writew_relaxed writew
#define writel_relaxed writel
#define writeq_relaxed writeq

void memcpy_fromio(void *dst, const volatile void __iomem *src, size_t count);
void memcpy_toio(volatile void __iomem *dst, const void *src, size_t count);
void memset_io(volatile void __iomem *dst, int c, size_t count);

void __iomem *ioremap(resource_size_t offset, unsigned long size);
#define ioremap_nocache ioremap
#define ioremap_uc ioremap
#define ioremap_wc ioremap
#define ioremap_wt ioremap
#define ioremap_cache ioremap
void iounmap(volatile void __iomem *addr);

/* Physical addresses of memory the task allocated (DDEKit's pgtab). */
phys_addr_t virt_to_phys(volatile void *address);
void *phys_to_virt(phys_addr_t address);
#define virt_to_bus(a) virt_to_phys(a)
#define bus_to_virt(a) phys_to_virt(a)

/* ---- port I/O ------------------------------------------------------------- */

static inline u8 inb(unsigned long port)
{
    u8 v;
    __asm__ __volatile__("inb %w1, %b0" : "=a"(v) : "Nd"((u16)port));
    return v;
}
static inline u16 inw(unsigned long port)
{
    u16 v;
    __asm__ __volatile__("inw %w1, %w0" : "=a"(v) : "Nd"((u16)port));
    return v;
}
static inline u32 inl(unsigned long port)
{
    u32 v;
    __asm__ __volatile__("inl %w1, %0" : "=a"(v) : "Nd"((u16)port));
    return v;
}
static inline void outb(u8 v, unsigned long port) { __asm__ __volatile__("outb %b0, %w1" : : "a"(v), "Nd"((u16)port)); }
static inline void outw(u16 v, unsigned long port) { __asm__ __volatile__("outw %w0, %w1" : : "a"(v), "Nd"((u16)port)); }
static inline void outl(u32 v, unsigned long port) { __asm__ __volatile__("outl %0, %w1" : : "a"(v), "Nd"((u16)port)); }

/* The _p forms paused on ISA buses; PCI devices need no pause. */
#define inb_p(port) inb(port)
#define inw_p(port) inw(port)
#define inl_p(port) inl(port)
#define outb_p(v, port) outb(v, port)
#define outw_p(v, port) outw(v, port)
#define outl_p(v, port) outl(v, port)

static inline void insb(unsigned long port, void *addr, unsigned long count)
{
    if (count)
        __asm__ __volatile__("rep; insb" : "+D"(addr), "+c"(count) : "d"((u16)port) : "memory");
}
static inline void insw(unsigned long port, void *addr, unsigned long count)
{
    if (count)
        __asm__ __volatile__("rep; insw" : "+D"(addr), "+c"(count) : "d"((u16)port) : "memory");
}
static inline void insl(unsigned long port, void *addr, unsigned long count)
{
    if (count)
        __asm__ __volatile__("rep; insl" : "+D"(addr), "+c"(count) : "d"((u16)port) : "memory");
}
static inline void outsb(unsigned long port, const void *addr, unsigned long count)
{
    if (count)
        __asm__ __volatile__("rep; outsb" : "+S"(addr), "+c"(count) : "d"((u16)port) : "memory");
}
static inline void outsw(unsigned long port, const void *addr, unsigned long count)
{
    if (count)
        __asm__ __volatile__("rep; outsw" : "+S"(addr), "+c"(count) : "d"((u16)port) : "memory");
}
static inline void outsl(unsigned long port, const void *addr, unsigned long count)
{
    if (count)
        __asm__ __volatile__("rep; outsl" : "+S"(addr), "+c"(count) : "d"((u16)port) : "memory");
}

/* ---- ioread/iowrite on MMIO or port cookies -------------------------------- */

static inline bool dde_is_pio_cookie(const volatile void __iomem *addr)
{
    unsigned long a = (unsigned long)addr;
    return a >= DDE_PIO_COOKIE_BASE && a < DDE_PIO_COOKIE_END;
}
#define DDE_PIO_PORT(addr) ((unsigned long)(addr)-DDE_PIO_COOKIE_BASE)

static inline void __iomem *ioport_map(unsigned long port, unsigned int nr)
{
    (void)nr;
    return port > IO_SPACE_LIMIT ? NULL : (void __iomem *)(port + DDE_PIO_COOKIE_BASE);
}
static inline void ioport_unmap(void __iomem *addr) { (void)addr; }

static inline unsigned int ioread8(const volatile void __iomem *addr)
{
    return dde_is_pio_cookie(addr) ? inb(DDE_PIO_PORT(addr)) : readb(addr);
}
static inline unsigned int ioread16(const volatile void __iomem *addr)
{
    return dde_is_pio_cookie(addr) ? inw(DDE_PIO_PORT(addr)) : readw(addr);
}
static inline unsigned int ioread32(const volatile void __iomem *addr)
{
    return dde_is_pio_cookie(addr) ? inl(DDE_PIO_PORT(addr)) : readl(addr);
}
static inline unsigned int ioread16be(const volatile void __iomem *addr) { return swab16((u16)ioread16(addr)); }
static inline unsigned int ioread32be(const volatile void __iomem *addr) { return swab32(ioread32(addr)); }
static inline void iowrite8(u8 val, volatile void __iomem *addr)
{
    if (dde_is_pio_cookie(addr))
        outb(val, DDE_PIO_PORT(addr));
    else
        writeb(val, addr);
}
static inline void iowrite16(u16 val, volatile void __iomem *addr)
{
    if (dde_is_pio_cookie(addr))
        outw(val, DDE_PIO_PORT(addr));
    else
        writew(val, addr);
}
static inline void iowrite32(u32 val, volatile void __iomem *addr)
{
    if (dde_is_pio_cookie(addr))
        outl(val, DDE_PIO_PORT(addr));
    else
        writel(val, addr);
}
static inline void iowrite16be(u16 val, volatile void __iomem *addr) { iowrite16(swab16(val), addr); }
static inline void iowrite32be(u32 val, volatile void __iomem *addr) { iowrite32(swab32(val), addr); }

/* Repeated accesses to one register (a FIFO). */
static inline void ioread8_rep(const volatile void __iomem *addr, void *buf, unsigned long count)
{
    if (dde_is_pio_cookie(addr)) {
        insb(DDE_PIO_PORT(addr), buf, count);
    } else {
        u8 *p = buf;
        while (count--)
            *p++ = readb(addr);
    }
}
static inline void ioread16_rep(const volatile void __iomem *addr, void *buf, unsigned long count)
{
    if (dde_is_pio_cookie(addr)) {
        insw(DDE_PIO_PORT(addr), buf, count);
    } else {
        u16 *p = buf;
        while (count--)
            *p++ = readw(addr);
    }
}
static inline void ioread32_rep(const volatile void __iomem *addr, void *buf, unsigned long count)
{
    if (dde_is_pio_cookie(addr)) {
        insl(DDE_PIO_PORT(addr), buf, count);
    } else {
        u32 *p = buf;
        while (count--)
            *p++ = readl(addr);
    }
}
static inline void iowrite8_rep(volatile void __iomem *addr, const void *buf, unsigned long count)
{
    if (dde_is_pio_cookie(addr)) {
        outsb(DDE_PIO_PORT(addr), buf, count);
    } else {
        const u8 *p = buf;
        while (count--)
            writeb(*p++, addr);
    }
}
static inline void iowrite16_rep(volatile void __iomem *addr, const void *buf, unsigned long count)
{
    if (dde_is_pio_cookie(addr)) {
        outsw(DDE_PIO_PORT(addr), buf, count);
    } else {
        const u16 *p = buf;
        while (count--)
            writew(*p++, addr);
    }
}
static inline void iowrite32_rep(volatile void __iomem *addr, const void *buf, unsigned long count)
{
    if (dde_is_pio_cookie(addr)) {
        outsl(DDE_PIO_PORT(addr), buf, count);
    } else {
        const u32 *p = buf;
        while (count--)
            writel(*p++, addr);
    }
}
#define readsb(a, b, c) ioread8_rep(a, b, c)
#define readsw(a, b, c) ioread16_rep(a, b, c)
#define readsl(a, b, c) ioread32_rep(a, b, c)
#define writesb(a, b, c) iowrite8_rep(a, b, c)
#define writesw(a, b, c) iowrite16_rep(a, b, c)
#define writesl(a, b, c) iowrite32_rep(a, b, c)

#endif
