"""Clinical scoring in the stream: threshold alerts against alert fatigue, and NEWS2.

Pure Python, no I/O. A stream processor keeps one :class:`AlertEngine` per input partition::

    engine = AlertEngine(EngineConfig(), SystemClock())
    alerts = engine.observe_batch(vitals, contexts)   # -> list[Alert]
    scores = engine.take_scores()                     # -> list[News2Score]
    for pid in engine.dirty_patients():
        save(pid, engine.snapshot(pid))              # with the offset commit
    engine.clear_dirty()

Modules: :mod:`.rules` (rule definitions and defaults), :mod:`.episode` (the per-rule state
machine), :mod:`.engine`, :mod:`.news2` (pure NEWS2 scoring), :mod:`.tracker` (NEWS2 per
patient, emitted when :mod:`.signature` says it changed), :mod:`.state` (per-patient state and snapshots), :mod:`.clock`, :mod:`.ids`.
"""

from vitalstream.clinical import news2
from vitalstream.clinical.clock import Clock, ManualClock, SystemClock
from vitalstream.clinical.engine import AlertEngine, EngineConfig
from vitalstream.clinical.ids import alert_id, score_id
from vitalstream.clinical.news2 import News2Result
from vitalstream.clinical.rules import KINDS, Rule, RuleConfig, RuleKind, default_rules
from vitalstream.clinical.state import PatientContext, PatientState
from vitalstream.clinical.tracker import News2Tracker

__all__ = [
    "KINDS",
    "AlertEngine",
    "Clock",
    "EngineConfig",
    "ManualClock",
    "News2Result",
    "News2Tracker",
    "PatientContext",
    "PatientState",
    "Rule",
    "RuleConfig",
    "RuleKind",
    "SystemClock",
    "alert_id",
    "default_rules",
    "news2",
    "score_id",
]
