"""Clinical notes: problems and medications with their assertion, from free-text entries.

:mod:`.extractor` (medspaCy on a blank spaCy pipeline, vocabularies from :mod:`.vocab`,
ConText rules in :mod:`.rules`, dose/frequency in :mod:`.dosage`), the stream stage that runs it
per micro-batch (:mod:`.stage`) and the evaluation against labelled notes (:mod:`.evaluate`).
Nothing here is imported by ``import vitalstream``: spaCy loads only where notes are processed.
"""
