"""Pseudonyms and de-identified research extracts (docs/privacy.md).

* :mod:`.pseudonym` — stable keyed-HMAC pseudonyms with a key id (internal joins, FHIR export).
* :mod:`.surrogates` — random surrogate ids and per-patient date shifts, kept in a key file.
* :mod:`.scrub` — PHI removed from free text (known names, phones, emails, dates, ...).
* :mod:`.extract` — ``vitalstream extract``: warehouse tables to Parquet, Safe Harbor style.
* :mod:`.evaluate` — recall of the PHI removal on a synthetic (Faker) set.
"""
