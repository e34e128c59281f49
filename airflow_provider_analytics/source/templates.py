"""Airbyte low-code style Jinja interpolation.

Configs written for Airbyte's declarative format carry Jinja templates
(`cursor_value`, `stop_condition`). This module renders them with the same
meaning: the rendered text is read back as a Python literal when it is one,
and a fixed set of values counts as false.

Templates run in a sandbox that also forbids mutating the context, because
the context holds live response data. Compiled templates are cached by their
text, so objects that use templates only need to store strings and stay
deep-copyable and picklable.
"""

from __future__ import annotations

import ast
from functools import lru_cache
from typing import Any

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

from .errors import TemplateRenderError

__all__ = ["TemplateRenderError", "check_template", "compiled", "is_falsy", "render"]

_MAX_SHOWN = 200
_CACHE_SIZE = 512

# ImmutableSandboxedEnvironment is a SandboxedEnvironment that also refuses
# calls such as `dict.update` or `list.append` on context values.
_ENV = ImmutableSandboxedEnvironment(undefined=jinja2.StrictUndefined, autoescape=False)

# Airbyte's false values, plus None / "None" (a rendered None reads back as None).
_FALSY_STRINGS = frozenset({"False", "false", "", "None", "{}", "[]", "()", "0", "0.0"})


def _shown(template: str) -> str:
    """The template text for error messages, shortened when long."""
    text = template if len(template) <= _MAX_SHOWN else template[:_MAX_SHOWN] + "..."
    return repr(text)


def compiled(template: str) -> jinja2.Template:
    """The compiled template (cached by its text); TemplateRenderError for a syntax error."""
    if not isinstance(template, str):
        raise TemplateRenderError(f"a template must be a string, got {type(template).__name__}")
    return _compile(template)


@lru_cache(maxsize=_CACHE_SIZE)
def _compile(template: str) -> jinja2.Template:
    try:
        return _ENV.from_string(template)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateRenderError(
            f"template {_shown(template)} has a syntax error at line {exc.lineno}: {exc.message}"
        ) from None


def check_template(template: str) -> None:
    """Validate a template's syntax without rendering it.

    Lets a config be rejected before any request is made.
    """
    compiled(template)


def _literal(text: str) -> Any:
    """Read `text` as a Python literal when it is one, else return it as is."""
    try:
        value = ast.literal_eval(text)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return text
    if isinstance(value, complex):
        # "1j" or "2+3j" are more likely ids than numbers.
        return text
    return value


def render(template: str, context: dict[str, Any]) -> Any:
    """Render `template` with `context` and read the result as a literal.

    `"{}"` gives `{}`, `"None"` gives None, `"42"` gives 42; any other text
    (a URL, a path) is returned as text. Undefined names and any failure
    while rendering raise TemplateRenderError, whose message shows the
    template but never the context values.
    """
    try:
        text = compiled(template).render(context)
    except jinja2.TemplateError as exc:
        # Jinja's messages name attributes and types, not values.
        raise TemplateRenderError(
            f"could not render template {_shown(template)}: {type(exc).__name__}: {exc.message}"
        ) from None
    except Exception as exc:  # noqa: BLE001 - any failure inside user template code
        # Other exceptions may quote context values in their message: keep only the type.
        raise TemplateRenderError(
            f"could not render template {_shown(template)}: {type(exc).__name__} while rendering"
        ) from None
    return _literal(text)


def is_falsy(value: Any) -> bool:
    """Whether a rendered value counts as false (Airbyte's rules).

    False, "False", "false", {}, [], (), set(), "", 0, 0.0, None and "None"
    are false, as are the texts "{}", "[]", "()", "0" and "0.0".
    """
    if value is None:
        return True
    if isinstance(value, str):
        return value in _FALSY_STRINGS
    if isinstance(value, (bool, int, float)):
        return value == 0
    if isinstance(value, (dict, list, tuple, set, frozenset)):
        return len(value) == 0
    return False
