/* <linux/reboot.h>: no reboot notifiers here; the constants only. */
#ifndef _LINUX_REBOOT_H
#define _LINUX_REBOOT_H
#include <linux/types.h>
#define SYS_DOWN 0x0001
#define SYS_RESTART SYS_DOWN
#define SYS_HALT 0x0002
#define SYS_POWER_OFF 0x0003
#endif
