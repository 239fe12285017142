"""`python -m cbslocal.store.migrations`: write sqlite_head.json after a change of the schema."""

import json

from cbslocal.store.migrations import SQLITE_HEAD, compiled_sqlite_head

SQLITE_HEAD.write_text(json.dumps(compiled_sqlite_head(), indent=1, ensure_ascii=False) + "\n")
print(f"wrote {SQLITE_HEAD}")
