"""Errors of the build scripts in this folder: a failed step, and a missing tool."""

from __future__ import annotations


class BuildError(Exception):
    """A build step failed; the message names the step and the fix."""


class MissingToolError(BuildError):
    """A tool the build needs (PyInstaller, dpkg-deb, Inno Setup, hdiutil) is not installed."""
