/*
 * The generic MII library: link state, autonegotiation results and ethtool
 * link settings for drivers whose PHY is reached through mdio_read and
 * mdio_write callbacks (clause 22 registers: BMCR, BMSR, ADVERTISE, LPA and
 * the 1000BASE-T control/status pair).
 */
#include <linux/ethtool.h>
#include <linux/mii.h>
#include <linux/netdevice.h>

#define ETH_MDIO_SUPPORTS_C22 1

static int mdio_read(struct mii_if_info *mii, int reg) { return mii->mdio_read(mii->dev, mii->phy_id, reg); }
static void mdio_write(struct mii_if_info *mii, int reg, int val) { mii->mdio_write(mii->dev, mii->phy_id, reg, val); }

/* An ADVERTISE or LPA register as ethtool ADVERTISED_ bits. */
static u32 mii_get_an(struct mii_if_info *mii, int reg)
{
    int advert = mdio_read(mii, reg);

    return mii_lpa_to_ethtool_lpa_t((u32)advert);
}

/* What the PHY does now, in legacy ethtool terms. */
struct link_state {
    u32 supported, advertising, lp_advertising;
    u32 speed;
    u8 duplex, autoneg;
};

static void read_link_state(struct mii_if_info *mii, struct link_state *s)
{
    u16 bmcr, bmsr, ctrl1000 = 0, stat1000 = 0;

    s->supported = SUPPORTED_10baseT_Half | SUPPORTED_10baseT_Full | SUPPORTED_100baseT_Half |
                   SUPPORTED_100baseT_Full | SUPPORTED_Autoneg | SUPPORTED_TP | SUPPORTED_MII;
    if (mii->supports_gmii)
        s->supported |= SUPPORTED_1000baseT_Half | SUPPORTED_1000baseT_Full;
    s->advertising = ADVERTISED_TP | ADVERTISED_MII;
    s->lp_advertising = 0;

    bmcr = (u16)mdio_read(mii, MII_BMCR);
    bmsr = (u16)mdio_read(mii, MII_BMSR);
    if (mii->supports_gmii) {
        ctrl1000 = (u16)mdio_read(mii, MII_CTRL1000);
        stat1000 = (u16)mdio_read(mii, MII_STAT1000);
    }
    if (bmcr & BMCR_ANENABLE) {
        u32 nego;

        s->advertising |= ADVERTISED_Autoneg;
        s->autoneg = AUTONEG_ENABLE;
        s->advertising |= mii_get_an(mii, MII_ADVERTISE);
        if (mii->supports_gmii)
            s->advertising |= mii_ctrl1000_to_ethtool_adv_t(ctrl1000);
        if (bmsr & BMSR_ANEGCOMPLETE) {
            s->lp_advertising = mii_get_an(mii, MII_LPA);
            s->lp_advertising |= mii_stat1000_to_ethtool_lpa_t(stat1000);
        }
        nego = s->advertising & s->lp_advertising;
        if (nego & (ADVERTISED_1000baseT_Full | ADVERTISED_1000baseT_Half)) {
            s->speed = SPEED_1000;
            s->duplex = !!(nego & ADVERTISED_1000baseT_Full);
        } else if (nego & (ADVERTISED_100baseT_Full | ADVERTISED_100baseT_Half)) {
            s->speed = SPEED_100;
            s->duplex = !!(nego & ADVERTISED_100baseT_Full);
        } else {
            s->speed = SPEED_10;
            s->duplex = !!(nego & ADVERTISED_10baseT_Full);
        }
    } else {
        s->autoneg = AUTONEG_DISABLE;
        s->speed = ((bmcr & BMCR_SPEED1000 && (bmcr & BMCR_SPEED100) == 0) ? SPEED_1000
                    : (bmcr & BMCR_SPEED100)                                ? SPEED_100
                                                                            : SPEED_10);
        s->duplex = (bmcr & BMCR_FULLDPLX) ? DUPLEX_FULL : DUPLEX_HALF;
    }
    mii->full_duplex = s->duplex;
}

void mii_ethtool_gset(struct mii_if_info *mii, struct ethtool_cmd *ecmd)
{
    struct link_state s;

    read_link_state(mii, &s);
    ecmd->supported = s.supported;
    ecmd->port = PORT_MII;
    ecmd->transceiver = XCVR_INTERNAL;
    ecmd->phy_address = (u8)mii->phy_id;
    ecmd->mdio_support = ETH_MDIO_SUPPORTS_C22;
    ecmd->advertising = s.advertising;
    ecmd->lp_advertising = s.lp_advertising;
    ecmd->autoneg = s.autoneg;
    ethtool_cmd_speed_set(ecmd, s.speed);
    ecmd->duplex = s.duplex;
}

void mii_ethtool_get_link_ksettings(struct mii_if_info *mii, struct ethtool_link_ksettings *cmd)
{
    struct link_state s;

    read_link_state(mii, &s);
    cmd->base.port = PORT_MII;
    cmd->base.phy_address = (u8)mii->phy_id;
    cmd->base.mdio_support = ETH_MDIO_SUPPORTS_C22;
    cmd->base.autoneg = s.autoneg;
    cmd->base.speed = s.speed;
    cmd->base.duplex = s.duplex;
    ethtool_convert_legacy_u32_to_link_mode(cmd->link_modes.supported, s.supported);
    ethtool_convert_legacy_u32_to_link_mode(cmd->link_modes.advertising, s.advertising);
    ethtool_convert_legacy_u32_to_link_mode(cmd->link_modes.lp_advertising, s.lp_advertising);
}

/* Applies link settings: autonegotiation with the given advertisement, or
 * forced speed and duplex. */
static int set_link(struct mii_if_info *mii, u32 speed, u8 duplex, u8 port, u8 phy_address, u8 autoneg,
                    u32 advertising)
{
    if (speed != SPEED_10 && speed != SPEED_100 && speed != SPEED_1000)
        return -EINVAL;
    if (duplex != DUPLEX_HALF && duplex != DUPLEX_FULL)
        return -EINVAL;
    if (port != PORT_MII)
        return -EINVAL;
    if (phy_address != mii->phy_id)
        return -EINVAL;
    if (autoneg != AUTONEG_DISABLE && autoneg != AUTONEG_ENABLE)
        return -EINVAL;
    if (speed == SPEED_1000 && !mii->supports_gmii)
        return -EINVAL;

    if (autoneg == AUTONEG_ENABLE) {
        u32 bmcr, advert, tmp, advert2 = 0, tmp2 = 0;

        if ((advertising & (ADVERTISED_10baseT_Half | ADVERTISED_10baseT_Full | ADVERTISED_100baseT_Half |
                            ADVERTISED_100baseT_Full | ADVERTISED_1000baseT_Half | ADVERTISED_1000baseT_Full)) == 0)
            return -EINVAL;
        advert = (u32)mdio_read(mii, MII_ADVERTISE);
        tmp = advert & ~(ADVERTISE_ALL | ADVERTISE_100BASE4);
        tmp |= ethtool_adv_to_mii_adv_t(advertising);
        if (mii->supports_gmii) {
            advert2 = (u32)mdio_read(mii, MII_CTRL1000);
            tmp2 = advert2 & ~(ADVERTISE_1000HALF | ADVERTISE_1000FULL);
            tmp2 |= ethtool_adv_to_mii_ctrl1000_t(advertising);
        }
        if (advert != tmp) {
            mdio_write(mii, MII_ADVERTISE, (int)tmp);
            mii->advertising = (int)tmp;
        }
        if (mii->supports_gmii && advert2 != tmp2)
            mdio_write(mii, MII_CTRL1000, (int)tmp2);
        /* Restart autonegotiation with the new advertisement. */
        bmcr = (u32)mdio_read(mii, MII_BMCR);
        bmcr |= (BMCR_ANENABLE | BMCR_ANRESTART);
        mdio_write(mii, MII_BMCR, (int)bmcr);
        mii->force_media = 0;
    } else {
        u32 bmcr, tmp;

        bmcr = (u32)mdio_read(mii, MII_BMCR);
        tmp = bmcr & ~(BMCR_ANENABLE | BMCR_SPEED100 | BMCR_SPEED1000 | BMCR_FULLDPLX);
        if (speed == SPEED_1000)
            tmp |= BMCR_SPEED1000;
        else if (speed == SPEED_100)
            tmp |= BMCR_SPEED100;
        if (duplex == DUPLEX_FULL) {
            tmp |= BMCR_FULLDPLX;
            mii->full_duplex = 1;
        } else {
            mii->full_duplex = 0;
        }
        if (bmcr != tmp)
            mdio_write(mii, MII_BMCR, (int)tmp);
        mii->force_media = 1;
    }
    return 0;
}

int mii_ethtool_sset(struct mii_if_info *mii, struct ethtool_cmd *ecmd)
{
    if (ecmd->transceiver != XCVR_INTERNAL)
        return -EINVAL;
    return set_link(mii, ethtool_cmd_speed(ecmd), ecmd->duplex, ecmd->port, ecmd->phy_address, ecmd->autoneg,
                    ecmd->advertising);
}

int mii_ethtool_set_link_ksettings(struct mii_if_info *mii, const struct ethtool_link_ksettings *cmd)
{
    u32 advertising;

    ethtool_convert_link_mode_to_legacy_u32(&advertising, cmd->link_modes.advertising);
    return set_link(mii, cmd->base.speed, cmd->base.duplex, cmd->base.port, cmd->base.phy_address,
                    cmd->base.autoneg, advertising);
}

int mii_check_gmii_support(struct mii_if_info *mii)
{
    int reg = mdio_read(mii, MII_BMSR);

    if (reg & BMSR_ESTATEN) {
        reg = mdio_read(mii, MII_ESTATUS);
        if (reg & (ESTATUS_1000_TFULL | ESTATUS_1000_THALF))
            return 1;
    }
    return 0;
}

/* BMSR latches link failures: the first read reports a past loss, the
 * second the present state. */
int mii_link_ok(struct mii_if_info *mii)
{
    mdio_read(mii, MII_BMSR);
    if (mdio_read(mii, MII_BMSR) & BMSR_LSTATUS)
        return 1;
    return 0;
}

int mii_nway_restart(struct mii_if_info *mii)
{
    int bmcr = mdio_read(mii, MII_BMCR);

    if (!(bmcr & BMCR_ANENABLE))
        return -EINVAL;
    mdio_write(mii, MII_BMCR, bmcr | BMCR_ANRESTART);
    return 0;
}

void mii_check_link(struct mii_if_info *mii)
{
    int cur_link = mii_link_ok(mii);
    int prev_link = netif_carrier_ok(mii->dev);

    if (cur_link && !prev_link)
        netif_carrier_on(mii->dev);
    else if (prev_link && !cur_link)
        netif_carrier_off(mii->dev);
}

/* Updates the carrier from the PHY; returns 1 when the duplex changed (or on
 * init_media with the link up), so the driver reprograms its MAC. */
unsigned int mii_check_media(struct mii_if_info *mii, unsigned int ok_to_print, unsigned int init_media)
{
    unsigned int old_carrier, new_carrier;
    int advertise, lpa, media, duplex;
    int lpa2 = 0;

    if (mii->force_media)
        return 0;
    old_carrier = netif_carrier_ok(mii->dev) ? 1 : 0;
    new_carrier = (unsigned int)mii_link_ok(mii);
    if (!init_media && old_carrier == new_carrier)
        return 0;
    if (!new_carrier) {
        netif_carrier_off(mii->dev);
        if (ok_to_print)
            netdev_info(mii->dev, "link down\n");
        return 0;
    }
    netif_carrier_on(mii->dev);

    advertise = mii->advertising;
    if (!advertise) {
        advertise = mdio_read(mii, MII_ADVERTISE);
        mii->advertising = advertise;
    }
    lpa = mdio_read(mii, MII_LPA);
    if (mii->supports_gmii)
        lpa2 = mdio_read(mii, MII_STAT1000);

    media = (int)mii_nway_result((unsigned int)(lpa & advertise));
    duplex = (media & ADVERTISE_FULL) ? 1 : 0;
    if (lpa2 & LPA_1000FULL)
        duplex = 1;
    if (ok_to_print)
        netdev_info(mii->dev, "link up, %uMbps, %s-duplex, lpa 0x%04X\n",
                    lpa2 & (LPA_1000FULL | LPA_1000HALF)         ? 1000
                    : media & (ADVERTISE_100FULL | ADVERTISE_100HALF) ? 100
                                                                      : 10,
                    duplex ? "full" : "half", lpa);
    if (init_media || mii->full_duplex != (unsigned int)duplex) {
        mii->full_duplex = (unsigned int)duplex;
        return 1;
    }
    return 0;
}

int generic_mii_ioctl(struct mii_if_info *mii_if, struct mii_ioctl_data *mii_data, int cmd,
                      unsigned int *duplex_chg_out)
{
    int rc = 0;
    unsigned int duplex_changed = 0;

    if (duplex_chg_out)
        *duplex_chg_out = 0;
    mii_data->phy_id &= (u16)mii_if->phy_id_mask;
    mii_data->reg_num &= (u16)mii_if->reg_num_mask;

    switch (cmd) {
    case SIOCGMIIPHY:
        mii_data->phy_id = (u16)mii_if->phy_id;
        fallthrough;
    case SIOCGMIIREG:
        mii_data->val_out = (u16)mii_if->mdio_read(mii_if->dev, mii_data->phy_id, mii_data->reg_num);
        break;
    case SIOCSMIIREG: {
        u16 val = mii_data->val_in;

        if (mii_data->phy_id == mii_if->phy_id) {
            switch (mii_data->reg_num) {
            case MII_BMCR: {
                unsigned int new_duplex = 0;

                mii_if->force_media = (val & (BMCR_RESET | BMCR_ANENABLE)) ? 0 : 1;
                if (mii_if->force_media && (val & BMCR_FULLDPLX))
                    new_duplex = 1;
                if (mii_if->full_duplex != new_duplex) {
                    duplex_changed = 1;
                    mii_if->full_duplex = new_duplex;
                }
                break;
            }
            case MII_ADVERTISE:
                mii_if->advertising = val;
                break;
            default:
                break;
            }
        }
        mii_if->mdio_write(mii_if->dev, mii_data->phy_id, mii_data->reg_num, val);
        break;
    }
    default:
        rc = -EOPNOTSUPP;
        break;
    }
    if (rc == 0 && duplex_chg_out && duplex_changed)
        *duplex_chg_out = duplex_changed;
    return rc;
}
