"""Pose Animator (Python): make a vector character move like you."""

__version__ = "0.1.0"
