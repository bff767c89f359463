/*
 * Random numbers for drivers (random MAC addresses, jitter): a xorshift
 * generator seeded from DDEKit's nanosecond clock and stirred with the clock
 * on every call. Not for cryptography; nothing in a NIC driver needs that.
 */
#include <ddekit.h>
#include <linux/random.h>
#include <linux/spinlock.h>
#include <linux/string.h>

static u64 state;
static DEFINE_SPINLOCK(random_lock);

static u64 splitmix(u64 x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

u64 get_random_u64(void)
{
    u64 x;

    spin_lock(&random_lock);
    state ^= splitmix(ddekit_clock_ns());
    if (!state)
        state = 0x2545f4914f6cdd1dull;
    x = state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    state = x;
    spin_unlock(&random_lock);
    return splitmix(x);
}

u32 get_random_u32(void) { return (u32)get_random_u64(); }

void get_random_bytes(void *buf, size_t len)
{
    u8 *p = buf;

    while (len) {
        u64 r = get_random_u64();
        size_t n = len < sizeof(r) ? len : sizeof(r);

        memcpy(p, &r, n);
        p += n;
        len -= n;
    }
}
