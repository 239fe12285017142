"""cbslocal: a local emulator of Tencent Cloud Block Storage (CBS, API 2017-03-12)."""

__version__ = "0.1.0"
