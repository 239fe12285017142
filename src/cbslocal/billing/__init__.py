"""Money: the price table's quotes (prices.py). Balances, orders, renewals, refunds and expiry
(issue 13) come to live here too, below the disk modules that call them; the actions that quote
(cbs/price_inquiries.py) are the disk domain's."""
