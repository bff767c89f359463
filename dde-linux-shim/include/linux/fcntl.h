/* <linux/fcntl.h>: NIC drivers include it for historical reasons; nothing is used. */
#ifndef _LINUX_FCNTL_H
#define _LINUX_FCNTL_H
#include <linux/types.h>
#endif
