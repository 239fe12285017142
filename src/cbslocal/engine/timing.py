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
