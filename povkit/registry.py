"""Algorithms chosen by name (smoothers, cut detectors): one way to build them and explain."""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any, TypeVar

T = TypeVar("T")


def build_named(registry: Mapping[str, type[T]], kind: str, name: str, **params: Any) -> T:
    """Build ``registry[name](**params)``, or say which ``kind`` names there are."""
    try:
        cls = registry[name]
    except KeyError:
        raise ValueError(f"unknown {kind} {name!r}; choose one of {', '.join(registry)}") from None
    accepted = [p for p in inspect.signature(cls).parameters if not p.startswith("_")]
    unknown = sorted(set(params) - set(accepted))
    if unknown:
        raise ValueError(
            f"the {name} {kind} has no {', '.join(unknown)} setting; "
            f"its settings are {', '.join(accepted) or 'none'}"
        )
    return cls(**params)
