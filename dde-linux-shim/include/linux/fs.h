/* <linux/fs.h>: NIC drivers include it for historical reasons; nothing is used. */
#ifndef _LINUX_FS_H
#define _LINUX_FS_H
#include <linux/types.h>
#endif
