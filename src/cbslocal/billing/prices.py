"""Quotes from the price table (defaults.toml [prices], config.Prices) and the Price objects the
API shows them in (cbs-behavior.md §4.4).

Amounts are exact decimals. A Price object shows each one twice, as the vendor does: a float
rounded to the fen (`OriginalPrice` …) and a high-precision string (`OriginalPriceHigh` …,
e.g. "0.042" beside 0.04). Prepaid quotes fill the Original/Discount fields, postpaid ones the
Unit fields with ChargeUnit HOUR; the other mode's fields are null.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Context, Decimal, localcontext

from cbslocal.config import Prices

PREPAID, POSTPAID = "PREPAID", "POSTPAID_BY_HOUR"
FEN = Decimal("0.01")
HIGH_PRECISION = Decimal("0.00000001")
# Wide enough for any quote a request can ask (counts and sizes up to 2^64, prices under 10^9
# with 8 places): the default 28 digits would make such a quote fail instead of being exact.
EXACT = Context(prec=80, rounding=ROUND_HALF_UP)
PRICE_FIELDS = ("OriginalPrice", "DiscountPrice", "OriginalPriceHigh", "DiscountPriceHigh",
                "UnitPrice", "UnitPriceDiscount", "UnitPriceHigh", "UnitPriceDiscountHigh",
                "ChargeUnit")


@dataclass(frozen=True)
class DiskQuote:
    """What `count` disks of one configuration cost: by the hour (postpaid) or for `period`
    months (prepaid), before and after the period's discount."""
    charge_type: str
    list_price: Decimal
    paid: Decimal

    @property
    def fen(self) -> int:
        """What is paid, in whole fen (prepaid: for the whole period; postpaid: for an hour)."""
        return whole_fen(self.paid)

    def as_price(self) -> dict:
        with localcontext(EXACT):
            return self._as_price()

    def _as_price(self) -> dict:
        price = dict.fromkeys(PRICE_FIELDS)
        if self.charge_type == PREPAID:
            price.update(OriginalPrice=to_fen(self.list_price), DiscountPrice=to_fen(self.paid),
                         OriginalPriceHigh=high(self.list_price), DiscountPriceHigh=high(self.paid))
        else:
            price.update(UnitPrice=to_fen(self.list_price), UnitPriceDiscount=to_fen(self.paid),
                         UnitPriceHigh=high(self.list_price),
                         UnitPriceDiscountHigh=high(self.paid), ChargeUnit="HOUR")
        return price


def quote_disks(prices: Prices, *, charge_type: str, disk_type: str, size: int, count: int = 1,
                throughput: int = 0, backup_points: int = 0, period: int = 1) -> DiskQuote:
    with localcontext(EXACT):
        return _quote_disks(prices, charge_type, disk_type, size, count, throughput,
                            backup_points, period)


def _quote_disks(prices: Prices, charge_type: str, disk_type: str, size: int, count: int,
                 throughput: int, backup_points: int, period: int) -> DiskQuote:
    disk = prices.disk_types[disk_type]
    if charge_type == PREPAID:
        one = (size * disk.gib_month + throughput * prices.throughput_mibps_month
               + backup_points * prices.backup_point_month) * period
        list_price = one * count
        paid = list_price * prices.period_discounts.get(period, 100) / 100
    else:
        one = (size * disk.gib_hour + throughput * prices.throughput_mibps_hour
               + backup_points * prices.backup_point_hour)
        list_price = paid = one * count
    return DiskQuote(charge_type, list_price, paid)


def to_fen(amount: Decimal) -> float:
    return float(amount.quantize(FEN, rounding=ROUND_HALF_UP))


def whole_fen(amount: Decimal) -> int:
    """What an amount costs in whole fen: the API's two-place price (to_fen) times 100."""
    with localcontext(EXACT):
        return int(amount.quantize(FEN, rounding=ROUND_HALF_UP).scaleb(2))


def high(amount: Decimal) -> str:
    """The amount to 8 decimal places, without trailing zeros: "0.042", "800"."""
    text = format(amount.quantize(HIGH_PRECISION, rounding=ROUND_HALF_UP), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
