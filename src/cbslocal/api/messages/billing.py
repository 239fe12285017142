"""Messages of the billing area (see api/messages/__init__.py)."""

from __future__ import annotations

from cbslocal.api import errors as e
from cbslocal.api.errors import detail

# --- words the API shows in the caller's language (not errors) -----------------------------------
# DetailPrice.PriceTitle of each thing a disk is billed for (billing/prices.py names them).
PRICE_TITLES = {
    e.ZH_CN: {"DiskSpace": "云硬盘空间", "DiskBackupQuota": "云硬盘备份点配额",
              "DiskExtraPerformance": "云硬盘额外性能"},
    e.EN_US: {"DiskSpace": "Cloud disk space", "DiskBackupQuota": "Cloud disk backup point quota",
              "DiskExtraPerformance": "Cloud disk extra performance"},
}

PAYMENT_NOT_ALLOWED_ACCOUNT = detail(
    e.UNAUTHORIZED_OPERATION, "The account {account_id} has no payment permission.",
    "账号 {account_id} 没有支付权限。")
PAYMENT_NOT_ALLOWED_KEY = detail(
    e.UNAUTHORIZED_OPERATION, "The key {secret_id} has no payment permission.",
    "密钥 {secret_id} 没有支付权限。")
BALANCE_INSUFFICIENT = detail(
    e.INVALID_ACCOUNT_INSUFFICIENT_BALANCE,
    "The balance ({balance} CNY) does not cover the price ({price} CNY).",
    "账户余额（{balance} 元）不足以支付本次费用（{price} 元）。")
POSTPAID_DISK_NOT_RENEWABLE = detail(
    e.INVALID_DISK_NOT_SUPPORTED,
    "The disk {disk_id} is pay-as-you-go; only prepaid disks are renewed.",
    "云硬盘 {disk_id} 为按量计费，仅包年包月云硬盘支持续费。")
POSTPAID_DISK_HAS_NO_RENEW_FLAG = POSTPAID_DISK_NOT_RENEWABLE.under(e.INVALID_PARAMETER_VALUE)
RENEWAL_SPANS_BOTH = detail(
    e.INVALID_PARAMETER_VALUE, "Give `DiskChargePrepaids` or `NewDeadline`, not both.",
    "参数 `DiskChargePrepaids` 与 `NewDeadline` 只能指定其一。")
RENEWAL_SPANS_PER_DISK = detail(
    e.INVALID_PARAMETER_VALUE,
    "`DiskChargePrepaids` has {spans} entries; it needs one per disk of `DiskIds` ({disks}).",
    "参数 `DiskChargePrepaids` 有 {spans} 项，应与 `DiskIds` 一一对应（{disks} 项）。")
NEW_DEADLINE_OUT_OF_RANGE = detail(
    e.INVALID_PARAMETER_VALUE,
    "`NewDeadline` must be after the disk {disk_id}'s deadline ({deadline}) and at most {most} "
    "months past it.",
    "参数 `NewDeadline` 须晚于云硬盘 {disk_id} 的到期时间（{deadline}），且不超过其后 {most} 个月。")
DISK_ID_OR_IDS = detail(
    e.INVALID_PARAMETER_VALUE, "Give `DiskId` or `DiskIds`, not both.",
    "参数 `DiskId` 与 `DiskIds` 只能指定其一。")
DISK_SIZE_BELOW_CURRENT = detail(
    e.INVALID_PARAMETER_VALUE,
    "`DiskSize` must not be smaller than the disk {disk_id}'s {size} GiB.",
    "参数 `DiskSize` 不能小于云硬盘 {disk_id} 当前的 {size} GiB。")
CHARGE_TYPE_CHOICE = detail(
    e.INVALID_PARAMETER,
    "Give either `DiskChargePrepaid` (to prepaid) or `DiskChargePostpaid` `true` (to postpaid).",
    "请指定 `DiskChargePrepaid`（转包年包月）或将 `DiskChargePostpaid` 设为 `true`（转按量计费），二者选一。")
DISK_ALREADY_CHARGED_SO = detail(
    e.INVALID_DISK_NOT_SUPPORTED, "The disk {disk_id} is {charge_type} already.",
    "云硬盘 {disk_id} 已是 {charge_type} 计费模式。")
ORDER_PENDING = detail(
    e.TRADE_DEAL_CONFLICT,
    "An order on the disk {disk_id} is still being settled (until {until}); try again then.",
    "云硬盘 {disk_id} 有尚未完成的订单（{until} 完成），请稍后重试。")
REFUND_QUOTA_USED = detail(
    e.INSUFFICIENT_REFUND_QUOTA,
    "The account has used {used} of its {quota} refunds of the last 365 days.",
    "账号近 365 天内已退还 {used} 次，已达退还配额 {quota} 次。")
ACCOUNT_IN_ARREARS = detail(
    e.INVALID_ACCOUNT_INSUFFICIENT_BALANCE,
    "The account is in arrears (balance {balance} CNY); top it up first.",
    "账户已欠费（余额 {balance} 元），请先充值。")
