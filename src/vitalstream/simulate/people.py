"""Synthetic demographic details (names, places, blood types): never real people."""

from __future__ import annotations

import random

FIRST_NAMES = ("Irma", "Maria", "Graziano", "Bianka", "Jonas", "Amara", "Liam", "Sofia",
               "Noah", "Yuki", "Omar", "Elena", "Mateo", "Freya", "Ravi", "Chloe", "Ines",
               "Tomasz", "Aylin", "Kwame", "Hana", "Lucas", "Nora", "Pedro")
LAST_NAMES = ("Sollima", "Hermansen", "Camanni", "Konsek", "Berg", "Okafor", "Murphy",
              "Rossi", "Tanaka", "Haddad", "Novak", "Garcia", "Larsen", "Sharma", "Dubois",
              "Silva", "Kowalski", "Yilmaz", "Mensah", "Kim", "Schmidt", "Jansen")
BLOOD_TYPES = ("O+", "A+", "B+", "AB+", "O-", "A-", "B-", "AB-")
BLOOD_WEIGHTS = (37, 34, 9, 4, 7, 6, 2, 1)
RACES = ("W", "A", "B", "H", "O")
# code, name, centre latitude, centre longitude, street word, city
COUNTRIES = (
    ("IT", "Italy", 42.5, 12.5, "Via", "Lomaso"),
    ("DK", "Denmark", 56.0, 10.0, "vej", "Frøstrup"),
    ("PL", "Poland", 52.0, 19.5, "ulica", "Lublin"),
    ("NL", "Netherlands", 52.2, 5.5, "straat", "Spankeren"),
    ("US", "United States", 39.0, -98.0, "Street", "Springfield"),
    ("GB", "United Kingdom", 53.0, -1.5, "Road", "Leeds"),
    ("DE", "Germany", 51.0, 10.0, "Straße", "Kassel"),
    ("FR", "France", 46.5, 2.5, "Rue", "Limoges"),
    ("ES", "Spain", 40.0, -3.7, "Calle", "Cuenca"),
    ("JP", "Japan", 36.0, 138.0, "dori", "Matsumoto"),
    ("BR", "Brazil", -15.0, -47.9, "Rua", "Goiânia"),
    ("IN", "India", 21.0, 78.0, "Marg", "Nagpur"),
)
ALLERGIES = ("none", "none", "none", "penicillin", "peanuts", "latex", "sulfonamides",
             "shellfish", "aspirin")
RELATIONS = ("spouse", "daughter", "son", "sibling", "friend", "parent")


def full_name(rng: random.Random) -> tuple[str, str]:
    return rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)


def blood_type(rng: random.Random) -> str:
    return rng.choices(BLOOD_TYPES, BLOOD_WEIGHTS)[0]


def emergency_contact(rng: random.Random) -> str:
    first, last = full_name(rng)
    # 555-01xx numbers are reserved for fiction.
    return f"{first} {last} ({rng.choice(RELATIONS)}) +1-555-01{rng.randrange(100):02d}"


Country = tuple[str, str, float, float, str, str]


def home(rng: random.Random, country: Country) -> tuple[float, float]:
    return (round(country[2] + rng.uniform(-2, 2), 6), round(country[3] + rng.uniform(-2, 2), 6))
