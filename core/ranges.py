"""
The range every number and the length every text may take, the same on SQLite
and PostgreSQL (issue 12, class 3). Models bound their fields with `between`;
code that writes without a model's full_clean (the results import) asks
`field_problems` for the same messages the admin form gives.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator


def between(low, high) -> list:
    """The validators of a number that must lie in low..high (both included)."""
    return [MinValueValidator(low), MaxValueValidator(high)]


def field_problems(model, name: str, value) -> list[str]:
    """Return the messages the model field `name` gives for `value` (its validators and max_length); [] if fine."""
    field = model._meta.get_field(name)
    try:
        field.run_validators(value)
    except ValidationError as exc:
        return list(exc.messages)
    return []
