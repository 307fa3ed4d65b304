"""
The organisation tree's one rule: every unit's parents lead, without repeating, to a root.

Pure functions over `{unit id: parent id}`, so the admin form, the unit import and the access
rules decide the same way, and a tree that is already broken cannot make them loop.
"""

from collections.abc import Mapping


def path_to_root(unit_id: int, parent_of: Mapping[int, int | None]) -> list[int] | None:
    """Return the ids from unit_id up to its root, or None if the path repeats a unit or leaves the map."""
    path, seen = [], set()
    node: int | None = unit_id
    while node is not None:
        if node in seen or node not in parent_of:
            return None
        seen.add(node)
        path.append(node)
        node = parent_of[node]
    return path


def path_is_sound(unit_id: int, parent_of: Mapping[int, int | None]) -> bool:
    """Return True if unit_id's parents lead to a root without a cycle or a missing unit."""
    return path_to_root(unit_id, parent_of) is not None


def parent_would_cycle(unit_id: int, parent_id: int | None, parent_of: Mapping[int, int | None]) -> bool:
    """Return True if giving unit_id this parent would put it below itself."""
    node, seen = parent_id, set()
    while node is not None and node not in seen:
        if node == unit_id:
            return True
        seen.add(node)
        node = parent_of.get(node)
    return False


def parent_refusal(unit_id: int | None, parent_id: int | None, parent_of: Mapping[int, int | None]) -> str | None:
    """
    Return why unit_id may not take this parent — "cycle" (it would sit below itself) or "broken" (the
    parent's own path up repeats or names a missing unit) — or None if it may. A new unit has no id.
    """
    if parent_id is None:
        return None
    if unit_id is not None and parent_would_cycle(unit_id, parent_id, parent_of):
        return "cycle"
    if not path_is_sound(parent_id, parent_of):
        return "broken"
    return None
