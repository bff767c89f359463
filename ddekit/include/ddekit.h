/*
 * DDEKit for Resurgo: the device-driver environment kit, implemented in Rust
 * (crate `ddekit`) on the Resurgo user runtime and exported with this C ABI.
 * The Linux shim (dde-linux-shim) is written against this header only.
 *
 * The groups and names follow TU Dresden's DDEKit. Semantics that matter:
 *  - Threads are real kernel threads of the driver task; blocking (locks,
 *    semaphores, sleeps) blocks only the calling thread.
 *  - Locks are sleeping mutexes: a holder may be preempted; a thread that
 *    wants the lock blocks instead of spinning.
 *  - Interrupt handlers run on a dedicated thread per line, at higher priority
 *    than the task's other threads.
 *  - Every allocation from the memory group is DMA-able: it lies in physically
 *    contiguous memory whose physical address ddekit_pgtab_get_physaddr knows.
 *
 * This file is our own work: API names and semantics are facts, the code is not
 * copied.
 */
#ifndef RESURGO_DDEKIT_H
#define RESURGO_DDEKIT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef uint64_t ddekit_addr_t;

/* ---- print / panic -------------------------------------------------------- */

/* Writes a NUL-terminated message to the task's log (one line per call; a
 * trailing newline is dropped). Messages are collected per thread until a
 * newline, so printk fragments (KERN_CONT) join into one line. */
void ddekit_print(const char *msg);
/* Log level of the next ddekit_print: 1 error, 2 warn, 3 info, 4 debug. */
void ddekit_print_level(int level, const char *msg);
/* Ends the task with the message as its exit reason. */
void ddekit_panic(const char *msg) __attribute__((noreturn));

/* ---- memory --------------------------------------------------------------- */

/* Small objects, any size, 16-byte aligned, DMA-able. NULL when exhausted. */
void *ddekit_simple_malloc(size_t size);
void ddekit_simple_free(void *p);
/* Page-aligned memory (for larger buffers), DMA-able. */
void *ddekit_large_malloc(size_t size);
void ddekit_large_free(void *p);
/* Physically contiguous memory below `high` with the given alignment (a power
 * of two) that does not cross a `boundary` (0: none). */
void *ddekit_contig_malloc(size_t size, ddekit_addr_t low, ddekit_addr_t high, size_t align, size_t boundary);
void ddekit_contig_free(void *p, size_t size);

/* Slab caches for objects of one size. */
struct ddekit_slab;
struct ddekit_slab *ddekit_slab_init(size_t size, int contiguous);
void *ddekit_slab_alloc(struct ddekit_slab *slab);
void ddekit_slab_free(struct ddekit_slab *slab, void *obj);
void ddekit_slab_destroy(struct ddekit_slab *slab);

/* ---- pgtab: virtual <-> physical ----------------------------------------- */

/* Physical address of a virtual address returned by the memory group (or of a
 * device-memory mapping); 0 when unknown. */
ddekit_addr_t ddekit_pgtab_get_physaddr(const void *virt);
/* Virtual address of a physical address the memory group handed out; 0 when
 * unknown. */
ddekit_addr_t ddekit_pgtab_get_virtaddr(ddekit_addr_t phys);

/* ---- threads -------------------------------------------------------------- */

typedef struct ddekit_thread ddekit_thread_t;

ddekit_thread_t *ddekit_thread_create(void (*fun)(void *), void *arg, const char *name);
ddekit_thread_t *ddekit_thread_myself(void);
const char *ddekit_thread_get_name(ddekit_thread_t *t);
/* One pointer of per-thread data (Linux's `current` lives here). */
void ddekit_thread_set_data(ddekit_thread_t *t, void *data);
void *ddekit_thread_get_data(ddekit_thread_t *t);
void ddekit_thread_set_my_data(void *data);
void *ddekit_thread_get_my_data(void);
void ddekit_thread_msleep(unsigned long msecs);
void ddekit_thread_usleep(unsigned long usecs);
void ddekit_thread_nsleep(unsigned long nsecs);
void ddekit_yield(void);
void ddekit_thread_exit(void) __attribute__((noreturn));
/* Every thread that calls into DDEKit has a wake-up IRQ object attached to
 * itself with this label; its blocking waits are closed receives on it. A
 * thread that also does open waits of its own may receive it (a wake-up that
 * came after its wait had ended) and must ignore it. */
#define DDEKIT_WAKE_LABEL 0xdde0UL

/* ---- locks (sleeping mutexes) ---------------------------------------------- */

struct ddekit_lock;
typedef struct ddekit_lock *ddekit_lock_t;

void ddekit_lock_init(ddekit_lock_t *lock);
void ddekit_lock_deinit(ddekit_lock_t *lock);
void ddekit_lock_lock(ddekit_lock_t *lock);
/* 0 on success, -1 when the lock is held. */
int ddekit_lock_try_lock(ddekit_lock_t *lock);
void ddekit_lock_unlock(ddekit_lock_t *lock);
/* The holder, or NULL. */
ddekit_thread_t *ddekit_lock_owner(ddekit_lock_t *lock);
/* A ddekit_lock_t that is NULL (zeroed, never initialised) is a valid unlocked
 * lock: the first lock, try_lock or condvar wait creates it, race-free. */

/* ---- semaphores ------------------------------------------------------------ */

typedef struct ddekit_sem ddekit_sem_t;

ddekit_sem_t *ddekit_sem_init(int value);
void ddekit_sem_deinit(ddekit_sem_t *sem);
void ddekit_sem_down(ddekit_sem_t *sem);
/* 0 on success, -1 when it would block. */
int ddekit_sem_down_try(ddekit_sem_t *sem);
/* 0 on success, -1 on timeout. */
int ddekit_sem_down_timed(ddekit_sem_t *sem, int timo_ms);
void ddekit_sem_up(ddekit_sem_t *sem);

/* ---- condition variables ----------------------------------------------------- */

typedef struct ddekit_condvar ddekit_condvar_t;

ddekit_condvar_t *ddekit_condvar_init(void);
void ddekit_condvar_deinit(ddekit_condvar_t *cvp);
void ddekit_condvar_wait(ddekit_condvar_t *cvp, ddekit_lock_t *mp);
/* 0 when signalled, -1 on timeout; the lock is held again either way. */
int ddekit_condvar_wait_timed(ddekit_condvar_t *cvp, ddekit_lock_t *mp, int timo_ms);
void ddekit_condvar_signal(ddekit_condvar_t *cvp);
void ddekit_condvar_broadcast(ddekit_condvar_t *cvp);

/* ---- time and timers ------------------------------------------------------- */

/* Ticks since boot, DDEKIT_HZ per second; read from the kernel's info page,
 * no system call. */
#define DDEKIT_HZ 1000
unsigned long ddekit_jiffies(void);
/* Monotonic nanoseconds since boot (TSC based). */
uint64_t ddekit_clock_ns(void);
/* Busy-waits (udelay/ndelay). */
void ddekit_udelay(unsigned long usecs);
void ddekit_ndelay(unsigned long nsecs);

/* Runs fn(args) on the task's timer thread once jiffies >= `expires`.
 * Returns a timer id >= 0, or -1. */
int ddekit_add_timer(void (*fn)(void *), void *args, unsigned long expires);
/* Cancels a pending timer: 0 if it was pending, -1 otherwise. Does not wait
 * for a running callback. */
int ddekit_del_timer(int timer);
/* 1 if the timer is still pending. */
int ddekit_timer_pending(int timer);

/* ---- interrupts -------------------------------------------------------------- */

/* Attaches `handler(priv)` to the task's interrupt `irq` (the line number its
 * device uses). A new thread waits for the interrupt, runs `thread_init(priv)`
 * once, then calls the handler for each interrupt and acknowledges it
 * afterwards. Several handlers may share a line (`shared` != 0). Returns the
 * handler thread, or NULL if the task holds no IRQ capability for that line. */
ddekit_thread_t *ddekit_interrupt_attach(int irq, int shared, void (*thread_init)(void *), void (*handler)(void *),
                                         void *priv);
void ddekit_interrupt_detach(int irq);
/* Disable/enable nest; while disabled, an interrupt is held (not lost) until
 * enabled. ddekit_interrupt_disable waits until a running handler returns. */
void ddekit_interrupt_disable(int irq);
void ddekit_interrupt_disable_nosync(int irq);
void ddekit_interrupt_enable(int irq);

/* ---- PCI: the task's own device, through the io server ----------------------- */

/* The device the io server gave this task (there is exactly one); -1 if none.
 * Bus, slot and function are the real ones, for messages. */
int ddekit_pci_get_device(int nr, int *bus, int *slot, int *func);
/* Configuration space of that device: len 1, 2 or 4. 0 on success, -1 if the
 * io server refuses (another device, a BAR write). */
int ddekit_pci_read(int bus, int slot, int func, int pos, int len, uint32_t *val);
int ddekit_pci_write(int bus, int slot, int func, int pos, int len, uint32_t val);

/* What the io server reported for the device. */
struct ddekit_pci_bar {
    uint64_t base;
    uint64_t size;
    int is_io;    /* 1: I/O ports, 0: memory */
    int present;
};
struct ddekit_pci_info {
    uint16_t vendor, device, subsystem_vendor, subsystem_device;
    uint8_t revision, irq_line;
    uint32_t class_code; /* class << 16 | subclass << 8 | prog-if */
    struct ddekit_pci_bar bars[6];
};
int ddekit_pci_get_info(struct ddekit_pci_info *out);
/* Sets the bus-master bit in the command register (the io server allows it). */
int ddekit_pci_enable_busmaster(void);
/* Switches the device from its INTx line to its message-signalled interrupt
 * (MSI, one vector): the io server programs the device's MSI capability with
 * what the kernel allocated for it (an interrupt-remapping entry that only
 * this device may use, under the IOMMU). Returns the interrupt number to
 * attach with ddekit_interrupt_attach(), or -1 when the device, its bus or
 * the kernel offers none (MSI capability absent, Fiasco.OC): INTx stays. */
int ddekit_pci_enable_msi(void);
/* Back to the INTx line. 0, or -1 when MSI was not on. */
int ddekit_pci_disable_msi(void);
/* Switches the device to MSI-X with `count` vectors (1 to 8): each table
 * entry 0..count gets a vector of its own, programmed by the io server.
 * Writes the interrupt number of entry i to lines[i] and returns count, or
 * -1 when the device, its bus or the kernel offers fewer (no MSI-X
 * capability, a smaller table, Fiasco.OC): nothing changes then. */
int ddekit_pci_enable_msix(int count, int *lines);
/* Back to the INTx line from MSI-X. 0, or -1 when MSI-X was not on. */
int ddekit_pci_disable_msix(void);

/* ---- resources: ports and device memory -------------------------------------- */

/* Puts the ports into the task's I/O bitmap (only ports of its device): 0 or -1. */
int ddekit_request_io(ddekit_addr_t start, ddekit_addr_t count);
int ddekit_release_io(ddekit_addr_t start, ddekit_addr_t count);
/* Maps device memory of its device (uncached); *vaddr receives the address. */
int ddekit_request_mem(ddekit_addr_t start, ddekit_addr_t size, ddekit_addr_t *vaddr);
int ddekit_release_mem(ddekit_addr_t start, ddekit_addr_t size);

/* Port I/O: plain instructions once the ports are granted. */
static inline uint8_t ddekit_inb(uint16_t port) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint16_t ddekit_inw(uint16_t port) { uint16_t v; __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint32_t ddekit_inl(uint16_t port) { uint32_t v; __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline void ddekit_outb(uint8_t v, uint16_t port) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline void ddekit_outw(uint16_t v, uint16_t port) { __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port)); }
static inline void ddekit_outl(uint32_t v, uint16_t port) { __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port)); }

/* ---- initcalls ---------------------------------------------------------------- */

/* An initcall is an entry in the linker section `ddekit_initcalls`; ddekit
 * runs them by ascending level, and within a level in link order. The Linux
 * shim's module_init, subsys_initcall, ... expand to DDEKIT_INITCALL. */
typedef int (*ddekit_initcall_t)(void);
struct ddekit_initcall {
    int level;
    ddekit_initcall_t fn;
};
#define DDEKIT_INITCALL(fn, lvl)                                                            \
    static const struct ddekit_initcall __ddekit_initcall_##fn                              \
        __attribute__((used, section("ddekit_initcalls"), aligned(8))) = {(lvl), (fn)}
/* Runs every initcall once; returns the number that failed (returned != 0). */
int ddekit_do_initcalls(void);

#ifdef __cplusplus
}
#endif

#endif
