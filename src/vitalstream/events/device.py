"""Device gateway: the combined device message on ``device_data`` (bridged from MQTT, key ``deviceId``).

``{"deviceId", "timestamp" (epoch s), "heartRate", "systolic", "diastolic",
"oxygenSaturation", "bodyTemperature" (°F), "latitude"?, "longitude"?}``. The gateway's Avro
schema requires the location, but its own test message omitted it; we accept absence (both
or neither: a lone coordinate is rejected).
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from .canonical import Vital
from .ids import uuid5_many
from .physiology import (
    Diastolic,
    EpochSeconds,
    HeartRate,
    Latitude,
    Longitude,
    NonEmpty,
    SpO2,
    Systolic,
    TemperatureF,
    check_pressure,
    f_to_c,
    from_epoch,
)


class DeviceReading(msgspec.Struct, frozen=True, kw_only=True, rename="camel", omit_defaults=True, gc=False):
    """Avro record ``com.example.HealthData`` (see :mod:`vitalstream.events.avro`)."""

    device_id: NonEmpty
    timestamp: EpochSeconds
    heart_rate: HeartRate
    systolic: Systolic
    diastolic: Diastolic
    oxygen_saturation: SpO2
    body_temperature: TemperatureF
    latitude: Latitude | None = None
    longitude: Longitude | None = None

    def __post_init__(self) -> None:
        check_pressure(self.systolic, self.diastolic)
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError("latitude: latitude and longitude come together or not at all")


def to_vitals(topic: str, events: Sequence[DeviceReading]) -> list[Vital]:
    """One Vital per event, in order (the ids of a run are computed together)."""
    temperatures = []
    for event in events:
        fahrenheit = event.body_temperature
        temperature = _TEMPERATURES.get(fahrenheit)
        if temperature is None or type(fahrenheit) is not float:
            temperature = _temperature(fahrenheit)
        temperatures.append(temperature)
    ids = uuid5_many([
        f"{topic}\x1f{event.device_id}\x1f{event.timestamp * 1000}\x1f{event.heart_rate}"
        f"\x1f{event.systolic}\x1f{event.diastolic}\x1f{event.oxygen_saturation}"
        f"\x1f{fahrenheit_text}"
        for event, (_, fahrenheit_text) in zip(events, temperatures, strict=True)
    ])
    return [
        Vital(
            event_id=event_id,
            patient_id=event.device_id,
            source="device",
            event_time=from_epoch(event.timestamp),
            heart_rate=event.heart_rate,
            spo2=event.oxygen_saturation,
            systolic=event.systolic,
            diastolic=event.diastolic,
            temperature_c=temperature_c,
            device_id=event.device_id,
            latitude=event.latitude,
            longitude=event.longitude,
        )
        for event, (temperature_c, _), event_id in zip(events, temperatures, ids, strict=True)
    ]


# °F as sent -> (°C, its text in the event id): a gateway sends a few distinct readings, and
# rounding and float-to-text each cost more than the dict lookup. Floats only (the decoder
# gives floats): an int 98 would equal 98.0 as a key but reads "98" in the id.
_TEMPERATURES: dict[float, tuple[float, str]] = {}


def _temperature(fahrenheit: float) -> tuple[float, str]:
    value = (f_to_c(fahrenheit), str(fahrenheit))
    if type(fahrenheit) is float:
        if len(_TEMPERATURES) >= 4096:
            _TEMPERATURES.clear()
        _TEMPERATURES[fahrenheit] = value
    return value
