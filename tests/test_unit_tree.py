"""
The organisation tree cannot be bent into a cycle, and access never trusts it to be well formed:
the admin form and the unit import refuse a unit that would sit below itself, the database refuses
the shortest cycle, and a leader whose unit is cut off from the mine sees no one else's workers.
"""

import datetime as dt
from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

from certifications.progress.dashboard import dashboard_get
from certifications.spreadsheets.ledger import ledger_export
from tests import factories as f
from tests.site_fixtures import build_mine
from tests.spreadsheet_builders import xlsx_bytes
from training import access, tree
from training.admin import UnitTreeFilter
from training.models import Unit

UNIT_HEADER = ["Code", "Name", "Kind", "Parent unit", "Sort order"]


def plant_parent(unit, parent):
    """Set a unit's parent with raw SQL, past every validation, as a hand edit of the database would."""
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {qn(Unit._meta.db_table)} SET {qn('parent_id')} = %s WHERE {qn('id')} = %s",
            [parent.pk, unit.pk],
        )


def parents():
    return dict(Unit.objects.values_list("code", "parent__code"))


@pytest.fixture
def chain(db):
    """A, B, C below the mine, each a department."""
    mine = f.MineFactory()
    return {
        code: f.UnitFactory(code=code, name=f"{code}队", kind=Unit.Kind.PRODUCTION_TEAM, parent=mine)
        for code in ("A", "B", "C")
    }


def admin_change(client, unit, parent):
    return client.post(
        reverse("admin:training_unit_change", args=[unit.pk]),
        {
            "code": unit.code,
            "name": unit.name,
            "kind": unit.kind,
            "parent": parent.pk,
            "sort_order": 0,
            "version": f.signed_version(unit),
        },
    )


# --- the admin form ---------------------------------------------------------------------------------------


def test_the_admin_form_refuses_a_two_unit_cycle(hr_client, chain):
    a, b = chain["A"], chain["B"]
    assert admin_change(hr_client, b, a).status_code == 302
    before = parents()
    response = admin_change(hr_client, a, b)
    assert response.status_code == 200
    assert "A unit cannot sit below itself." in response.content.decode()
    assert parents() == before == {"MINE": None, "A": "MINE", "B": "A", "C": "MINE"}


def test_the_admin_form_refuses_a_three_unit_cycle(hr_client, chain):
    a, b, c = chain["A"], chain["B"], chain["C"]
    assert admin_change(hr_client, b, a).status_code == 302
    assert admin_change(hr_client, c, b).status_code == 302
    response = admin_change(hr_client, a, c)
    assert response.status_code == 200
    assert "A unit cannot sit below itself." in response.content.decode()
    assert parents() == {"MINE": None, "A": "MINE", "B": "A", "C": "B"}


def test_the_admin_form_refuses_a_unit_as_its_own_parent(hr_client, chain):
    response = admin_change(hr_client, chain["A"], chain["A"])
    assert "A unit cannot sit below itself." in response.content.decode()
    assert parents()["A"] == "MINE"


def test_the_admin_form_refuses_a_parent_cut_off_from_the_mine(hr_client, chain):
    a, b, c = chain["A"], chain["B"], chain["C"]
    plant_parent(a, b)
    plant_parent(b, a)
    response = admin_change(hr_client, c, a)
    assert "does not lead up to a mine" in response.content.decode()
    assert parents()["C"] == "MINE"


# --- the unit import --------------------------------------------------------------------------------------


def import_units(client, rows):
    return client.post(
        "/admin/training/unit/import/",
        {"format": 0, "resource": 0, "import_file": SimpleUploadedFile("units.xlsx", xlsx_bytes([UNIT_HEADER, *rows]))},
    )


@pytest.mark.parametrize(
    ("rows", "bad_row"),
    [
        # The sheet's own row numbers: its header is row 1.
        ([["A", "A队", "Production team", "B", 0], ["B", "B队", "Production team", "A", 0]], 3),
        (
            [
                ["A", "A队", "Production team", "B", 0],
                ["B", "B队", "Production team", "C", 0],
                ["C", "C队", "Production team", "A", 0],
            ],
            4,
        ),
        ([["A", "A队", "Production team", "A", 0]], 2),
    ],
    ids=["A<->B", "A->B->C->A", "A->A"],
)
def test_the_unit_import_refuses_a_cycle_naming_the_row_and_writes_nothing(hr_client, chain, rows, bad_row):
    before = parents()
    response = import_units(hr_client, rows)
    result = response.context["result"]
    assert result.has_validation_errors() and "confirm_form" not in response.context
    assert [row.number for row in result.invalid_rows] == [bad_row]
    assert "A unit cannot sit below itself." in response.content.decode()
    assert parents() == before


def test_a_confirmed_unit_import_that_now_makes_a_cycle_writes_nothing(hr_client, chain):
    # Previewed while B sat below the mine; B is moved below A before the confirm.
    response = import_units(hr_client, [["A", "A队", "Production team", "B", 0], ["C", "C队", "Office", "MINE", 5]])
    confirm = response.context["confirm_form"].initial
    assert admin_change(hr_client, chain["B"], chain["A"]).status_code == 302
    hr_client.post("/admin/training/unit/process_import/", confirm)
    assert parents() == {"MINE": None, "A": "MINE", "B": "A", "C": "MINE"}
    assert Unit.objects.get(code="C").kind == Unit.Kind.PRODUCTION_TEAM


def test_a_unit_import_that_moves_a_branch_without_a_cycle_is_accepted(hr_client, chain):
    response = import_units(
        hr_client, [["A", "A队", "Production team", "B", 0], ["C", "C队", "Production team", "A", 0]]
    )
    assert not response.context["result"].has_validation_errors()
    hr_client.post("/admin/training/unit/process_import/", response.context["confirm_form"].initial)
    assert parents() == {"MINE": None, "A": "B", "B": "MINE", "C": "A"}


# --- the database ------------------------------------------------------------------------------------------


def test_the_database_refuses_a_unit_as_its_own_parent(chain):
    with pytest.raises(IntegrityError), transaction.atomic():
        plant_parent(chain["A"], chain["A"])


# --- access fails closed on a tree broken past validation ---------------------------------------------------


@pytest.fixture
def broken(db, today):
    """The leader's department and the other department made each other's parent with raw SQL."""
    mine = build_mine()
    plant_parent(mine.dept, mine.other_dept)
    plant_parent(mine.other_dept, mine.dept)
    return mine


def test_the_subtree_walks_end_on_a_cycle(broken):
    m = broken
    in_cycle = {m.dept.pk, m.crew.pk, m.other_dept.pk, m.other_crew.pk}
    assert access.unit_subtree_ids(m.dept) == in_cycle
    assert {u.pk for u in access.subtree_units(m.other_dept)} == in_cycle
    assert access.descendant_unit_ids(m.dept.pk, dict(Unit.objects.values_list("id", "parent_id"))) == in_cycle
    assert Unit.objects.parents_above(m.crew.pk) == {
        m.crew.pk: m.dept.pk,
        m.dept.pk: m.other_dept.pk,
        m.other_dept.pk: m.dept.pk,
    }
    assert not tree.path_is_sound(m.crew.pk, Unit.objects.parents_above(m.crew.pk))
    assert tree.path_is_sound(m.mine.pk, Unit.objects.parents_above(m.mine.pk))
    # HR's views of the whole tree still draw, the cut-off units simply outside the mine.
    assert {s.unit.pk for s in dashboard_get(on=dt.date(2026, 6, 1)).units} >= {m.mine.pk}
    choices = UnitTreeFilter(None, {}, Unit, None).lookups(None, None)
    assert [label for _pk, label in choices] == [m.mine.name]


def test_a_leader_whose_unit_is_cut_off_leads_no_one(broken):
    assert access.led_unit(broken.leader.user) is None
    assert access.visible_unit_ids(broken.leader.user) == set()
    assert list(access.visible_workers(broken.leader.user)) == [broken.leader]


def test_every_page_a_leader_reaches_hides_the_other_crews_workers(broken):
    m = broken
    client = Client()
    client.force_login(m.leader.user)
    assert client.get(reverse("home"))["Location"] == reverse("certifications:me")
    assert client.get(m.leader.get_absolute_url()).status_code == 200
    for worker in (m.outsider, m.classmate, m.trainee):
        assert client.get(worker.get_absolute_url()).status_code == 404
    for unit in (m.dept, m.crew, m.other_dept, m.other_crew, m.mine):
        assert client.get(unit.get_absolute_url()).status_code == 404
    assert client.get(reverse("certifications:roster-check")).status_code in (403, 404)
    assert client.get(reverse("certifications:forecast-xlsx")).status_code in (403, 404)
    for unit in (m.dept, m.other_dept):
        assert client.post(reverse("certifications:ledger-export"), {"unit": unit.code}).status_code == 404
    for url in (reverse("certifications:me"), reverse("home")):
        body = client.get(url, follow=True).content.decode()
        for worker in (m.outsider, m.classmate, m.trainee):
            assert worker.name not in body and worker.employee_no not in body


def test_the_ledger_export_of_a_cut_off_leader_holds_only_their_own_record(broken):
    buffer = BytesIO()
    ledger_export(buffer, user=broken.leader.user)
    book = load_workbook(BytesIO(buffer.getvalue()), read_only=True)
    cells = {str(c) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True) for c in row if c}
    assert broken.leader.employee_no in cells
    for worker in (broken.outsider, broken.classmate, broken.trainee):
        assert worker.employee_no not in cells


def test_the_api_of_a_cut_off_leader_hides_the_other_crews_workers(broken, client):
    from django.contrib.auth.models import Permission

    from certifications.clearance import tokens as compliance

    trade = f.TradeFactory(code="T1", name="综采维修电工")
    user = broken.leader.user
    user.user_permissions.add(Permission.objects.get(codename="use_clearance_api"))
    _token, raw = compliance.api_token_create(user=user, name="crew tablet")

    def status(worker):
        return client.get(
            reverse("certifications:api-clearance"),
            {"employee_no": worker.employee_no, "trade": trade.name, "on": "2026-06-01"},
            headers={"Authorization": f"Token {raw}"},
        ).status_code

    assert status(broken.leader) == 200
    assert [status(w) for w in (broken.outsider, broken.classmate, broken.trainee)] == [404, 404, 404]


def test_a_leader_on_a_sound_path_still_sees_their_subtree(db, today):
    m = build_mine()
    assert access.led_unit(m.leader.user) == m.dept
    assert set(access.visible_workers(m.leader.user)) == {m.trainee, m.classmate, m.leader}


# --- the rule, over random trees ---------------------------------------------------------------------------

N = 7


def reaches_root(node, parent_of):
    """The oracle: follow parents at most N steps; a sound path ends at None in fewer."""
    for _ in range(N + 1):
        if node is None:
            return True
        if node not in parent_of:
            return False
        node = parent_of[node]
    return False


any_parents = st.lists(st.one_of(st.none(), st.integers(0, N - 1)), min_size=N, max_size=N).map(
    lambda ps: dict(enumerate(ps))
)


@st.composite
def forests(draw):
    """An acyclic parent map: each node's parent comes earlier in a random order."""
    order = draw(st.permutations(range(N)))
    parent_of = {}
    for i, node in enumerate(order):
        parent_of[node] = draw(st.one_of(st.none(), st.sampled_from(order[:i]))) if i else None
    return parent_of


@given(forests(), st.integers(0, N - 1), st.one_of(st.none(), st.integers(0, N - 1)))
def test_on_a_sound_tree_the_validator_accepts_exactly_the_moves_that_keep_it_acyclic(parent_of, unit, parent):
    after = {**parent_of, unit: parent}
    acyclic = all(reaches_root(node, after) for node in after)
    assert (tree.parent_refusal(unit, parent, parent_of) is None) == acyclic


@given(any_parents, st.integers(0, N - 1), st.one_of(st.none(), st.integers(0, N - 1)))
def test_on_any_parent_map_the_validator_accepts_exactly_a_sound_path_for_the_unit(parent_of, unit, parent):
    after = {**parent_of, unit: parent}
    assert (tree.parent_refusal(unit, parent, parent_of) is None) == reaches_root(unit, after)
    for node in parent_of:
        assert tree.path_is_sound(node, parent_of) == reaches_root(node, parent_of)
