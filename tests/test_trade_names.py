"""One lookup of a trade by what people call it: the roster check, the clearance API and the results import."""

import ast
from pathlib import Path

import pytest

from tests.factories import TradeFactory
from training.selectors import trade_names_get

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent


def test_a_trade_is_found_by_code_name_or_other_name_whatever_the_width_and_case():
    trade = TradeFactory(code="MW01", name="综采维修电工", aliases="电钳工，Fitter, 维修工")
    names = trade_names_get()
    for text in ("MW01", "mw01", "ＭＷ０１", " 综采维修电工 ", "电钳工", "fitter", "FITTER", "维修工"):
        assert names.get(text) == trade, text
    assert names.get("采煤工") is None
    assert names.get("") is None


def test_a_code_wins_over_a_name_and_a_name_over_another_trades_other_name():
    coded = TradeFactory(code="DQ", name="电气工")
    named = TradeFactory(code="X2", name="采煤工", aliases="DQ")
    TradeFactory(code="X3", name="掘进工", aliases="采煤工")
    names = trade_names_get()
    assert names.get("dq") == coded
    assert names.get("采煤工") == named


def test_the_lookup_is_one_query(django_assert_num_queries):
    TradeFactory.create_batch(5)
    with django_assert_num_queries(1):
        trade_names_get()


def test_no_other_module_builds_its_own_trade_lookup():
    """A second lookup (e.g. reading Trade.aliases or alias_list() elsewhere) would match names differently."""
    offenders = []
    for path in [*ROOT.glob("certifications/**/*.py"), *ROOT.glob("training/**/*.py"), *ROOT.glob("demo/**/*.py")]:
        if "migrations" in path.parts or path.name in ("selectors.py", "models.py"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr == "alias_list":
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
            reads_aliases = isinstance(node, ast.Constant) and node.value == "aliases"
            if reads_aliases and path.name != "admin.py" and path.parts[-2] != "demo":  # the demo writes them
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not offenders, offenders
