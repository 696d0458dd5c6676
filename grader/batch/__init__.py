"""Batch grading: discovery of submissions (plain, Canvas and Gradescope layouts), a worker pool
that survives crashes and hangs, resumable atomic output, and the files a TA uses afterwards."""

from grader.batch.runner import BatchOptions, BatchResult, run_batch

__all__ = ["BatchOptions", "BatchResult", "run_batch"]
