"""Response shapes of the read API calls added for notes and pipeline health, so
``/api/v1/openapi.json`` describes their fields (times are UTC ISO-8601 strings ending in Z)."""

from __future__ import annotations

from pydantic import BaseModel, Field

_STATUS = "active | negated | uncertain | hypothetical | historical | family (from assertion)"


class ProblemOut(BaseModel):
    text: str = Field(description="the words as written in the note")
    name: str | None = Field(description="normalised problem name")
    assertion: str = Field(description="present | absent | possible | hypothetical | historical | family")
    status: str = Field(description=_STATUS)
    span_start: int = Field(description="character offset of the mention in the note's text")
    span_end: int


class MedicationOut(ProblemOut):
    name: str | None = Field(description="generic name where known")
    dose: float | None
    unit: str | None = Field(description="mg, mcg, g, mL, units or puffs")
    route: str | None
    frequency: str | None


class NoteOut(BaseModel):
    entry_id: str
    time: str | None = Field(description="when the note was written (UTC ISO-8601)")
    processed_time: str | None
    text: str | None
    problems: list[ProblemOut]
    medications: list[MedicationOut]


class NotesPage(BaseModel):
    items: list[NoteOut]
    limit: int
    offset: int
    total: int = Field(description="how many notes the patient has")


class ModelRunOut(BaseModel):
    started_at: str
    command: str
    ok: bool
    status: str = Field(description="ok | failed")
    duration_s: float
    models: int = Field(description="models run")
    tests: int = Field(description="data and unit tests run")
    models_passed: int
    models_failed: int
    tests_passed: int
    tests_failed: int
    rows_affected: int = Field(description="rows of the fact and aggregate tables afterwards")
    failed: str | None = Field(description='"; "-separated "<kind> <name>: <message>" of each failure')
    message: str | None


class TopicOut(BaseModel):
    topic: str
    records: int
    rate: float = Field(description="records per second since the previous health view")


class GroupOut(BaseModel):
    group: str
    lag: int


class DeadLettersOut(BaseModel):
    stage: str
    reason: str
    count: int
    newest: str | None


class HealthOut(BaseModel):
    topics: list[TopicOut]
    groups: list[GroupOut]
    components: dict[str, str]
    dead_letters: list[DeadLettersOut] = Field(description="count by stage and reason")
    dead_letters_error: str
    board_patients: int
    model_run: ModelRunOut | None = Field(description="the last warehouse model run (`vitalstream model status`)")
