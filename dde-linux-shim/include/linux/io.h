/* <linux/io.h> */
#ifndef _LINUX_IO_H
#define _LINUX_IO_H
#include <linux/err.h>
#include <linux/types.h>
#include <asm/io.h>
#endif
