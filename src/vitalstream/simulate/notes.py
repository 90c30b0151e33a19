"""Clinical notes: free-text medical entries ``{patient_id, medical_entry, timestamp}`` for
``medical-entries``, one per tick for a random patient.

The wording varies on purpose (the original extractor's regexes crashed on anything but "signs of X.
Prescribed Y."): affirmed findings, negations ("no signs of", "denies", "ruled out"),
family history, uncertainty ("possible", "suspected"), dosage and frequency, and words such
as "another" that contain "not".
"""

from __future__ import annotations

from collections.abc import Iterator

import msgspec

from .. import topics
from .base import Outgoing, Simulator
from .clock import MinuteCachedFormat
from .vitals import VitalsSimulator

# illness -> (symptom, medicine, dose)
CONDITIONS: dict[str, tuple[str, str, str]] = {
    "flu": ("fever", "oseltamivir", "75 mg"),
    "pneumonia": ("productive cough", "amoxicillin", "500 mg"),
    "hypertension": ("headache", "lisinopril", "10 mg"),
    "type 2 diabetes": ("polyuria", "metformin", "500 mg"),
    "asthma": ("wheezing", "salbutamol", "100 mcg"),
    "migraine": ("photophobia", "sumatriptan", "50 mg"),
    "urinary tract infection": ("dysuria", "nitrofurantoin", "100 mg"),
    "atrial fibrillation": ("palpitations", "apixaban", "5 mg"),
    "COPD": ("shortness of breath", "tiotropium", "18 mcg"),
    "gastritis": ("epigastric pain", "omeprazole", "20 mg"),
    "bronchitis": ("cough", "ibuprofen", "400 mg"),
    "depression": ("low mood", "sertraline", "50 mg"),
}
FREQUENCIES = ("once daily", "twice daily", "three times a day", "every 8 hours",
               "at night", "as needed")
RELATIVES = ("Mother", "Father", "Sister", "Brother", "Grandmother")
TEMPLATES = (
    "Patient shows signs of {ill}. Prescribed {med}.",
    "Patient shows signs of {ill}. Prescribed {med} {dose} {freq}.",
    "No signs of {ill}. Continue {med} {dose} {freq}.",
    "Patient denies {sym}. {Ill} ruled out.",
    "Family history of {ill}; patient currently asymptomatic.",
    "{Rel} had {ill}. Patient reports {sym} for {n} days.",
    "Possible {ill}, awaiting lab results. Started {med} {dose} {freq}.",
    "Suspected {ill}. Prescribed {med} {dose} {freq} for {n} days.",
    "Diagnosed with {ill}. Prescribed {med} {dose} {freq}.",
    "Complains of {sym} for {n} days, likely {ill}. Advised rest and fluids.",
    "History of {ill}, well controlled on {med} {dose} {freq}.",
    "{Ill} is not present; another review in {n} weeks.",
    "Rule out {ill}. No medication prescribed today.",
    "Presents with {sym}. Started on {med} {dose} {freq}; review in {n} days.",
)


class NotesSimulator(Simulator):
    profile = "notes"

    @staticmethod
    def patient_id(index: int) -> str:
        # The vitals simulator's ids, so a demo patient's notes sit next to their vitals on
        # the dashboard (the original CSV used plain numbers; both are accepted on the topic).
        return VitalsSimulator.patient_id(index)

    def events(self) -> Iterator[Outgoing]:
        rng = self.rng("events")
        encode = msgspec.json.encode
        fmt = MinuteCachedFormat(sep=" ", suffix="")
        rand = rng.random
        choices = [(ill, ill[0].upper() + ill[1:], *CONDITIONS[ill]) for ill in CONDITIONS]
        n_tpl, n_freq, n_rel = len(TEMPLATES), len(FREQUENCIES), len(RELATIVES)
        tick = 0
        while True:
            ms = self.start_ms + tick * self.interval_ms
            pid = self.patient_id(int(rand() * self.patients))
            ill, ill_cap, sym, med, dose = choices[int(rand() * len(choices))]
            text = TEMPLATES[int(rand() * n_tpl)].format(
                ill=ill, Ill=ill_cap, sym=sym, med=med, dose=dose,
                freq=FREQUENCIES[int(rand() * n_freq)], Rel=RELATIVES[int(rand() * n_rel)],
                n=2 + int(rand() * 13))
            body = {"patient_id": pid, "medical_entry": text, "timestamp": fmt(ms)[:16]}
            yield Outgoing(topics.MEDICAL_ENTRIES, pid.encode(), encode(body), ms)
            tick += 1

