"""
Signals that let a lower layer say something happened without importing the layer that cares.

- figures_stale: data behind a large mine's dashboard figures changed (an import, a new award); the
  progress pages listen and queue a fresh background computation.
- evidence_changed: rows a rank award can rest on (attendance, results, reviews) were saved, corrected or
  deleted. Keyword arguments: worker_ids (the workers touched), corrected (a list of (worker id, evidence
  kind, row id, reason) for rows whose recorded values changed or that were deleted; reason may be empty),
  user. The roll-up listens: it flags awards resting on corrected rows, marks the workers' evaluations stale
  (the nightly incremental run evaluates them if nothing else does) and re-evaluates the workers after commit.
  The attendance door (training/services.py) sends it too, so training/ needs no import of certifications/.
"""

from django.dispatch import Signal

figures_stale = Signal()
evidence_changed = Signal()
