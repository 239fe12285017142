"""Error-code coverage: every seed code must be answered by some e2e test's server under its real
condition — not through a fault rule — except the codes that only a broken backend produces
(cbs-behavior.md §7.3), which count when a fault provokes them. A code that no implemented
behaviour can produce yet is listed in PENDING with what it waits for; once a test provokes it,
it must leave the list (the check fails on a stale entry too)."""

from __future__ import annotations

# Answered only through fault rules (cbs-behavior.md §7.3; ResourceNotFound and
# ResourceUnavailable belong to the disk-backup actions, which cbslocal does not implement — but
# for CreateSnapshot's DiskBackupId, which names a backup point that cannot exist).
FAULT_ONLY = frozenset({
    "InternalError", "InternalError.ComponentError", "InternalError.FailQueryResource",
    "InternalError.ResourceOpFailed", "FailedOperation", "DryRunOperation",
    "ResourceNotFound", "ResourceUnavailable",
})

_IDENTITY = "identity and access: CAM policies, MFA (issue 14)"

PENDING: dict[str, str] = {
    "AuthFailure.MFAFailure": _IDENTITY,
    "AuthFailure.UnauthorizedOperation": _IDENTITY,
}
