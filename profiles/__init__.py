"""Supply: agent profiles, customer needs and explainable agent-queue fit."""

from profiles.errors import CalibrationError, FitInputError, ProfilesError, ProtectedAttributeError
from profiles.fit import COMPONENTS, FIT_SCHEMA, FitParams, fit_matrix, queue_gaps
from profiles.guard import DEFAULT_PROTECTED, assert_no_protected, is_protected, split_protected
from profiles.models import AgentProfile, Queue, Segment, agent_frames, queues_frame, segment_frames
from profiles.needs import queue_needs
from profiles.calibrate import CalibrationResult, calibrate, interaction_components

__all__ = [
    "COMPONENTS",
    "DEFAULT_PROTECTED",
    "FIT_SCHEMA",
    "AgentProfile",
    "CalibrationError",
    "CalibrationResult",
    "FitInputError",
    "FitParams",
    "ProfilesError",
    "ProtectedAttributeError",
    "Queue",
    "Segment",
    "agent_frames",
    "assert_no_protected",
    "calibrate",
    "fit_matrix",
    "interaction_components",
    "is_protected",
    "queue_gaps",
    "queue_needs",
    "queues_frame",
    "segment_frames",
    "split_protected",
]
