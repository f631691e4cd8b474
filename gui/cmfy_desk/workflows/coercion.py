"""Conversion of user-typed values to the type of a workflow input, with range and choice checks.

Values come as strings from a command line or a CSV file, or as Python values from the window.
Each failure raises ValueError naming the parameter, the value and what is allowed.
"""

from __future__ import annotations

import difflib
import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cmfy_desk.workflows.parameters import Parameter

# At most this many choices are listed in an error message.
MAX_LISTED_CHOICES = 12


def parse_size(text: str) -> tuple[int, int]:
    """Parse ``WIDTHxHEIGHT`` (``x``, ``X`` or ``×``) into two whole numbers."""
    normalized = text.strip().lower().replace("×", "x")
    width_text, separator, height_text = normalized.partition("x")
    if separator:
        try:
            return int(width_text.strip()), int(height_text.strip())
        except ValueError:
            pass
    raise ValueError(f"size '{text}' is not WIDTHxHEIGHT, for example '1024x768'.")


def coerce_value(parameter: Parameter, value: Any, key: str | None = None) -> Any:
    """Convert ``value`` to the parameter's type and check its range or choices.

    Raises ValueError naming the parameter (``key`` as the user wrote it, when given), the
    value, and what is allowed.
    """
    name = parameter.key if key is None or key == parameter.key else f"{key} ({parameter.key})"
    match parameter.value_type:
        case "int":
            number: int | float = _to_int(value, name)
            _check_range(parameter, number, name)
            return number
        case "float":
            number = _to_float(value, name)
            _check_range(parameter, number, name)
            return number
        case "bool":
            return _to_bool(value, name)
        case "choice":
            return _to_choice(parameter, value, name)
        case _:
            if isinstance(value, str):
                return value
            if isinstance(value, int | float) and not isinstance(value, bool):
                return str(value)
            raise ValueError(f"{name}: {value!r} is not text.")


def _to_int(value: Any, name: str) -> int:
    if isinstance(value, bool):
        raise ValueError(f"{name}: {value!r} is not a whole number.")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        text = value.strip().replace("_", "")
        try:
            return int(text)
        except ValueError:
            pass
        try:
            number = float(text)
        except ValueError:
            number = math.nan
        if math.isfinite(number) and number.is_integer():
            return int(number)
    raise ValueError(f"{name}: {value!r} is not a whole number.")


def _to_float(value: Any, name: str) -> float:
    if isinstance(value, bool):
        raise ValueError(f"{name}: {value!r} is not a number.")
    number: float
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            raise ValueError(f"{name}: {value!r} is not a number.") from None
    else:
        raise ValueError(f"{name}: {value!r} is not a number.")
    if not math.isfinite(number):
        raise ValueError(f"{name}: {value!r} is not a finite number.")
    return number


def _to_bool(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "yes", "on", "1"):
        return True
    if text in ("false", "no", "off", "0"):
        return False
    raise ValueError(f"{name}: {value!r} is not true or false.")


def _to_choice(parameter: Parameter, value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{name}: {value!r} is not one of the choices; expected text.")
    text = value.strip()
    choices = parameter.choices
    if not choices or text in choices:
        return text
    close = difflib.get_close_matches(text, choices, n=3)
    hint = f" Did you mean {', '.join(close)}?" if close else ""
    listed = ", ".join(choices[:MAX_LISTED_CHOICES])
    if len(choices) > MAX_LISTED_CHOICES:
        listed += f" and {len(choices) - MAX_LISTED_CHOICES} more"
    raise ValueError(f"{name}: '{text}' is not one of the choices: {listed}.{hint}")


def _check_range(parameter: Parameter, number: float, name: str) -> None:
    low = parameter.minimum
    high = parameter.maximum
    if (low is not None and number < low) or (high is not None and number > high):
        allowed = (
            f"between {_format_number(low)} and {_format_number(high)}"
            if low is not None and high is not None
            else f"at least {_format_number(low)}"
            if low is not None
            else f"at most {_format_number(high)}"
        )
        raise ValueError(f"{name}: {_format_number(number)} is out of range; it must be {allowed}.")


def _format_number(number: float | None) -> str:
    if number is None:
        return "?"
    if isinstance(number, float) and number.is_integer() and abs(number) < 1e15:
        return str(int(number))
    return str(number)
