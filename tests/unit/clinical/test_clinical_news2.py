"""NEWS2 (RCP 2017): every boundary of the chart, both SpO2 scales, bands, partial scores."""

from __future__ import annotations

import pytest

from vitalstream.clinical import news2

# (value, expected subscore) either side of every boundary, plus the extremes.
RESPIRATION = [(4, 3), (8, 3), (9, 1), (11, 1), (12, 0), (20, 0), (21, 2), (24, 2), (25, 3), (40, 3)]
SPO2_SCALE1 = [(70, 3), (91, 3), (92, 2), (93, 2), (94, 1), (95, 1), (96, 0), (100, 0)]
SYSTOLIC = [(60, 3), (90, 3), (91, 2), (100, 2), (101, 1), (110, 1), (111, 0), (219, 0),
            (220, 3), (260, 3)]
PULSE = [(30, 3), (40, 3), (41, 1), (50, 1), (51, 0), (90, 0), (91, 1), (110, 1), (111, 2),
         (130, 2), (131, 3), (200, 3)]
TEMPERATURE = [(33.0, 3), (35.0, 3), (35.1, 1), (36.0, 1), (36.1, 0), (38.0, 0), (38.1, 1),
               (39.0, 1), (39.1, 2), (41.5, 2)]
# Scale 2: (spo2, on_oxygen, expected). Below 93 the score does not depend on oxygen.
SPO2_SCALE2 = [
    *[(s, o2, 3) for s in (70, 83) for o2 in (False, True)],
    *[(s, o2, 2) for s in (84, 85) for o2 in (False, True)],
    *[(s, o2, 1) for s in (86, 87) for o2 in (False, True)],
    *[(s, o2, 0) for s in (88, 90, 92) for o2 in (False, True)],
    (93, False, 0), (96, False, 0), (97, False, 0), (100, False, 0),
    (93, True, 1), (94, True, 1), (95, True, 2), (96, True, 2), (97, True, 3), (100, True, 3),
]


@pytest.mark.parametrize(("rate", "expected"), RESPIRATION)
def test_respiration_rate(rate: int, expected: int) -> None:
    assert news2.respiration_score(rate) == expected
    assert news2.score({"respiratory_rate": rate}).subscores == {"respiratory_rate": expected}


@pytest.mark.parametrize(("spo2", "expected"), SPO2_SCALE1)
@pytest.mark.parametrize("on_oxygen", [False, True])
def test_spo2_scale1_ignores_oxygen_for_the_saturation_row(
    spo2: int, expected: int, on_oxygen: bool
) -> None:
    assert news2.spo2_scale1_score(spo2) == expected
    result = news2.score({"spo2": spo2, "on_oxygen": on_oxygen}, scale=1)
    assert result.subscores == {"spo2": expected, "on_oxygen": 2 if on_oxygen else 0}


@pytest.mark.parametrize(("spo2", "on_oxygen", "expected"), SPO2_SCALE2)
def test_spo2_scale2(spo2: int, on_oxygen: bool, expected: int) -> None:
    assert news2.spo2_scale2_score(spo2, on_oxygen) == expected
    result = news2.score({"spo2": spo2, "on_oxygen": on_oxygen}, scale=2)
    assert result.subscores["spo2"] == expected
    assert result.subscores["on_oxygen"] == (2 if on_oxygen else 0)


def test_scale2_with_unknown_oxygen_scores_as_air_and_says_so() -> None:
    result = news2.score({"spo2": 97}, scale=2)
    assert result.subscores == {"spo2": 0}
    assert "on_oxygen" in result.missing and result.partial


@pytest.mark.parametrize(("on_oxygen", "expected"), [(False, 0), (True, 2)])
def test_air_or_oxygen(on_oxygen: bool, expected: int) -> None:
    assert news2.air_or_oxygen_score(on_oxygen) == expected


@pytest.mark.parametrize(("systolic", "expected"), SYSTOLIC)
def test_systolic(systolic: int, expected: int) -> None:
    assert news2.systolic_score(systolic) == expected
    assert news2.score({"systolic": systolic}).subscores == {"systolic": expected}


@pytest.mark.parametrize(("pulse", "expected"), PULSE)
def test_pulse(pulse: int, expected: int) -> None:
    assert news2.pulse_score(pulse) == expected
    assert news2.score({"heart_rate": pulse}).subscores == {"heart_rate": expected}


@pytest.mark.parametrize(
    ("level", "expected"),
    [("A", 0), ("C", 3), ("V", 3), ("P", 3), ("U", 3), ("a", 0), ("v", 3), ("Alert", 0),
     ("new confusion", 3), ("voice", 3), ("PAIN", 3), ("unresponsive", 3)],
)
def test_consciousness_acvpu(level: str, expected: int) -> None:
    assert news2.consciousness_score(level) == expected


@pytest.mark.parametrize("level", ["X", "", "confused?", "alright", "Vague"])
def test_unknown_consciousness_is_an_error_not_a_zero(level: str) -> None:
    with pytest.raises(ValueError, match=r"ACVPU|one of"):
        news2.consciousness_score(level)


@pytest.mark.parametrize(("celsius", "expected"), TEMPERATURE)
def test_temperature_one_decimal_boundaries(celsius: float, expected: int) -> None:
    assert news2.temperature_score(celsius) == expected
    assert news2.score({"temperature_c": celsius}).subscores == {"temperature_c": expected}


@pytest.mark.parametrize(
    ("celsius", "expected"),
    [(35.04, 3), (35.05, 1), (36.05, 0), (37.99999, 0), (38.04, 0), (38.05, 1), (39.05, 2),
     ((100.4 - 32) * 5 / 9, 0)],  # 100.4 °F is 38.0 °C, whatever the float error
)
def test_temperature_is_rounded_half_up_to_one_decimal_before_scoring(
    celsius: float, expected: int
) -> None:
    assert news2.temperature_score(celsius) == expected


@pytest.mark.parametrize(("pulse", "expected"), [(90.4, 0), (90.5, 1), (130.49, 2), (130.5, 3)])
def test_non_integer_rates_are_rounded_to_whole_numbers(pulse: float, expected: int) -> None:
    assert news2.pulse_score(pulse) == expected


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_non_finite_values_are_rejected(bad: float) -> None:
    with pytest.raises(ValueError):
        news2.pulse_score(bad)


FULL_NORMAL = {
    "respiratory_rate": 16,
    "spo2": 97,
    "on_oxygen": False,
    "systolic": 120,
    "heart_rate": 70,
    "consciousness": "A",
    "temperature_c": 36.8,
}


@pytest.mark.parametrize(
    ("changes", "total", "band"),
    [
        ({}, 0, "low"),
        ({"heart_rate": 95, "temperature_c": 38.5, "spo2": 95, "respiratory_rate": 10}, 4, "low"),
        ({"consciousness": "V"}, 3, "low-medium"),  # a single 3 with total 0-4
        ({"respiratory_rate": 8, "heart_rate": 95}, 4, "low-medium"),
        ({"systolic": 100, "heart_rate": 115, "temperature_c": 38.5}, 5, "medium"),
        ({"consciousness": "P", "systolic": 100}, 5, "medium"),  # a 3, but total 5 wins
        ({"respiratory_rate": 22, "spo2": 93, "on_oxygen": True}, 6, "medium"),
        ({"respiratory_rate": 25, "spo2": 91, "heart_rate": 95}, 7, "high"),
        ({"respiratory_rate": 30, "spo2": 85, "on_oxygen": True, "systolic": 85,
          "heart_rate": 140, "consciousness": "U", "temperature_c": 39.5}, 19, "high"),
    ],
)
def test_totals_and_bands(changes: dict[str, object], total: int, band: str) -> None:
    result = news2.score({**FULL_NORMAL, **changes})
    assert (result.total, result.band) == (total, band)
    assert result.missing == [] and not result.partial
    assert result.total == sum(result.subscores.values())


@pytest.mark.parametrize(("total", "band"), [(0, "low"), (4, "low"), (5, "medium"),
                                             (6, "medium"), (7, "high"), (12, "high")])
def test_band_thresholds(total: int, band: str) -> None:
    assert news2.band(total, {"x": 1}) == band


def test_a_wearable_gives_a_partial_score_never_a_silent_zero() -> None:
    result = news2.score({"heart_rate": 120, "spo2": 95})
    total, band, subscores, missing = result  # unpacks as documented
    assert subscores == {"heart_rate": 2, "spo2": 1} and total == 3 and band == "low"
    assert missing == ["respiratory_rate", "on_oxygen", "systolic", "consciousness",
                       "temperature_c"]
    assert result.partial


def test_nothing_measured_is_all_missing() -> None:
    result = news2.score({})
    assert result.total == 0 and result.partial and result.missing == list(news2.PARAMETERS)


def test_none_values_count_as_missing_and_unknown_keys_are_ignored() -> None:
    result = news2.score({**FULL_NORMAL, "temperature_c": None, "steps": 100})
    assert result.missing == ["temperature_c"] and "temperature_c" not in result.subscores


@pytest.mark.parametrize("scale", [0, 3, "2"])
def test_unknown_scale_is_rejected(scale: object) -> None:
    with pytest.raises(ValueError, match="scale"):
        news2.score(FULL_NORMAL, scale=scale)  # type: ignore[arg-type]
