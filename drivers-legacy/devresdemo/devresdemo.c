/*
 * devresdemo: not a Linux driver but Resurgo's own test of managed resources
 * (devres, Linux's drivers/base/devres.c as the shim compiles it). It claims
 * QEMU's rtl8139 (10ec:8139) and, at probe, takes managed memory, a managed
 * DMA pool (and a block from it, given back), the device itself enabled and
 * its memory BAR claimed and mapped the managed way (pcim_*), its interrupt
 * line (devm_request_irq), managed coherent DMA memory and release actions,
 * then fails with -EIO. The shim's PCI core must release all of it as
 * Linux's driver core does, in the reverse order of taking: the second
 * action, ..., the first action, and last the check, which looks whether the
 * device was disabled and its BAR and line given back (tests/devres.rs). Before that it loads the firmware file its manifest
 * names (devresdemo.fw, our own bytes) and asks for one it does not name,
 * both ways again without waiting,
 * queues an RCU callback and a kfree_rcu() and waits for them with
 * rcu_barrier(), and runs a kernel thread until it stops it, which ups a
 * semaphore the probe waits on, shares a read-write semaphore with a writer
 * thread, copies through scatterlists and maps them,
 * runs a periodic hrtimer and cancels a far one, shuts down a timer that
 * re-arms itself, and calls Linux's bitmap and rate-limit library code; the
 * resources it takes include a managed network device.
 */
#include <linux/bitmap.h>
#include <linux/device.h>
#include <linux/dma-mapping.h>
#include <linux/dmapool.h>
#include <linux/crc32.h>
#include <linux/firmware.h>
#include <linux/hrtimer.h>
#include <linux/etherdevice.h>
#include <linux/if_ether.h>
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/net.h>
#include <linux/delay.h>
#include <linux/pci.h>
#include <linux/rcupdate.h>
#include <linux/scatterlist.h>
#include <linux/rwsem.h>
#include <linux/semaphore.h>
#include <linux/slab.h>
#include <linux/timer.h>

static const struct pci_device_id devresdemo_pci_tbl[] = {
	{ PCI_DEVICE(0x10ec, 0x8139) },
	{ }
};
MODULE_DEVICE_TABLE(pci, devresdemo_pci_tbl);

static void devresdemo_say(void *what)
{
	pr_info("devresdemo: released %s\n", (const char *)what);
}

/* Released last: whatever the probe took after it is gone by now. */
static irqreturn_t devresdemo_irq(int irq, void *dev_id)
{
	return IRQ_NONE;
}

static void devresdemo_check(void *data)
{
	struct pci_dev *pdev = data;
	bool bar_free = pci_request_region(pdev, 1, "devresdemo check") == 0;
	/* A second unshared request of a line that is still held is -EBUSY. */
	bool irq_free = request_irq(pdev->irq, devresdemo_irq, 0, "devresdemo check", pdev) == 0;

	u16 cmd = PCI_COMMAND_INTX_DISABLE;

	if (bar_free)
		pci_release_region(pdev, 1);
	if (irq_free)
		free_irq(pdev->irq, pdev);
	pci_read_config_word(pdev, PCI_COMMAND, &cmd);
	pr_info("devresdemo: at the end the device is %s, bus mastering %s, BAR 1 %s, its interrupt line %s, managed %s, %s\n",
		pci_is_enabled(pdev) ? "enabled" : "disabled", pdev->is_busmaster ? "on" : "off",
		bar_free ? "free" : "still claimed", irq_free ? "free" : "still requested",
		pci_is_managed(pdev) ? "yes" : "no",
		pdev->msi_enabled ? "MSI still on" : cmd & PCI_COMMAND_INTX_DISABLE ? "INTx off" : "INTx on");
}

/* The device enabled, its memory BAR claimed and mapped, its interrupt line
 * and coherent DMA memory: all managed. */
static int devresdemo_take_device(struct pci_dev *pdev)
{
	struct net_device *ndev;
	void __iomem *regs;
	dma_addr_t dma;
	u8 mac[ETH_ALEN];
	u32 *coherent;
	const char *kind;
	unsigned int intx;
	int err, i, nvec, msix, msi;

	err = pcim_enable_device(pdev);
	if (err)
		return err;
	pci_set_master(pdev);
	err = pcim_iomap_regions(pdev, BIT(1), "devresdemo");
	if (err)
		return err;
	regs = pcim_iomap_table(pdev)[1];
	/* The RTL8139's first registers are its station address. */
	for (i = 0; i < ETH_ALEN; i++)
		mac[i] = ioread8(regs + i);
	pr_info("devresdemo: BAR 1 mapped, the station address %02x:%02x:%02x:%02x:%02x:%02x\n",
		mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
	/* Interrupt vectors (csrc/core/msi.c): MSI-X is never offered, MSI where
	 * DDEKit has it for the device, and the INTx line otherwise. QEMU's
	 * RTL8139 has neither capability, so Linux's answer to MSI-X or MSI alone
	 * is -EINVAL, and a driver that asks for any kind gets its INTx line.
	 * What happened is printed, whatever it was. */
	intx = pdev->irq;
	nvec = pci_alloc_irq_vectors(pdev, 1, 4, PCI_IRQ_ALL_TYPES);
	kind = nvec != 1 ? "none" : pdev->msi_enabled ? "an MSI vector" :
	       pci_irq_vector(pdev, 0) == intx ? "the INTx line" : "not the INTx line";
	pci_free_irq_vectors(pdev);
	msix = pci_alloc_irq_vectors(pdev, 1, 4, PCI_IRQ_MSIX);
	pci_free_irq_vectors(pdev);
	msi = pci_enable_msi(pdev);
	pr_info("devresdemo: interrupt vectors: %d of any kind (%s), MSI-X only %d, pci_enable_msi %d (%s), "
		"MSI vectors %d, MSI-X vectors %d\n", nvec, kind, msix, msi,
		msi ? "the INTx line kept" : pdev->irq != intx ? "MSI on" : "MSI on the INTx line's number",
		pci_msi_vec_count(pdev), pci_msix_vec_count(pdev));
	pci_disable_msi(pdev);
	if (pdev->irq != intx || pdev->msi_enabled)
		pr_info("devresdemo: MSI off, but not back on the INTx line\n");
	err = devm_request_irq(&pdev->dev, pdev->irq, devresdemo_irq, 0, "devresdemo", pdev);
	if (err)
		return err;
	coherent = dmam_alloc_coherent(&pdev->dev, 8192, &dma, GFP_KERNEL);
	if (!coherent)
		return -ENOMEM;
	for (i = 0; i < 8192 / 4 && !coherent[i]; i++)
		;
	pr_info("devresdemo: 8192 bytes of managed coherent memory at a DMA address, %s, %s\n",
		i == 8192 / 4 ? "zeroed" : "not zeroed", (dma & (PAGE_SIZE - 1)) ? "misaligned" : "page-aligned");
	/* Allocated, never registered: freed with the rest. */
	ndev = devm_alloc_etherdev(&pdev->dev, 64);
	if (!ndev)
		return -ENOMEM;
	pr_info("devresdemo: a managed network device, %s\n",
		netdev_priv(ndev) && ndev->reg_state == NETREG_UNINITIALIZED ? "not registered" : "in a wrong state");
	return 0;
}

struct devresdemo_async {
	struct completion done;
	struct task_struct *prober;
	size_t size;
	bool found, elsewhere;
};

static void devresdemo_fw_arrived(const struct firmware *fw, void *context)
{
	struct devresdemo_async *a = context;

	a->found = fw != NULL;
	a->size = fw ? fw->size : 0;
	a->elsewhere = current != a->prober;
	release_firmware(fw);
	complete(&a->done);
}

/* request_firmware_nowait(): the callback runs later, on another thread,
 * with the file or, for one the manifest does not name, with none. */
static int devresdemo_firmware_nowait(struct pci_dev *pdev)
{
	struct devresdemo_async there = { .prober = current }, absent = { .prober = current };
	int err;

	init_completion(&there.done);
	init_completion(&absent.done);
	err = request_firmware_nowait(THIS_MODULE, FW_ACTION_UEVENT, "resurgo/devresdemo.fw", &pdev->dev,
				      GFP_KERNEL, &there, devresdemo_fw_arrived);
	if (err)
		return err;
	err = request_firmware_nowait(THIS_MODULE, FW_ACTION_UEVENT, "resurgo/absent.fw", &pdev->dev,
				      GFP_KERNEL, &absent, devresdemo_fw_arrived);
	wait_for_completion(&there.done);
	if (err)
		return err;
	wait_for_completion(&absent.done);
	pr_info("devresdemo: firmware without waiting: %zu bytes %s, the absent file %s\n", there.size,
		there.found && there.elsewhere ? "on another thread" : "on the probing thread or not at all",
		absent.found ? "found" : "not found");
	return 0;
}

/* The file the manifest names is there, whole; one it does not name is not. */
static int devresdemo_firmware(struct pci_dev *pdev)
{
	const struct firmware *fw;
	size_t line;
	int err;

	err = request_firmware(&fw, "resurgo/devresdemo.fw", &pdev->dev);
	if (err)
		return err;
	for (line = 0; line < fw->size && fw->data[line] != '\n'; line++)
		;
	pr_info("devresdemo: firmware resurgo/devresdemo.fw: %zu bytes, crc32 %08x, \"%.*s\"\n", fw->size,
		crc32_le(~0, fw->data, fw->size) ^ ~0, (int)line, fw->data);
	release_firmware(fw);
	err = request_firmware(&fw, "resurgo/absent.fw", &pdev->dev);
	pr_info("devresdemo: firmware resurgo/absent.fw: error %d, %s\n", err, fw ? "a file" : "no file");
	if (!err)
		release_firmware(fw);
	return 0;
}

struct devresdemo_rcu {
	int value;
	struct rcu_head rcu;
};

static void devresdemo_rcu_done(struct rcu_head *head)
{
	struct devresdemo_rcu *r = container_of(head, struct devresdemo_rcu, rcu);

	pr_info("devresdemo: an RCU callback ran after a grace period (value %d, %s)\n", r->value,
		in_softirq() ? "bottom halves off" : "bottom halves on");
	kfree(r);
}

/* A callback and a kfree_rcu(), both done when rcu_barrier() returns. */
static int devresdemo_rcu(void)
{
	struct devresdemo_rcu *a = kzalloc(sizeof(*a), GFP_KERNEL), *b = kzalloc(sizeof(*b), GFP_KERNEL);

	if (!a || !b) {
		kfree(a);
		kfree(b);
		return -ENOMEM;
	}
	a->value = 42;
	call_rcu(&a->rcu, devresdemo_rcu_done);
	kfree_rcu(b, rcu);
	rcu_barrier();
	pr_info("devresdemo: rcu_barrier returned\n");
	return 0;
}

static struct semaphore devresdemo_sem;

static int devresdemo_thread_fn(void *data)
{
	int *rounds = data;

	pr_info("devresdemo: kernel thread %s runs\n", current->comm);
	msleep(20);
	up(&devresdemo_sem);
	while (!kthread_should_stop()) {
		WRITE_ONCE(*rounds, *rounds + 1);
		schedule_timeout_interruptible(1);
	}
	return 7;
}

/* A thread that runs until it is told to stop; its return value comes back.
 * It ups the semaphore once, which the probe waits for; a second wait times
 * out. */
static int devresdemo_kthread(void)
{
	struct task_struct *t;
	int rounds = 0, result, first, busy, second;

	sema_init(&devresdemo_sem, 0);
	t = kthread_run(devresdemo_thread_fn, &rounds, "devresdemo-%d", 1);
	if (IS_ERR(t))
		return PTR_ERR(t);
	first = down_timeout(&devresdemo_sem, HZ);
	busy = down_trylock(&devresdemo_sem);
	second = down_timeout(&devresdemo_sem, msecs_to_jiffies(20));
	pr_info("devresdemo: semaphore: down_timeout %d, down_trylock %d, down_timeout again %d\n", first, busy,
		second);
	while (READ_ONCE(rounds) < 3)
		msleep(5);
	result = kthread_stop(t);
	pr_info("devresdemo: kthread_stop returned %d after %s rounds\n", result,
		READ_ONCE(rounds) >= 3 ? "3 or more" : "fewer than 3");
	return 0;
}

struct devresdemo_rw {
	struct rw_semaphore sem;
	struct completion in;
	bool held, done;
};

static int devresdemo_writer_fn(void *data)
{
	struct devresdemo_rw *rw = data;

	down_write(&rw->sem);
	WRITE_ONCE(rw->held, true);
	complete(&rw->in);
	msleep(20);
	WRITE_ONCE(rw->done, true);
	up_write(&rw->sem);
	while (!kthread_should_stop())
		schedule_timeout_interruptible(1);
	return 0;
}

/* Linux's read-write semaphores: readers share, a writer waits for them
 * all, and a reader that comes while the writer holds it waits for it. */
static int devresdemo_rwsem(void)
{
	struct devresdemo_rw rw = {};
	struct task_struct *t;
	int second, writer_try;
	bool early, after;

	init_rwsem(&rw.sem);
	init_completion(&rw.in);
	down_read(&rw.sem);
	second = down_read_trylock(&rw.sem);
	writer_try = down_write_trylock(&rw.sem);
	t = kthread_run(devresdemo_writer_fn, &rw, "devresdemo-w");
	if (IS_ERR(t)) {
		up_read(&rw.sem);
		if (second)
			up_read(&rw.sem);
		return PTR_ERR(t);
	}
	msleep(20);
	early = READ_ONCE(rw.held);
	up_read(&rw.sem);
	if (second)
		up_read(&rw.sem);
	wait_for_completion(&rw.in);
	down_read(&rw.sem);
	after = READ_ONCE(rw.done);
	up_read(&rw.sem);
	kthread_stop(t);
	pr_info("devresdemo: rwsem: a second reader %s, a writer's trylock %d, the writer %s both readers, a reader %s the writer\n",
		second ? "shares it" : "is refused", writer_try, early ? "did not wait for" : "waited for",
		after ? "waited for" : "did not wait for");
	return 0;
}

/* Scatterlists over kmalloc'd buffers and over the two pages of an order-1
 * allocation: Linux's copies through its page iterator land in the right
 * places, the DMA mapping gives each entry its buffer's bus address, and a
 * table longer than a page of entries is chained. */
static int devresdemo_sg(struct pci_dev *pdev)
{
	struct scatterlist sg[2], *s;
	struct sg_table table;
	struct page *page;
	char *a, *b, *src, *back;
	dma_addr_t direct;
	size_t in, out;
	unsigned int mapped, walked = 0;
	bool ok;
	int i, err = -ENOMEM;

	a = kmalloc(3000, GFP_KERNEL);
	b = kmalloc(5000, GFP_KERNEL);
	src = kmalloc(8192, GFP_KERNEL);
	back = kzalloc(8192, GFP_KERNEL);
	page = alloc_pages(GFP_KERNEL | __GFP_ZERO, 1);
	if (!a || !b || !src || !back || !page)
		goto out;
	for (i = 0; i < 8192; i++)
		src[i] = (char)(i * 7 + 3);

	sg_init_table(sg, 2);
	sg_set_buf(&sg[0], a, 3000);
	sg_set_buf(&sg[1], b, 5000);
	in = sg_copy_from_buffer(sg, 2, src, 8000);
	out = sg_copy_to_buffer(sg, 2, back, 8000);
	ok = sg_virt(&sg[1]) == b && !memcmp(a, src, 3000) && !memcmp(b, src + 3000, 5000) &&
	     !memcmp(back, src, 8000);
	pr_info("devresdemo: a scatterlist of 2 buffers: %zu bytes copied in, %zu out, %s\n", in, out,
		ok ? "each buffer holds its part" : "the parts are wrong");

	direct = dma_map_single(&pdev->dev, b, 5000, DMA_TO_DEVICE);
	mapped = dma_map_sg(&pdev->dev, sg, 2, DMA_TO_DEVICE);
	ok = mapped == 2 && !dma_mapping_error(&pdev->dev, direct) && sg_dma_address(&sg[1]) == direct;
	for_each_sg(sg, s, mapped, i)
		ok = ok && sg_dma_address(s) && sg_dma_len(s) == s->length;
	pr_info("devresdemo: dma_map_sg mapped %u of 2 entries, %s\n", mapped,
		ok ? "each at its buffer's bus address" : "at wrong addresses");
	if (mapped)
		dma_unmap_sg(&pdev->dev, sg, 2, DMA_TO_DEVICE);
	if (!dma_mapping_error(&pdev->dev, direct))
		dma_unmap_single(&pdev->dev, direct, 5000, DMA_TO_DEVICE);

	/* The iterator steps from the head page to the tail with nth_page(). */
	sg_init_table(sg, 1);
	sg_set_page(&sg[0], page, 2 * PAGE_SIZE, 0);
	in = sg_copy_from_buffer(sg, 1, src, 8192);
	get_page(nth_page(page, 1));
	pr_info("devresdemo: an order-1 page through a scatterlist: %zu bytes, %s, the tail's reference counted on the head (%d)\n",
		in, !memcmp(page_address(page), src, 8192) &&
		page_address(nth_page(page, 1)) == page_address(page) + PAGE_SIZE ? "both pages filled" : "wrong pages",
		page_count(page));
	put_page(nth_page(page, 1));

	err = sg_alloc_table(&table, 300, GFP_KERNEL);
	if (err)
		goto out;
	for_each_sg(table.sgl, s, table.orig_nents, i)
		walked++;
	pr_info("devresdemo: a table of %u entries walked through its chain links: %u\n", table.orig_nents, walked);
	sg_free_table(&table);
out:
	if (page)
		__free_pages(page, 1);
	kfree(back);
	kfree(src);
	kfree(b);
	kfree(a);
	return err;
}

struct devresdemo_rearm {
	struct timer_list timer;
	int fired;
};

static void devresdemo_rearm_fn(struct timer_list *timer)
{
	struct devresdemo_rearm *r = from_timer(r, timer, timer);

	WRITE_ONCE(r->fired, r->fired + 1);
	mod_timer(timer, jiffies + 1);
}

/* A timer that re-arms itself from its callback stops for good at
 * timer_shutdown_sync(): later arming does nothing. */
static int devresdemo_timer_shutdown(void)
{
	struct devresdemo_rearm r = {};
	int at_shutdown, rearmed;

	timer_setup(&r.timer, devresdemo_rearm_fn, 0);
	mod_timer(&r.timer, jiffies + 1);
	while (READ_ONCE(r.fired) < 3)
		msleep(2);
	timer_shutdown_sync(&r.timer);
	at_shutdown = READ_ONCE(r.fired);
	rearmed = mod_timer(&r.timer, jiffies + 1);
	msleep(20);
	pr_info("devresdemo: a self-arming timer shut down: %s, mod_timer %d, pending %s\n",
		READ_ONCE(r.fired) == at_shutdown ? "it stopped" : "it ran on", rearmed,
		timer_pending(&r.timer) ? "yes" : "no");
	return 0;
}

/* Linux's lib/bitmap.c and lib/ratelimit.c, as drivers call them. */
static int devresdemo_library(void)
{
	unsigned long *a = bitmap_zalloc(100, GFP_KERNEL), *b = bitmap_zalloc(100, GFP_KERNEL);
	unsigned int start = 3, allowed = 0, in_a, in_b, in_both;
	bool subset;
	int i;

	if (!a || !b) {
		bitmap_free(a);
		bitmap_free(b);
		return -ENOMEM;
	}
	/* Lengths not known at compile time: the out-of-line __bitmap_*(). */
	bitmap_set(a, start, 70);
	bitmap_set(b, start + 60, 30);
	in_a = bitmap_weight(a, 100);
	in_b = bitmap_weight(b, 100);
	subset = bitmap_subset(b, a, 100);
	in_both = bitmap_and(a, a, b, 100) ? bitmap_weight(a, 100) : 0;
	pr_info("devresdemo: bitmaps: %u and %u bits set, %u in both, the second a subset of the first: %s\n",
		in_a, in_b, in_both, subset ? "yes" : "no");
	bitmap_free(a);
	bitmap_free(b);
	for (i = 0; i < 15; i++)
		allowed += net_ratelimit() ? 1 : 0;
	pr_info("devresdemo: net_ratelimit allowed %u of 15 at once\n", allowed);
	return 0;
}

struct devresdemo_tick {
	struct hrtimer timer;
	struct completion done;
	ktime_t started;
	int fired;
	bool hardirq;
};

static enum hrtimer_restart devresdemo_tick_fn(struct hrtimer *timer)
{
	struct devresdemo_tick *t = container_of(timer, struct devresdemo_tick, timer);

	t->hardirq = in_hardirq() && irqs_disabled();
	if (++t->fired == 5) {
		complete(&t->done);
		return HRTIMER_NORESTART;
	}
	hrtimer_forward_now(timer, ms_to_ktime(2));
	return HRTIMER_RESTART;
}

/* A periodic timer every 2 ms, five times; a far one cancelled. */
static int devresdemo_hrtimer(void)
{
	struct devresdemo_tick t = {};
	struct hrtimer far;
	s64 took, left;
	int idle, cancelled, again;

	init_completion(&t.done);
	hrtimer_init(&t.timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL);
	t.timer.function = devresdemo_tick_fn;
	t.started = ktime_get();
	hrtimer_start(&t.timer, ms_to_ktime(2), HRTIMER_MODE_REL);
	if (!wait_for_completion_timeout(&t.done, HZ)) {
		hrtimer_cancel(&t.timer);
		pr_info("devresdemo: the hrtimer fired %d times in a second\n", t.fired);
		return -ETIMEDOUT;
	}
	took = ktime_ms_delta(ktime_get(), t.started);
	/* The callback may still be returning: hrtimer_cancel() waits for it. */
	hrtimer_cancel(&t.timer);
	pr_info("devresdemo: an hrtimer fired %d times, every 2 ms: %s, in hard interrupt context: %s, active after: %s\n",
		t.fired, took >= 10 ? "10 ms or more" : "too early", t.hardirq ? "yes" : "no",
		hrtimer_active(&t.timer) ? "yes" : "no");

	hrtimer_init(&far, CLOCK_MONOTONIC, HRTIMER_MODE_REL_SOFT);
	far.function = devresdemo_tick_fn;
	idle = hrtimer_try_to_cancel(&far);
	hrtimer_start(&far, ms_to_ktime(10000), HRTIMER_MODE_REL_SOFT);
	left = ktime_ms_delta(hrtimer_get_remaining(&far), 0);
	cancelled = hrtimer_cancel(&far);
	again = hrtimer_cancel(&far);
	pr_info("devresdemo: a 10 s hrtimer: %s left, cancel %d then %d (an idle one %d)\n",
		left > 9000 && left <= 10000 ? "more than 9 s" : "a wrong time", cancelled, again, idle);
	return 0;
}

static int devresdemo_probe(struct pci_dev *pdev, const struct pci_device_id *ent)
{
	struct dma_pool *pool;
	dma_addr_t dma;
	char *name;
	void *block;
	int err;

	pr_info("devresdemo: probing %s\n", pci_name(pdev));
	err = devresdemo_firmware(pdev);
	if (err)
		return err;
	err = devresdemo_firmware_nowait(pdev);
	if (err)
		return err;
	err = devresdemo_rcu();
	if (err)
		return err;
	err = devresdemo_kthread();
	if (err)
		return err;
	err = devresdemo_rwsem();
	if (err)
		return err;
	err = devresdemo_sg(pdev);
	if (err)
		return err;
	err = devresdemo_hrtimer();
	if (err)
		return err;
	err = devresdemo_timer_shutdown();
	if (err)
		return err;
	err = devresdemo_library();
	if (err)
		return err;
	err = devm_add_action(&pdev->dev, devresdemo_check, pdev);
	if (err)
		return err;
	name = devm_kasprintf(&pdev->dev, GFP_KERNEL, "the first action (%s)", pci_name(pdev));
	if (!name)
		return -ENOMEM;
	err = devm_add_action(&pdev->dev, devresdemo_say, name);
	if (err)
		return err;
	pool = dmam_pool_create("devresdemo", &pdev->dev, 256, 16, 0);
	if (!pool)
		return -ENOMEM;
	block = dma_pool_zalloc(pool, GFP_KERNEL, &dma);
	if (!block)
		return -ENOMEM;
	pr_info("devresdemo: a pool block at %s DMA address, %s\n", dma ? "a" : "no",
		((unsigned long)block & 15) ? "misaligned" : "16-byte aligned");
	/* A pool destroyed with a block still out is a driver bug Linux reports. */
	dma_pool_free(pool, block, dma);
	err = devresdemo_take_device(pdev);
	if (err)
		return err;
	err = devm_add_action(&pdev->dev, devresdemo_say, "the second action");
	if (err)
		return err;
	pr_info("devresdemo: failing the probe with -EIO\n");
	return -EIO;
}

static void devresdemo_remove(struct pci_dev *pdev)
{
}

static struct pci_driver devresdemo_driver = {
	.name		= "devresdemo",
	.id_table	= devresdemo_pci_tbl,
	.probe		= devresdemo_probe,
	.remove		= devresdemo_remove,
};

module_pci_driver(devresdemo_driver);

MODULE_DESCRIPTION("Resurgo's test of managed resources, firmware, RCU callbacks, kernel threads, rwsems, scatterlists and timers: takes some at probe, then fails");
MODULE_LICENSE("GPL");
