"""Background jobs: long work (a 校区's マイプラン, a 図上訓練 pack, a re-assessment) off the request path.

- ``kinds``: what each kind of job checks and does (the registry ``KINDS``); a job runs as its creator.
- ``runner``: claims a job, runs it with progress and cooperative cancel, stores the result or the
  reason it failed; marks the jobs of a dead worker interrupted.
- ``embedded``: worker threads inside `disaster serve` (the default; SQLite or no queue configured).
- ``queue``: on PostgreSQL, procrastinate carries the job ids to `disaster worker` processes on any
  machine; the ``job`` table stays the source of state, progress and result.
"""

from __future__ import annotations

from enum import StrEnum


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"  # its worker stopped (crash, restart); rerun makes a new job


STATE_LABELS = {JobState.QUEUED: "待機中", JobState.RUNNING: "実行中", JobState.SUCCEEDED: "完了",
                JobState.FAILED: "失敗", JobState.CANCELLED: "取り消し", JobState.INTERRUPTED: "中断"}
FINISHED = frozenset({JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED, JobState.INTERRUPTED})
