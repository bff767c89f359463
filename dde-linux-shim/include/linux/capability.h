/* <linux/capability.h>: the host is the only caller and holds every privilege. */
#ifndef _LINUX_CAPABILITY_H
#define _LINUX_CAPABILITY_H
#include <linux/types.h>
#define CAP_NET_ADMIN 12
#define CAP_NET_RAW 13
#define CAP_SYS_ADMIN 21
static inline bool capable(int cap)
{
    (void)cap;
    return true;
}
#endif
