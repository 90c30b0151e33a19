"""How much PHI the extract removes, measured on a synthetic set made with Faker.

Each item is a patient: a metadata record (name, emergency contact, phone, address, birth date,
coordinates, device and patient ids, checkup date) and a clinical note with PHI injected in the
formats Faker produces (US locale: many phone, date and address formats). The records go through
the extract's column rules, the notes through its scrubber built from the records' names and
ids, exactly as ``vitalstream extract`` does. A PHI value counts as removed when it no longer
appears in the output (case-insensitive); each survivor is listed as a residual.

Faker is a development dependency (``pip install 'vitalstream[dev]'``).
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

from .extract import rule_for, transform
from .scrub import Scrubber, names_in
from .surrogates import SurrogateKey

# kinds that count towards the two headline figures (target: >= 0.99)
STRUCTURED = ("patient_id", "device_id", "name", "emergency_contact", "phone", "address", "birth_date",
              "coordinates", "checkup_date", "event_time")
TEXT_IDS_AND_DATES = ("email", "phone", "ssn", "mrn", "url", "ip", "date", "zip")
TEXT_OTHER = ("known_name", "titled_name", "street_address")

_RECORD_COLUMNS = {"patient_id": "VARCHAR", "device_id": "VARCHAR", "name": "VARCHAR", "age": "INTEGER",
                   "gender": "VARCHAR", "emergency_contact": "VARCHAR", "address": "VARCHAR",
                   "dob": "VARCHAR", "latitude": "DOUBLE", "longitude": "DOUBLE",
                   "last_checkup_date": "VARCHAR", "event_time": "TIMESTAMP WITH TIME ZONE",
                   "heart_rate": "INTEGER", "medical_history": "VARCHAR"}


@dataclass
class Report:
    injected: Counter[str] = field(default_factory=Counter)
    survived: Counter[str] = field(default_factory=Counter)
    residual: list[tuple[str, str, str]] = field(default_factory=list)  # (kind, value, output)
    items: int = 0

    def recall(self, kinds: tuple[str, ...] | None = None) -> float:
        kinds = kinds or tuple(self.injected)
        n = sum(self.injected[k] for k in kinds)
        return 1.0 if n == 0 else 1.0 - sum(self.survived[k] for k in kinds) / n

    def table(self) -> str:
        lines = [f"{self.items} synthetic patients (records + notes), Faker en_US", "",
                 f"{'kind':<28} {'injected':>8} {'survived':>8} {'recall':>7}"]
        for group, kinds in (("record", STRUCTURED), ("note", TEXT_IDS_AND_DATES + TEXT_OTHER)):
            for k in kinds:
                key = f"{group}:{k}"
                if self.injected[key]:
                    lines.append(f"{key:<28} {self.injected[key]:>8} {self.survived[key]:>8} "
                                 f"{self.recall((key,)):>7.4f}")
        lines += ["", f"structured identifiers and dates (records): {self.recall(_g('record', STRUCTURED)):.4f}",
                  f"identifiers and dates in note text:         {self.recall(_g('note', TEXT_IDS_AND_DATES)):.4f}",
                  f"names and street addresses in note text:    {self.recall(_g('note', TEXT_OTHER)):.4f}"]
        return "\n".join(lines)


def _g(group: str, kinds: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(f"{group}:{k}" for k in kinds)


def _date_text(fake, rng: random.Random) -> str:  # type: ignore[no-untyped-def]
    d = fake.date_between(start_date="-80y", end_date="today")
    fmt = rng.choice(["%Y-%m-%d", "%m/%d/%Y", "%d/%m/%Y", "%B %d, %Y", "%b %d %Y", "%d %B %Y", "%m-%d-%Y",
                      "%d.%m.%Y", "%A, %B %d", "%B %Y", "%m/%d/%y", "%Y-%m-%dT%H:%M"])
    return str(d.strftime(fmt) if "%H" not in fmt else fake.date_time(tzinfo=UTC).strftime(fmt))


def _items(n: int, seed: int) -> list[tuple[dict, str, list[tuple[str, str]]]]:  # type: ignore[type-arg]
    try:
        from faker import Faker
    except ImportError:
        raise SystemExit("the PHI evaluation needs Faker: pip install 'vitalstream[dev]'") from None
    fake = Faker("en_US")
    fake.seed_instance(seed)
    rng = random.Random(seed)
    out = []
    for i in range(n):
        first, last = fake.first_name(), fake.last_name()
        c_first, c_last = fake.first_name(), fake.last_name()
        phone, street = fake.phone_number(), fake.street_address()
        dob = fake.date_of_birth(minimum_age=18, maximum_age=101)
        record = {
            "patient_id": f"patient-{i + 1:04d}", "device_id": fake.bothify("WD-####-????").upper(),
            "name": f"{first} {last}", "age": (datetime.now(UTC).date() - dob).days // 365,
            "gender": rng.choice(["male", "female"]),
            "emergency_contact": f"{c_first} {c_last} ({rng.choice(['spouse', 'son', 'friend'])}) {phone}",
            "address": fake.address().replace("\n", ", "), "dob": dob.isoformat(),
            "latitude": float(fake.latitude()), "longitude": float(fake.longitude()),
            "last_checkup_date": fake.date_between(start_date="-2y").isoformat(),
            "event_time": fake.date_time_between(start_date="-1y", tzinfo=UTC),
            "heart_rate": rng.randint(50, 120), "medical_history": "hypertension",
        }
        phi = [("email", fake.email()), ("phone", fake.phone_number()), ("ssn", fake.ssn()),
               ("mrn", f"MRN {fake.bothify('########')}"), ("url", fake.url()), ("ip", fake.ipv4()),
               ("date", _date_text(fake, rng)), ("date", _date_text(fake, rng)), ("zip", fake.zipcode_plus4()),
               ("known_name", rng.choice([first, last, f"{first} {last}", c_first, f"{c_first} {c_last}"])),
               ("titled_name", f"Dr. {fake.last_name()}"), ("street_address", street)]
        rng.shuffle(phi)
        sentences = [
            f"Seen by {phi[0][1]} regarding follow-up.", f"Contact: {phi[1][1]}.", f"Reference {phi[2][1]}.",
            f"Patient reports chest pain since {phi[3][1]}.", f"Notes sent to {phi[4][1]} and {phi[5][1]}.",
            f"Next visit {phi[6][1]}; lives at {phi[7][1]}.", f"Discussed with {phi[8][1]}, {phi[9][1]}.",
            f"Prescribed lisinopril 10 mg once daily. {phi[10][1]} to review; {phi[11][1]} noted.",
        ]
        out.append((record, " ".join(sentences), phi))
    return out


def _record_phi(record: dict) -> list[tuple[str, str]]:  # type: ignore[type-arg]
    r = record
    phone = r["emergency_contact"].rsplit(") ", 1)[1]
    return [("patient_id", r["patient_id"]), ("device_id", r["device_id"]), ("name", r["name"]),
            ("emergency_contact", r["emergency_contact"]), ("phone", phone), ("address", r["address"]),
            ("birth_date", r["dob"]), ("coordinates", f"{r['latitude']}"), ("coordinates", f"{r['longitude']}"),
            ("checkup_date", r["last_checkup_date"]), ("event_time", r["event_time"].isoformat())]


def evaluate(items: int = 600, seed: int = 0) -> Report:
    """Run the synthetic set through the extract's rules and scrubber; count what survives."""
    if items < 500:
        raise ValueError("the evaluation uses at least 500 items")
    data = _items(items, seed)
    names = [w for rec, _, _ in data for w in (*rec["name"].split(), *names_in(rec["emergency_contact"]))]
    ids = [v for rec, _, _ in data for v in (rec["patient_id"], rec["device_id"])]
    scrubber = Scrubber(names, ids)
    key = SurrogateKey()
    rules = {c: rule_for(c, t) for c, t in _RECORD_COLUMNS.items()}
    report = Report(items=items)
    for record, note, phi in data:
        row = transform(record, rules, key, scrubber, "shift")
        cells = " | ".join(str(v.isoformat() if isinstance(v, datetime) else v) for v in row.values()).lower()
        for kind, value in _record_phi(record):
            _count(report, f"record:{kind}", value, cells)
        text = scrubber.scrub(note) or ""
        for kind, value in phi:
            _count(report, f"note:{kind}", value, text.lower(), text)
    return report


def _count(report: Report, kind: str, value: str, haystack: str, shown: str | None = None) -> None:
    report.injected[kind] += 1
    if value.lower() in haystack:
        report.survived[kind] += 1
        report.residual.append((kind, value, shown if shown is not None else haystack))


__all__ = ["Report", "evaluate"]
