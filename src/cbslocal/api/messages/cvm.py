"""Messages of the cvm area (see api/messages/__init__.py)."""

from __future__ import annotations

from cbslocal.api import errors as e
from cbslocal.api.errors import detail
