"""
A model's constraints checked on an instance in Python, without a query
(issue 12, class 7). Django's CheckConstraint.validate asks the database
(one query per constraint and row); an import of 10,000 rows cannot afford that,
and leaving the check to the database shows a raw IntegrityError. `check`
evaluates a CheckConstraint's condition with SQL's three-valued logic (a NULL
comparison is unknown, and only a false condition is a violation), for the
lookups the apps' constraints use; anything else raises Unsupported, and
`violations` then falls back to Django's own (querying) check.
"""

from __future__ import annotations

from django.core.exceptions import NON_FIELD_ERRORS, FieldDoesNotExist, ValidationError
from django.db.models import CheckConstraint, F, Q

LOOKUPS = {
    "exact": lambda a, b: a == b,
    "gt": lambda a, b: a > b,
    "gte": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "lte": lambda a, b: a <= b,
    "in": lambda a, b: a in b,
}


class Unsupported(Exception):
    """The condition uses something this evaluator does not know; ask the database."""


def _attname(model, name: str) -> str:
    try:
        return model._meta.get_field(name).attname
    except FieldDoesNotExist:
        raise Unsupported(name) from None


def _value(model, instance, value):
    if isinstance(value, F):
        return getattr(instance, _attname(model, value.name))
    if hasattr(value, "resolve_expression"):
        raise Unsupported(repr(value))
    return value


def _lookup(model, instance, path: str, value):
    name, _sep, lookup = path.partition("__")
    lookup = lookup or "exact"
    if "__" in lookup:
        raise Unsupported(path)  # a lookup across a relation
    left = getattr(instance, _attname(model, name))
    right = _value(model, instance, value)
    if lookup == "isnull":
        return (left is None) == bool(right)
    if lookup == "exact" and value is None:
        return left is None  # Django reads field=None as field__isnull=True; F() to a NULL compares as unknown
    if lookup not in LOOKUPS:
        raise Unsupported(path)
    if left is None or right is None:
        return None  # SQL: a comparison with NULL is unknown
    if lookup == "in":
        right = [_value(model, instance, v) for v in right]
    return LOOKUPS[lookup](left, right)


def evaluate(model, instance, q: Q):
    """Return True, False or None (unknown) for `q` on `instance`, as the database would."""
    results = []
    for child in q.children:
        if isinstance(child, Q):
            results.append(evaluate(model, instance, child))
        else:
            results.append(_lookup(model, instance, *child))
    if q.connector == Q.AND:
        result = False if False in results else (None if None in results else True)
    elif q.connector == Q.OR:
        result = True if True in results else (None if None in results else False)
    else:
        raise Unsupported(q.connector)
    if q.negated:
        result = None if result is None else not result
    return result


def referenced_fields(q: Q) -> set[str]:
    names = set()
    for child in q.children:
        if isinstance(child, Q):
            names |= referenced_fields(child)
        else:
            path, value = child
            names.add(path.split("__")[0])
            if isinstance(value, F):
                names.add(value.name)
    return names


def check(model, constraint: CheckConstraint, instance) -> bool:
    """True unless the instance violates the constraint (a condition that is unknown passes, as in SQL)."""
    return evaluate(model, instance, constraint.condition) is not False


def supported(model, condition: Q) -> bool:
    """Whether `check` can evaluate a condition in Python (tests/test_ranges.py asserts it for every model)."""
    if condition.connector not in (Q.AND, Q.OR):
        return False
    for child in condition.children:
        if isinstance(child, Q):
            if not supported(model, child):
                return False
            continue
        path, value = child
        name, _sep, lookup = path.partition("__")
        if (lookup or "exact") not in {*LOOKUPS, "isnull"}:
            return False
        try:
            _attname(model, name)
            if isinstance(value, F):
                _attname(model, value.name)
            elif hasattr(value, "resolve_expression"):
                return False
        except Unsupported:
            return False
    return True


def violations(model, instance, exclude=()) -> list[ValidationError]:
    """The CheckConstraints `instance` breaks, each with the message the admin form gives; no query when supported.

    A constraint naming a field in `exclude` (one that already has an error) is not checked, as in Django.
    """
    errors = []
    for constraint in model._meta.constraints:
        if not isinstance(constraint, CheckConstraint):
            continue
        fields = {_name(model, n) for n in referenced_fields(constraint.condition)}
        if fields & set(exclude):
            continue
        try:
            ok = check(model, constraint, instance)
        except Unsupported:
            try:
                constraint.validate(model, instance, exclude=set(exclude))
            except ValidationError as exc:
                errors.append(exc)
            continue
        if not ok:
            errors.append(
                ValidationError(constraint.get_violation_error_message(), code=constraint.violation_error_code)
            )
    return errors


def _name(model, name: str) -> str:
    try:
        return model._meta.get_field(name).name
    except FieldDoesNotExist:
        return name


def as_error_dict(errors: list[ValidationError]) -> dict:
    return {NON_FIELD_ERRORS: errors} if errors else {}


class UniqueIndex:
    """
    Every unique field and UniqueConstraint of a model, checked for many instances
    (one import) with one query per unique set, against the stored rows (soft-deleted
    ones too: a unique field holds for them) and the rows seen so far.
    """

    def __init__(self, model, *, within_file_skip: frozenset[str] = frozenset()):
        self.model = model
        self.sets = []  # (field names, condition, constraint or None)
        for field in model._meta.concrete_fields:
            if field.unique and not field.primary_key:
                self.sets.append(((field.name,), None, None))
        for names in model._meta.unique_together:
            self.sets.append((tuple(names), None, None))
        from django.db.models import UniqueConstraint

        for constraint in model._meta.constraints:
            if isinstance(constraint, UniqueConstraint) and constraint.fields and not constraint.expressions:
                self.sets.append((tuple(constraint.fields), constraint.condition, constraint))
        # Sets containing every import id field: two rows sharing them are already "a repeated row".
        self.within_file_skip = within_file_skip
        self._stored = {}
        self._seen = {}

    def _attnames(self, names):
        return [self.model._meta.get_field(n).attname for n in names]

    def _stored_keys(self, index):
        if index not in self._stored:
            names, condition, _constraint = self.sets[index]
            rows = self.model._base_manager.all()
            if condition is not None:
                rows = rows.filter(condition)
            stored = {}
            for pk, *key in rows.values_list("pk", *self._attnames(names)):
                stored.setdefault(tuple(key), set()).add(pk)
            self._stored[index] = stored
        return self._stored[index]

    def violations(self, instance, *, row=None, exclude=()) -> list[ValidationError]:
        errors = []
        for index, (names, condition, constraint) in enumerate(self.sets):
            if set(names) & set(exclude):
                continue
            if condition is not None:
                try:
                    if evaluate(self.model, instance, condition) is not True:
                        continue
                except Unsupported:
                    continue  # the database will tell; no constraint of the apps gets here (tests/test_ranges.py)
            key = tuple(getattr(instance, a) for a in self._attnames(names))
            if any(k is None for k in key):
                continue  # NULLs are distinct
            if self._stored_keys(index).get(key, set()) - {instance.pk}:
                errors.append(self._message(instance, names, constraint, None))
                continue
            if self.within_file_skip and set(names) >= self.within_file_skip:
                continue  # two rows with the same import id are reported as a repeated row
            earlier = self._seen.setdefault((index, key), (row, instance.pk))
            if earlier != (row, instance.pk) and not (instance.pk is not None and earlier[1] == instance.pk):
                errors.append(self._message(instance, names, constraint, earlier[0]))
        return errors

    def _message(self, instance, names, constraint, earlier_row):
        if constraint is None or (
            constraint.condition is None
            and constraint.violation_error_message == constraint.default_violation_error_message
        ):
            error = instance.unique_error_message(self.model, names)
            message = error.message % error.params if error.params else error.message
        else:
            message = constraint.get_violation_error_message()
        if earlier_row is not None:
            from django.utils.translation import gettext

            message = gettext("%(message)s (row %(row)s of this file)") % {"message": message, "row": earlier_row}
        return ValidationError(message, code="unique")
