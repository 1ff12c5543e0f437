"""The registry of node kinds: every trigger and action a campaign graph may hold.

A kind is a class registered with `@register`: its name ("trigger.cheque_issued", "action.send_email"),
its palette family, label and icon, the pydantic model of its settings, and its outputs (most have one,
"out"; a filter has "yes" and "no"; an A/B test one per variant). Triggers also say how customers enter
(`campaigns.triggers.base`), actions what they do to the journeys that reach them
(`campaigns.actions.base`). The editor's palette, the server's validation of a graph and the engine all
read this registry, so a new kind is one class in one module.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict

from smartcomm.kit.i18n import LazyString

OUT = "out"


class NoSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Settings(BaseModel):
    """The base of every kind's settings: unknown keys are refused (a typo never passes silently)."""

    model_config = ConfigDict(extra="forbid")


class NodeKind:
    """What every node kind declares."""

    name: ClassVar[str]
    group: ClassVar[str]  # "trigger" | "action"
    family: ClassVar[str]  # the palette section
    label: ClassVar[LazyString]
    description: ClassVar[str] = ""  # each kind gives a lazy one
    icon: ClassVar[str] = "ti-point"
    settings_model: ClassVar[type[BaseModel]] = NoSettings
    # A module of the product the kind needs switched on ("orders", "tracker", "loyalty"), if any.
    needs: ClassVar[str | None] = None

    def outputs(self, settings: Any) -> list[str]:
        """The names of the kind's outputs for these settings."""
        return [OUT]

    def output_label(self, output: str) -> str:
        return "" if output == OUT else output

    def check(self, settings: Any, context: Any) -> list[tuple[str, str]]:
        """Problems the settings model cannot see alone (a template that does not exist, a segment of
        another kind…): (field, message) pairs. `context` is `campaigns.graph.CheckContext`."""
        return []

    def parse(self, settings: dict[str, Any]) -> Any:
        return self.settings_model.model_validate(settings)


K = TypeVar("K", bound=type[NodeKind])
_kinds: dict[str, NodeKind] = {}
_loaded = False
# The modules whose import registers the kinds.
KIND_MODULES = (
    "smartcomm.campaigns.triggers",
    "smartcomm.campaigns.actions",
)


def register(cls: K) -> K:
    """Class decorator: one instance of the kind joins the registry under its name."""
    known = _kinds.get(cls.name)
    if known is not None and type(known).__qualname__ != cls.__qualname__:
        raise ValueError(f"the node kind {cls.name!r} is registered already")
    _kinds[cls.name] = cls()
    return cls


def kinds() -> dict[str, NodeKind]:
    """Every registered kind by name (importing the modules that declare them)."""
    global _loaded
    if not _loaded:
        from importlib import import_module

        for module in KIND_MODULES:
            import_module(module)
        _loaded = True
    return _kinds


def kind(name: str) -> NodeKind | None:
    return kinds().get(name)


def of_group(group: str) -> list[NodeKind]:
    return [each for each in kinds().values() if each.group == group]


def outputs_named(*names: str) -> Callable[[Any], list[str]]:
    return lambda settings: list(names)
