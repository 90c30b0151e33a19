"""Stream processing in two stages (see docs/kafka.md, "The processor's two stages").

Stateless (:mod:`.processor`): validate → dead letters, normalise, dedup, enrich, decompose,
resolve the patient, processed outputs, and the vitals to the repartition topic keyed by
patient (:mod:`.repartition`). Stateful (:mod:`.stateful`): alerts, NEWS2 and the state
changelog per patient. ``VitalsProcessor(fused=True)`` runs both in one worker.
"""

from .processor import PROCESSOR_GROUP, VitalsProcessor
from .stateful import SCORER_GROUP, ClinicalScorer

__all__ = ["PROCESSOR_GROUP", "SCORER_GROUP", "ClinicalScorer", "VitalsProcessor"]
