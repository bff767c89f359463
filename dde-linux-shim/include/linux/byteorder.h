#include <asm/byteorder.h>
