"""
Who may see which workers. Every site view, export and API goes through here,
so access control lives in one place.
"""

from django.db import connection
from django.http import Http404

from training import roles
from training.models import Unit, Worker
from training.tree import path_is_sound


def is_hr(user) -> bool:
    """Return True for the training department (and superusers): they see everything."""
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    return _group_names(user) & {roles.HR} != set()


def _group_names(user) -> set[str]:
    # Cached on the user object: a page asks several times per request.
    if not hasattr(user, "_kuangjiang_groups"):
        user._kuangjiang_groups = set(user.groups.values_list("name", flat=True))
    return user._kuangjiang_groups


def user_worker(user) -> Worker | None:
    """Return the worker linked to this login, if any."""
    if not user.is_authenticated:
        return None
    try:
        return Worker.objects.select_related("unit").get(user=user)
    except Worker.DoesNotExist:
        return None


def descendant_unit_ids(root_id: int, parent_of: dict[int, int | None]) -> set[int]:
    """Return root_id and every unit below it, given each unit's parent."""
    children: dict[int | None, list[int]] = {}
    for unit_id, parent_id in parent_of.items():
        children.setdefault(parent_id, []).append(unit_id)
    found, stack = set(), [root_id]
    while stack:
        unit_id = stack.pop()
        if unit_id in found:
            continue
        found.add(unit_id)
        stack.extend(children.get(unit_id, ()))
    return found


def _subtree_sql(columns: str) -> str:
    # A recursive query walks down from the unit, so a crew's page does not read every unit of the group.
    # UNION (not UNION ALL) stops at a unit already reached, should the tree ever contain a cycle.
    qn = connection.ops.quote_name
    table = qn(Unit._meta.db_table)
    return (
        f"WITH RECURSIVE subtree(id) AS (SELECT r.{qn('id')} FROM {table} r WHERE r.{qn('id')} = %s "
        f"UNION SELECT u.{qn('id')} FROM {table} u "
        f"INNER JOIN subtree s ON u.{qn('parent_id')} = s.id) "
        f"SELECT {columns} FROM {table} u WHERE u.{qn('id')} IN (SELECT id FROM subtree)"
    )


def unit_subtree_ids(unit: Unit) -> set[int]:
    """Return the ids of a unit and all units below it, in one query."""
    with connection.cursor() as cursor:
        cursor.execute(_subtree_sql(f"u.{connection.ops.quote_name('id')}"), [unit.pk])
        return {row[0] for row in cursor.fetchall()}


def subtree_units(unit: Unit) -> list[Unit]:
    """Return a unit and all units below it, ordered by sort order and code, in one query."""
    qn = connection.ops.quote_name
    columns = ", ".join(f"u.{qn(f.column)}" for f in Unit._meta.concrete_fields)
    return list(Unit.objects.raw(_subtree_sql(columns) + f" ORDER BY u.{qn('sort_order')}, u.{qn('code')}", [unit.pk]))


def led_unit(user) -> Unit | None:
    """Return the unit a crew leader leads (their worker record's), if its path up to the mine is sound."""
    worker = user_worker(user)
    if worker is None or not worker.is_team_leader or roles.LEADER not in _group_names(user):
        return None
    # Fail closed: a unit in a cycle has a "subtree" that takes in the other units of the cycle and all
    # below them, so a leader of a unit cut off from the mine leads no one and sees only their own record.
    if not _path_is_sound(user, worker.unit_id):
        return None
    return worker.unit


def _path_is_sound(user, unit_id: int) -> bool:
    # Cached on the user object, as the groups are: a page asks several times per request.
    if not hasattr(user, "_kuangjiang_sound_paths"):
        user._kuangjiang_sound_paths = {}
    cache = user._kuangjiang_sound_paths
    if unit_id not in cache:
        cache[unit_id] = path_is_sound(unit_id, Unit.objects.parents_above(unit_id))
    return cache[unit_id]


def visible_unit_ids(user) -> frozenset[int] | None:
    """Return the unit ids whose workers this user may see; None means all of them."""
    # Cached on the user object, as the groups are: a page asks several times per request.
    if not hasattr(user, "_kuangjiang_visible_units"):
        if is_hr(user):
            user._kuangjiang_visible_units = None
        else:
            unit = led_unit(user)
            user._kuangjiang_visible_units = frozenset() if unit is None else frozenset(unit_subtree_ids(unit))
    return user._kuangjiang_visible_units


def unit_visible(user, unit_id: int) -> bool:
    """Whether this user may open the unit's page (HR: any; a crew leader: their subtree)."""
    allowed_units = visible_unit_ids(user)
    return allowed_units is None or unit_id in allowed_units


def visible_workers(user):
    """Return the workers this user may see: all for HR, a leader's subtree, a trainee's own record."""
    allowed_units = visible_unit_ids(user)
    if allowed_units is None:
        return Worker.objects.all()
    if allowed_units:
        return Worker.objects.filter(unit_id__in=allowed_units)
    if user.is_authenticated:
        return Worker.objects.filter(user=user)
    return Worker.objects.none()


def worker_for_user_or_404(user, employee_no: str) -> Worker:
    """Return the worker if this user may see them; otherwise 404, so existence does not leak."""
    try:
        return visible_workers(user).select_related("unit").get(employee_no=employee_no)
    except Worker.DoesNotExist:
        raise Http404("No such worker.") from None


def unit_for_user_or_404(user, code: str) -> Unit:
    """Return the unit if this user may see it (HR: any; leader: their subtree); otherwise 404."""
    try:
        unit = Unit.objects.select_related("parent").get(code=code)
    except Unit.DoesNotExist:
        raise Http404("No such unit.") from None
    allowed_units = visible_unit_ids(user)
    if allowed_units is not None and unit.pk not in allowed_units:
        raise Http404("No such unit.")
    return unit
