"""
Every service (a write) and selector (a read for a page) says what it takes and gives.

Services and selectors are the doors the rest of the house goes through, so
their signatures are the contract: each public function in a service or
selector module annotates every parameter and its return.
"""

import importlib
import inspect
import pkgutil

import pytest

# Modules whose name marks them as services (writes) or selectors (reads).
DOOR_MODULE_NAMES = {"services", "inputs", "figures", "facts", "forecast", "selectors", "reminders", "tokens"}
PACKAGES = ("core", "training", "certifications")


def _door_modules():
    for package_name in PACKAGES:
        package = importlib.import_module(package_name)
        for info in pkgutil.walk_packages(package.__path__, prefix=f"{package_name}."):
            if info.name.rsplit(".", 1)[-1] in DOOR_MODULE_NAMES:
                yield importlib.import_module(info.name)


def _public_functions(module):
    for name, value in vars(module).items():
        if name.startswith("_") or not inspect.isfunction(value):
            continue
        if value.__module__ != module.__name__:
            continue  # imported from elsewhere; checked in its own module
        yield name, value


def _missing_annotations(function) -> list[str]:
    signature = inspect.signature(function)
    missing = [
        parameter.name
        for parameter in signature.parameters.values()
        if parameter.annotation is inspect.Parameter.empty
        and parameter.kind not in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD)
    ]
    if signature.return_annotation is inspect.Signature.empty:
        missing.append("return")
    return missing


def test_there_are_door_modules_to_check():
    names = {module.__name__ for module in _door_modules()}
    assert "certifications.ranks.services" in names
    assert "certifications.ranks.inputs" in names


@pytest.mark.parametrize("module", list(_door_modules()), ids=lambda module: module.__name__)
def test_every_service_and_selector_signature_is_annotated(module):
    unannotated = {
        name: missing for name, function in _public_functions(module) if (missing := _missing_annotations(function))
    }
    assert not unannotated, f"{module.__name__}: functions without type hints (parameter names): {unannotated}"


def test_the_check_notices_a_missing_hint():
    def untyped(worker, *, on):
        return worker

    def typed(worker: int, *, on: str) -> int:
        return worker

    assert _missing_annotations(untyped) == ["worker", "on", "return"]
    assert _missing_annotations(typed) == []
