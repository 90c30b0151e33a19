import pytest


@pytest.fixture(scope="session")
def extractor():
    """One extractor for the session: building it loads the vocabularies (seconds)."""
    from vitalstream.notes.extractor import shared_extractor

    return shared_extractor()
