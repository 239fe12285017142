"""Timing profiles: how long each asynchronous move takes on the emulator's clock."""

from __future__ import annotations

from dataclasses import dataclass, field

# Durations in seconds, per transition kind (cbs-behavior.md §5.1, recommended timings).
REALISTIC = {
    "disk.create": 2.0,
    "disk.attach": 1.5,
    "disk.detach": 1.5,
    "disk.resize": 2.0,
    "disk.migrate": 4.0,
    "instance.launch": 3.0,
    "instance.start": 1.5,
    "instance.stop": 1.5,
    "instance.reboot": 1.5,
    "instance.terminate": 1.5,
    "snapshot.create": 3.0,
    "snapshot.rollback": 3.0,
    "snapshot.copy": 4.0,       # COPYING_FROM_REMOTE in the destination region
    "snapshot.check": 1.0,      # then CHECKING_COPIED
    "image.create": 3.0,        # a custom image (CVM CreateImage) is CREATING
}


@dataclass(frozen=True)
class TimingProfile:
    name: str
    durations: dict[str, float] = field(default_factory=dict)

    def duration(self, kind: str) -> float:
        return self.durations.get(kind, 0.0)


PROFILES = {
    "instant": TimingProfile("instant", {}),
    "realistic": TimingProfile("realistic", dict(REALISTIC)),
}


def profile_named(name: str) -> TimingProfile:
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown timing profile {name!r}; use one of {sorted(PROFILES)}") from None


KINDS = frozenset(REALISTIC)  # every kind of move that takes time
MAX_DURATION = 7 * 86400.0


def with_durations(base: TimingProfile, durations: dict[str, float]) -> TimingProfile:
    """`base` with some moves' durations replaced. Raises ValueError naming a bad kind or value."""
    for kind, seconds in durations.items():
        if kind not in KINDS:
            raise ValueError(f"unknown transition {kind!r}; known: {sorted(KINDS)}")
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) \
                or not 0 <= seconds <= MAX_DURATION:
            raise ValueError(f"the duration of {kind!r} must be 0 to {MAX_DURATION:g} seconds")
    merged = {**base.durations, **{k: float(v) for k, v in durations.items()}}
    name = base.name if merged == base.durations else "custom"
    return TimingProfile(name, merged)
