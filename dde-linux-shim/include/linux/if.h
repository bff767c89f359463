#include <uapi/linux/if.h>
