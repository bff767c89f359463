/* <linux/container_of.h> */
#ifndef _LINUX_CONTAINER_OF_H
#define _LINUX_CONTAINER_OF_H

#include <linux/stddef.h>

#define container_of(ptr, type, member)                                                            \
    ({                                                                                             \
        void *__mptr = (void *)(ptr);                                                              \
        ((type *)(__mptr - offsetof(type, member)));                                               \
    })

#endif
