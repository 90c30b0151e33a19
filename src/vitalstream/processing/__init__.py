"""Stream processing: validate → dead letters, normalise, enrich, decompose, alerts, NEWS2."""

from .processor import PROCESSOR_GROUP, VitalsProcessor

__all__ = ["PROCESSOR_GROUP", "VitalsProcessor"]
