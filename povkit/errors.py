"""The user-facing failures: each carries a one-line message that says what to do next."""

from __future__ import annotations

import logging

log = logging.getLogger("povkit")
"""Warnings about damaged but usable input go here; the CLI prints them as one line each."""


class PovkitError(Exception):
    """Base of povkit's own errors; ``exit_code`` is what the CLI returns for it."""

    exit_code = 1


class InputError(PovkitError):
    """The input cannot be used (missing, not a video, nothing decodable)."""

    exit_code = 2


class UsageError(PovkitError):
    """The command was asked for something impossible (bad option, output over input)."""

    exit_code = 2
