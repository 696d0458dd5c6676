"""Gradebook files for learning-management systems: Canvas, Moodle (and Gradescope's results)."""
