"""Deterministic, physiologically plausible simulators for the five sources.

    sim = make("vitals", patients=50, seed=7)
    for msg in sim.reference(): producer.send(msg.topic, msg.value, key=msg.key)
    for msg in itertools.islice(sim.events(), 10_000): ...

Profiles: ``vitals`` (smartwatch vitals), ``device`` (device gateway), ``notes`` (clinical
notes), ``heart-rate`` (heart-rate stream), ``smartwatch`` (smartwatch events). Every message decodes with :func:`vitalstream.events.decode`.
"""

from __future__ import annotations

from typing import Any

from ..errors import ConfigError
from .base import DEFAULT_START, Outgoing, Simulator
from .device import DeviceSimulator
from .heartrate import HeartRateSimulator
from .notes import NotesSimulator
from .smartwatch import SmartwatchSimulator
from .vitals import VitalsSimulator

__all__ = ["DEFAULT_START", "PROFILES", "Outgoing", "Simulator", "make"]

PROFILES: dict[str, type[Simulator]] = {
    "vitals": VitalsSimulator,
    "device": DeviceSimulator,
    "notes": NotesSimulator,
    "heart-rate": HeartRateSimulator,
    "smartwatch": SmartwatchSimulator,
}


def make(profile: str, **kw: Any) -> Simulator:
    """Build the simulator for ``profile`` (one of :data:`PROFILES`)."""
    try:
        cls = PROFILES[profile]
    except KeyError:
        raise ConfigError(
            f"unknown simulator profile {profile!r}; choose from {', '.join(PROFILES)}"
        ) from None
    return cls(**kw)
