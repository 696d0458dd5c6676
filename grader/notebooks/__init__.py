"""Jupyter notebooks as submissions: reading answers from marked cells (never executing them),
extracting code-question functions statically, and writing the student's template notebook.

Importing this package is cheap: nbformat is imported only when a notebook is read or written.
"""
