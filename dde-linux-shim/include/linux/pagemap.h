#ifndef _LINUX_PAGEMAP_H
#define _LINUX_PAGEMAP_H
#include <linux/highmem.h>
#include <linux/mm.h>
#endif
