"""vitalstream's own topics: names from the five source systems (docs/sources.md), how each is
created, and which warehouse table each processed topic lands in.

This catalogue is what ``topics reset`` may touch: it never deletes a topic that is not
listed here (the smartwatch-vitals system's reset script deleted every topic in the cluster).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .log.base import WEEK_MS, Log, TopicSpec

DEFAULT_PARTITIONS = 6


@dataclass(frozen=True, slots=True)
class TopicDef:
    name: str
    role: str  # raw | reference | processed | alerts | deadletter | notes | state | repartition
    key: str  # field that keys the topic
    table: str | None = None  # warehouse table fed from this topic, if any
    compacted: bool = False
    description: str = ""
    forever: bool = False  # never expires (the audit trail)

    def spec(
        self,
        partitions: int = DEFAULT_PARTITIONS,
        retention_ms: int | None = WEEK_MS,
        replication_factor: int = 1,
    ) -> TopicSpec:
        return TopicSpec(
            name=self.name,
            partitions=partitions,
            # Reference data is compacted and kept forever: enrichment reads it from the
            # earliest offset, so metadata sent before a processor started is never missed.
            retention_ms=None if self.compacted or self.forever else retention_ms,
            compacted=self.compacted,
            replication_factor=replication_factor,
        )


# --- smartwatch vitals + patient metadata --------------------------------------------------
HEART_RATE = "heart-rate-data"
BLOOD_OXYGEN = "blood-oxygen-data"
BLOOD_PRESSURE = "blood-pressure-data"
FALL_DETECTION = "fall-detection-data"
PATIENT_METADATA = "patient-metadata"
PROCESSED_HEART_RATE = "processed-heart-rate-data"
PROCESSED_BLOOD_OXYGEN = "processed-blood-oxygen-data"
PROCESSED_BLOOD_PRESSURE = "processed-blood-pressure-data"
PROCESSED_FALL_DETECTION = "processed-fall-detection-data"
# --- MQTT device gateway ----------------------------------------------------------------------
DEVICE_DATA = "device_data"
BP_DEVICE = "blood_pressure_device_topic"
HR_DEVICE = "heart_rate_device_topic"
SPO2_DEVICE = "oxygen_saturation_device_topic"
TEMP_DEVICE = "temperature_device_topic"
# --- clinical notes ------------------------------------------------------------------------------
MEDICAL_ENTRIES = "medical-entries"
PROCESSED_ENTRIES = "processed-entries"
# --- heart-rate stream + OLTP reference data ---------------------------------------------------
HR_DATA = "hr-data-topic"
HR_USERS = "hr-users"
HR_ACTIVITIES = "hr-activities"
PROCESSED_HR = "processed-hr-data"
# --- smartwatch events over HTTP --------------------------------------------------------------------
SMARTWATCH = "smartwatch-events"
USER_PROFILES = "user-profiles"
PROCESSED_SMARTWATCH = "processed-smartwatch-data"
# --- vitalstream's own ---------------------------------------------------------------------------
ALERTS = "alerts"
NEWS2 = "news2-scores"
DEAD_LETTERS = "dlq-topic"  # the clinical-notes system's name for its dead-letter queue
ALERT_STATE = "alert-state"  # changelog of per-patient alert/NEWS2 state (compacted)
DLQ_REPLAYED = "dlq-replayed"  # which dead letters `dlq replay` sent back (compacted)
AUDIT = "audit-log"  # who read or exported which patient's data (append-only, kept forever)
FHIR_OBSERVATIONS = "fhir-observations"  # opt-in: FHIR R4 Observation JSON for integration engines
ALERT_ACKS = "alert-acks"  # who acknowledged which alert, when (append-only, kept forever)
# Internal: the processor's stateless stage writes every vital here keyed by patient id, and
# its stateful stage (alerts, NEWS2) reads it, as a Kafka Streams repartition topic.
REPARTITION_VITALS = "vitalstream-repartition-vitals"

CATALOGUE: tuple[TopicDef, ...] = (
    TopicDef(HEART_RATE, "raw", "patient_id", description="smartwatch heart rate"),
    TopicDef(BLOOD_OXYGEN, "raw", "patient_id", description="smartwatch SpO2"),
    TopicDef(BLOOD_PRESSURE, "raw", "patient_id", description="smartwatch blood pressure"),
    TopicDef(FALL_DETECTION, "raw", "patient_id", description="smartwatch fall detection"),
    TopicDef(PATIENT_METADATA, "reference", "patient_id", "patient_metadata", compacted=True),
    TopicDef(PROCESSED_HEART_RATE, "processed", "patient_id", "processed_heart_rate_data"),
    TopicDef(PROCESSED_BLOOD_OXYGEN, "processed", "patient_id", "processed_blood_oxygen_data"),
    TopicDef(PROCESSED_BLOOD_PRESSURE, "processed", "patient_id", "processed_blood_pressure_data"),
    TopicDef(PROCESSED_FALL_DETECTION, "processed", "patient_id", "processed_fall_detection_data"),
    TopicDef(DEVICE_DATA, "raw", "deviceId", description="device gateway combined message"),
    TopicDef(BP_DEVICE, "processed", "deviceId", "blood_pressure_device"),
    TopicDef(HR_DEVICE, "processed", "deviceId", "heart_rate_device"),
    TopicDef(SPO2_DEVICE, "processed", "deviceId", "oxygen_saturation_device"),
    TopicDef(TEMP_DEVICE, "processed", "deviceId", "temperature_device"),
    TopicDef(MEDICAL_ENTRIES, "raw", "patient_id", description="free-text clinical notes"),
    TopicDef(PROCESSED_ENTRIES, "notes", "patient_id", "processed_entries"),
    TopicDef(HR_DATA, "raw", "user_id", description="heart-rate stream"),
    TopicDef(HR_USERS, "reference", "user_id", "users", compacted=True),
    TopicDef(HR_ACTIVITIES, "reference", "activity_id", "activities", compacted=True),
    TopicDef(PROCESSED_HR, "processed", "user_id", "heart_rate_events"),
    TopicDef(SMARTWATCH, "raw", "device_id", description="smartwatch events (two field variants)"),
    TopicDef(USER_PROFILES, "reference", "device_id", "user_profiles", compacted=True),
    TopicDef(PROCESSED_SMARTWATCH, "processed", "device_id", "smartwatch_events"),
    TopicDef(ALERTS, "alerts", "patient_id", "alerts"),
    TopicDef(NEWS2, "alerts", "patient_id", "news2_scores"),
    TopicDef(DEAD_LETTERS, "deadletter", "source_key", "dead_letters"),
    TopicDef(ALERT_STATE, "state", "patient_id", compacted=True,
             description="processor state changelog, rebuilt on restart/rebalance"),
    TopicDef(DLQ_REPLAYED, "state", "dead_letter", compacted=True,
             description="markers of replayed dead letters (dlq-topic id:partition:offset)"),
    TopicDef(AUDIT, "audit", "actor", forever=True,
             description="audit trail of reads and exports of patient data (never expires)"),
    TopicDef(FHIR_OBSERVATIONS, "export", "patient_ref", description="FHIR R4 Observations (fhir.stream)"),
    TopicDef(ALERT_ACKS, "audit", "patient_id", forever=True,
             description="alert acknowledgements from the dashboard (never expires)"),
    TopicDef(REPARTITION_VITALS, "repartition", "patient_id",
             description="vitals keyed by patient, between the processor's two stages"),
)

BY_NAME: dict[str, TopicDef] = {t.name: t for t in CATALOGUE}
RAW_TOPICS = tuple(t.name for t in CATALOGUE if t.role == "raw")
REFERENCE_TOPICS = tuple(t.name for t in CATALOGUE if t.role == "reference")


def is_own(name: str) -> bool:
    """True for topics vitalstream created and may reset."""
    return name in BY_NAME


def own_spec(name: str, partitions: int = DEFAULT_PARTITIONS, retention_ms: int | None = WEEK_MS,
             replication_factor: int = 1) -> TopicSpec:
    return BY_NAME[name].spec(partitions, retention_ms, replication_factor)


def ensure(log: Log, names: Iterable[str], partitions: int = DEFAULT_PARTITIONS,
           retention_ms: int | None = WEEK_MS, replication_factor: int = 1) -> None:
    """Create the given vitalstream topics that do not exist yet (first use creates them)."""
    existing = set(log.list_topics())
    for name in names:
        if name not in existing:
            log.create_topic(own_spec(name, partitions, retention_ms, replication_factor))


def ensure_all(log: Log, partitions: int = DEFAULT_PARTITIONS, retention_ms: int | None = WEEK_MS,
               replication_factor: int = 1) -> None:
    ensure(log, [t.name for t in CATALOGUE], partitions, retention_ms, replication_factor)
