/* <linux/rtnetlink.h>: the rtnl lock serialises configuration (csrc/netdevice.c). */
#ifndef _LINUX_RTNETLINK_H
#define _LINUX_RTNETLINK_H
#include <linux/types.h>
void rtnl_lock(void);
void rtnl_unlock(void);
int rtnl_trylock(void);
int rtnl_is_locked(void);
#endif
