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
ACCOUNT_IN_ARREARS = detail(
    e.INVALID_ACCOUNT_INSUFFICIENT_BALANCE,
    "The account is in arrears (balance {balance} CNY); top it up first.",
    "账户已欠费（余额 {balance} 元），请先充值。")
