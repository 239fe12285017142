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


# What a disk is billed for (a PrepayPrice's DetailPrices name them so).
DISK_SPACE, EXTRA_PERFORMANCE, BACKUP_QUOTA = "DiskSpace", "DiskExtraPerformance", "DiskBackupQuota"


def quote_disks(prices: Prices, *, charge_type: str, disk_type: str, size: int, count: int = 1,
                throughput: int = 0, backup_points: int = 0, period: int = 1) -> DiskQuote:
    parts = quote_parts(prices, charge_type=charge_type, disk_type=disk_type, size=size,
                        count=count, throughput=throughput, backup_points=backup_points,
                        period=period)
    return total(charge_type, parts.values())


def quote_parts(prices: Prices, *, charge_type: str, disk_type: str, size: int, count: int = 1,
                throughput: int = 0, backup_points: int = 0,
                period: int = 1) -> dict[str, DiskQuote]:
    """The quote of each thing the disks are billed for: their space, extra throughput and
    backup points."""
    with localcontext(EXACT):
        disk = prices.disk_types[disk_type]
        if charge_type == PREPAID:
            rates = {DISK_SPACE: disk.gib_month, EXTRA_PERFORMANCE: prices.throughput_mibps_month,
                     BACKUP_QUOTA: prices.backup_point_month}
            paid_share = Decimal(prices.period_discounts.get(period, 100)) / 100
        else:
            rates = {DISK_SPACE: disk.gib_hour, EXTRA_PERFORMANCE: prices.throughput_mibps_hour,
                     BACKUP_QUOTA: prices.backup_point_hour}
            period, paid_share = 1, Decimal(1)
        amounts = {DISK_SPACE: size, EXTRA_PERFORMANCE: throughput, BACKUP_QUOTA: backup_points}
        parts = {}
        for name, rate in rates.items():
            list_price = amounts[name] * rate * period * count
            parts[name] = DiskQuote(charge_type, list_price, list_price * paid_share)
        return parts


def total(charge_type: str, quotes) -> DiskQuote:
    """Several quotes of one charge type as one."""
    with localcontext(EXACT):
        quotes = list(quotes)
        return DiskQuote(charge_type, sum((q.list_price for q in quotes), Decimal(0)),
                         sum((q.paid for q in quotes), Decimal(0)))


def prepay_price(quote: DiskQuote, parts: dict[str, DiskQuote], titles: dict[str, str]) -> dict:
    """A PrepayPrice: the total as a Price, and a DetailPrice per thing billed (`titles`: their
    names as the console shows them). As the vendor's example, a detail shows its amounts to the
    fen only; extra throughput is listed only when there is some."""
    with localcontext(EXACT):
        details = []
        for name in (BACKUP_QUOTA, DISK_SPACE, EXTRA_PERFORMANCE):
            part = parts[name]
            if name == EXTRA_PERFORMANCE and not part.list_price:
                continue
            details.append({**dict.fromkeys(PRICE_FIELDS), "PriceName": name,
                            "PriceTitle": titles[name], "OriginalPrice": to_fen(part.list_price),
                            "DiscountPrice": to_fen(part.paid)})
        return {**quote.as_price(), "DetailPrices": details}


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
