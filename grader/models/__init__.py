"""Trained-model questions: safe loading, architectures as data, held-out data, evaluation.

Everything here but `build` and `worker_eval` is torch-free, so that rubric loading and
answers-only grading never pay for importing torch. See docs/models.md.
"""
