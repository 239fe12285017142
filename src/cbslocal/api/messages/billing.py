"""Messages of the billing area (see api/messages/__init__.py)."""

from __future__ import annotations

from cbslocal.api import errors as e
from cbslocal.api.errors import detail

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
REFUND_QUOTA_USED = detail(
    e.INSUFFICIENT_REFUND_QUOTA,
    "The account has used {used} of its {quota} refunds of the last 365 days.",
    "账号近 365 天内已退还 {used} 次，已达退还配额 {quota} 次。")
ACCOUNT_IN_ARREARS = detail(
    e.INVALID_ACCOUNT_INSUFFICIENT_BALANCE,
    "The account is in arrears (balance {balance} CNY); top it up first.",
    "账户已欠费（余额 {balance} 元），请先充值。")
