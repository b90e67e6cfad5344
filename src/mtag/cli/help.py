"""Help pages without Typer's type decorations that read as noise to a user.

Typer's rich help shows ``<bool>`` beside every flag (a flag takes no value)
and writes a required argument as ``{paths}...`` in the usage line.  mtag's
commands and groups show flags bare and arguments as ``PATHS...``
(``[RUN]`` when optional), as click and most tools do.  :func:`use_plain_help`
installs the classes on an app, its commands and its sub-apps, so a command
added later gets them too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption
from typer.models import DefaultPlaceholder

if TYPE_CHECKING:  # the click Typer builds on: its vendored copy in recent versions
    from typer._click import Context, Parameter


def _bare_flags(params: list[Parameter]) -> list[Parameter]:
    """``params`` with every flag's metavar empty: the help's type column shows a metavar when there is one."""
    for param in params:
        if isinstance(param, TyperOption) and param.is_flag and param.metavar is None:
            param.metavar = ""
    return params


class PlainHelpCommand(TyperCommand):
    """A command whose help shows flags without a type and arguments in upper case."""

    def get_params(self, ctx: Context) -> list[Parameter]:
        return _bare_flags(super().get_params(ctx))  # --help included, which is added here

    def collect_usage_pieces(self, ctx: Context) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if isinstance(param, TyperArgument):
                name = param.metavar or (param.name or "").upper()
                name = name if param.required else f"[{name}]"
                pieces.append(name + ("..." if param.nargs != 1 else ""))
            else:
                pieces.extend(param.get_usage_pieces(ctx))
        return pieces


class PlainHelpGroup(TyperGroup):
    """A group (``mtag``, ``mtag models``) whose help shows flags without a type."""

    def get_params(self, ctx: Context) -> list[Parameter]:
        return _bare_flags(super().get_params(ctx))


def _default(cls: object, typer_default: type) -> bool:
    return cls is None or cls is typer_default or isinstance(cls, DefaultPlaceholder)


def use_plain_help(app: typer.Typer) -> None:
    """Give ``app``, its commands and its sub-apps the plain-help classes, where they kept Typer's own."""
    if _default(app.info.cls, TyperGroup):
        app.info.cls = PlainHelpGroup
    for command in app.registered_commands:
        if _default(command.cls, TyperCommand):
            command.cls = PlainHelpCommand
    for group in app.registered_groups:
        if _default(group.cls, TyperGroup):
            group.cls = PlainHelpGroup
        if group.typer_instance is not None:
            use_plain_help(group.typer_instance)
