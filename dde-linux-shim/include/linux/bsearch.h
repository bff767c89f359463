/* <linux/bsearch.h>: bsearch(), compiled from Linux's own lib/bsearch.c (linux-lib.toml). */
#ifndef _LINUX_BSEARCH_H
#define _LINUX_BSEARCH_H

#include <linux/types.h>

void *bsearch(const void *key, const void *base, size_t num, size_t size,
              int (*cmp)(const void *key, const void *elt));

#endif
