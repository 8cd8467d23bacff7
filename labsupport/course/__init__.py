"""Lessons -> notebooks (student and solution builds), and the student release."""

from labsupport.course._build import BuildError, Lesson, build_all, build_lesson, find_lessons, stale_notebooks

__all__ = ["BuildError", "Lesson", "build_all", "build_lesson", "find_lessons", "stale_notebooks"]
