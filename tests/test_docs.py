"""
The documentation a newcomer reads stays true: the README is short and names the two commands and every demo
login `make run` prints; every relative link resolves; every section of docs/domain.md the code cites exists;
nothing points outside the repository; and every repo path docs/architecture.md names exists.
"""

import re
import unicodedata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs"
SKIPPED_DIRS = {".venv", ".git", "__pycache__", "var", "staticfiles", "test-artifacts", ".hypothesis", ".pytest_cache"}
# Built from pieces so this file does not name what it forbids.
FORBIDDEN = ("../" + "shared/", "docs/" + "TEAM.md")

LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
CITATION = re.compile(r"docs/domain\.md\s*§\s*(\d+)")
DOMAIN_SECTION = re.compile(r"^#{1,6}\s*§(\d+)\b", re.MULTILINE)
BACKTICKED = re.compile(r"`([^`\n]+)`")
FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)


def repo_files():
    """Yield every file of the working tree, leaving out the virtualenv, git's own files and build output."""
    for path in ROOT.rglob("*"):
        parts = path.relative_to(ROOT).parts
        if any(part in SKIPPED_DIRS for part in parts[:-1]) or not path.is_file():
            continue
        yield path


def markdown_pages() -> list[Path]:
    return [README, ROOT / "CONTRIBUTING.md", *sorted(DOCS.glob("*.md"))]


def slug(heading: str) -> str:
    """Return the anchor GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = heading.strip().lower()
    text = "".join(c for c in text if c in " -_" or unicodedata.category(c)[0] in "LN")
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    text = FENCE.sub("", page.read_text(encoding="utf-8"))
    return {slug(m.group(1)) for m in re.finditer(r"^#{1,6}\s+(.+?)\s*#*\s*$", text, re.MULTILINE)}


def broken_links(page: Path) -> list[str]:
    """Return each relative link of a markdown page whose file (or #anchor) does not exist."""
    broken = []
    text = FENCE.sub("", page.read_text(encoding="utf-8"))
    for target in LINK.findall(text):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:
            continue
        path_part, _hash, anchor = target.partition("#")
        linked = (page.parent / path_part).resolve() if path_part else page
        if not linked.exists():
            broken.append(f"{target} (no such file)")
        elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
            broken.append(f"{target} (no heading #{anchor})")
    return broken


def test_the_readme_is_at_most_250_lines():
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 250, f"README.md has {len(lines)} lines; move detail into docs/"


def test_the_readme_names_both_commands():
    text = README.read_text(encoding="utf-8")
    assert "`make run`" in text
    assert "`make test`" in text


def makefile_demo_logins() -> list[str]:
    """Return the logins the Makefile's run target prints, e.g. `    admin     superuser`."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    run_target = makefile.split("\nrun:", 1)[1].split("\n\n", 1)[0]
    return re.findall(r'@echo "\s{4}(\w+)\s{2,}', run_target)


def test_the_makefile_prints_the_demo_logins_the_test_reads():
    assert makefile_demo_logins() == ["admin", "hr", "officer", "assessor", "leader", "trainee"]


def test_the_readme_lists_every_demo_login_and_the_demo_password():
    text = README.read_text(encoding="utf-8")
    missing = [login for login in makefile_demo_logins() if f"`{login}`" not in text]
    assert not missing, f"demo logins missing from README.md: {missing}"
    password = re.search(r"password '(\w+)'", (ROOT / "Makefile").read_text(encoding="utf-8")).group(1)
    assert f"`{password}`" in text


def test_the_readme_links_every_docs_page():
    text = README.read_text(encoding="utf-8")
    missing = [page.name for page in sorted(DOCS.glob("*.md")) if f"(docs/{page.name})" not in text]
    assert not missing, f"docs pages the README does not link: {missing}"


@pytest.mark.parametrize("page", markdown_pages(), ids=lambda page: str(page.relative_to(ROOT)))
def test_every_relative_link_resolves(page):
    assert broken_links(page) == []


def test_the_link_check_notices_a_missing_file_and_a_missing_heading(tmp_path):
    (tmp_path / "other.md").write_text("# Other page\n\n## Real heading\n", encoding="utf-8")
    page = tmp_path / "page.md"
    page.write_text(
        "[ok](other.md) [ok](other.md#real-heading) [web](https://example.com/x) [gone](missing.md) "
        "[bad](other.md#no-such-heading)\n",
        encoding="utf-8",
    )
    assert broken_links(page) == ["missing.md (no such file)", "other.md#no-such-heading (no heading #no-such-heading)"]


def test_headings_slug_as_on_github():
    assert slug("§1. Vocabulary") == "1-vocabulary"
    assert slug("The background task worker") == "the-background-task-worker"
    assert slug("Clearance API") == "clearance-api"


def test_every_cited_domain_section_exists():
    sections = set(DOMAIN_SECTION.findall((DOCS / "domain.md").read_text(encoding="utf-8")))
    cited = {}
    for path in repo_files():
        if path.suffix not in (".py", ".html"):
            continue
        for number in CITATION.findall(path.read_text(encoding="utf-8")):
            cited.setdefault(number, []).append(str(path.relative_to(ROOT)))
    assert cited, "no file cites docs/domain.md §N: the check would pass vacuously"
    missing = {f"§{n}": files for n, files in cited.items() if n not in sections}
    assert not missing, f"sections cited but not in docs/domain.md: {missing}"


def test_the_domain_reference_keeps_its_five_sections():
    sections = DOMAIN_SECTION.findall((DOCS / "domain.md").read_text(encoding="utf-8"))
    assert sections == ["1", "2", "3", "4", "5"]


def test_no_file_refers_outside_the_repository_or_to_the_removed_team_page():
    found = []
    for path in repo_files():
        data = path.read_bytes()
        found += [f"{path.relative_to(ROOT)}: {text}" for text in FORBIDDEN if text.encode() in data]
    assert not found


def architecture_paths() -> list[str]:
    """Return what docs/architecture.md writes in backticks that looks like a repo path."""
    text = (DOCS / "architecture.md").read_text(encoding="utf-8")
    return sorted({value for value in BACKTICKED.findall(FENCE.sub("", text)) if "/" in value or value.endswith(".py")})


def test_architecture_names_repo_paths():
    assert "training/access.py" in architecture_paths()


@pytest.mark.parametrize("path", architecture_paths())
def test_every_path_in_the_architecture_page_exists(path):
    assert (ROOT / path).exists(), f"docs/architecture.md names {path}, which does not exist"
