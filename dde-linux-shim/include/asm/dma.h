/* <asm/dma.h>: the ISA DMA controller is not available to driver tasks. */
#ifndef _ASM_DMA_H
#define _ASM_DMA_H
#define MAX_DMA_CHANNELS 8
#define MAX_DMA_ADDRESS (~0UL)
#endif
