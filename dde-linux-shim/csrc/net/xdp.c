/*
 * XDP receive-queue records (net/core/xdp.c's API): a driver registers one
 * per receive queue when it opens (virtio_net, and most drivers with XDP
 * support) and unregisters it when it closes, whether or not an XDP program
 * is ever attached. The shim attaches none (nothing in a driver task calls
 * ndo_bpf), so the records only keep what Linux keeps in them; the memory
 * models that need no allocator of their own are accepted, page pools and
 * AF_XDP buffer pools (which the shim does not have) are refused.
 */
#include <linux/netdevice.h>
#include <net/xdp.h>

/* The registration states of struct xdp_rxq_info's reg_state, which Linux
 * defines in net/core/xdp.c itself (a zeroed record is NEW). */
#define REG_STATE_NEW 0x0
#define REG_STATE_REGISTERED 0x1
#define REG_STATE_UNREGISTERED 0x2
#define REG_STATE_UNUSED 0x3

int __xdp_rxq_info_reg(struct xdp_rxq_info *xdp_rxq, struct net_device *dev, u32 queue_index, unsigned int napi_id,
                       u32 frag_size)
{
    if (!dev) {
        WARN(1, "Missing net_device from driver");
        return -ENODEV;
    }
    if (xdp_rxq->reg_state == REG_STATE_UNUSED) {
        WARN(1, "Driver promised not to register this");
        return -EINVAL;
    }
    if (xdp_rxq->reg_state == REG_STATE_REGISTERED) {
        WARN(1, "Missing unregister, handled but fix driver");
        xdp_rxq_info_unreg(xdp_rxq);
    }
    memset(xdp_rxq, 0, sizeof(*xdp_rxq));
    xdp_rxq->dev = dev;
    xdp_rxq->queue_index = queue_index;
    xdp_rxq->napi_id = napi_id;
    xdp_rxq->frag_size = frag_size;
    xdp_rxq->reg_state = REG_STATE_REGISTERED;
    return 0;
}

void xdp_rxq_info_unreg_mem_model(struct xdp_rxq_info *xdp_rxq)
{
    xdp_rxq->mem.type = 0;
    xdp_rxq->mem.id = 0;
}

void xdp_rxq_info_unreg(struct xdp_rxq_info *xdp_rxq)
{
    if (xdp_rxq->reg_state == REG_STATE_UNUSED)
        return;
    WARN(!(xdp_rxq->reg_state == REG_STATE_REGISTERED), "Driver BUG");
    xdp_rxq_info_unreg_mem_model(xdp_rxq);
    xdp_rxq->reg_state = REG_STATE_UNREGISTERED;
    xdp_rxq->dev = NULL;
}

int xdp_rxq_info_reg_mem_model(struct xdp_rxq_info *xdp_rxq, enum xdp_mem_type type, void *allocator)
{
    (void)allocator;
    if (xdp_rxq->reg_state != REG_STATE_REGISTERED) {
        WARN(1, "Missing register, driver bug");
        return -EFAULT;
    }
    if (type >= MEM_TYPE_MAX)
        return -EINVAL;
    if (type == MEM_TYPE_PAGE_POOL || type == MEM_TYPE_XSK_BUFF_POOL)
        return -EOPNOTSUPP;
    xdp_rxq->mem.type = type;
    return 0;
}
