// Basic integer types used by xk user programs (as in XK's types.h).
#ifndef XK_TYPES_H
#define XK_TYPES_H

typedef unsigned int uint;
typedef unsigned short ushort;
typedef unsigned char uchar;
typedef unsigned long uint64;
typedef long int64;

#ifndef NULL
#define NULL ((void *)0)
#endif

#endif
