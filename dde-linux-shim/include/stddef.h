/*
 * Freestanding <stddef.h> for the shim's -nostdinc build: ddekit.h and host.h
 * include it. Built only from the compiler's predefined type macros.
 */
#ifndef RESURGO_STDDEF_H
#define RESURGO_STDDEF_H

typedef __SIZE_TYPE__ size_t;
typedef __PTRDIFF_TYPE__ ptrdiff_t;
#ifndef __cplusplus
typedef __WCHAR_TYPE__ wchar_t;
#endif
#ifndef NULL
#define NULL ((void *)0)
#endif
#ifndef offsetof
#define offsetof(type, member) __builtin_offsetof(type, member)
#endif

#endif
