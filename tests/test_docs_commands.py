"""Every command line shown in README.md and docs/ is exercised here (issue 12, finding 9), so the
documented syntax cannot drift from the parser: each `terminal-agent ...` line must parse,
each option shown for install.sh / uninstall.sh must be one the script accepts, each `make X`
must be a target."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from terminal_agent.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
_STOP = {";", "&&", "||", "|", "#", ">", ">>", "2>&1"}
_OWNER_OPTIONS = {"-u", "-o", "-g", "--user", "--group"}  # `sudo -u terminal-agent`: a user
_PLACEHOLDERS = {"N": "3"}  # numbers shown as a letter


def snippets(path: Path) -> list[tuple[str, bool]]:
    """Lines of fenced code blocks, and inline code spans (``True``: inline, where a command
    named alone is a reference in a sentence, not a command line)."""
    text = path.read_text(encoding="utf-8")
    out: list[tuple[str, bool]] = []
    for block in re.findall(r"```[a-z]*\n(.*?)```", text, flags=re.S):
        out += [(ln.strip(), False) for ln in block.splitlines() if ln.strip()]
    prose = re.sub(r"```[a-z]*\n.*?```", "", text, flags=re.S)
    out += [(m.replace("\\|", "|"), True) for m in re.findall(r"`([^`\n]+)`", prose)]
    return out


def invocations(line: str, program: str) -> list[list[str]]:
    """The argument lists of ``program`` in one shell line (``a|b|c`` alternatives expanded,
    ``[optional]`` brackets dropped)."""
    try:
        words = shlex.split(line.split(" #", 1)[0])
    except ValueError:
        return []
    found: list[list[str]] = []
    for i, word in enumerate(words):
        is_program = word == program or word.endswith(f"/bin/{program}") or \
            word.endswith(f"/{program}") and program.endswith(".sh")
        if not is_program or (i > 0 and words[i - 1] in _OWNER_OPTIONS):
            continue
        args: list[str] = []
        for w in words[i + 1:]:
            if w in _STOP:
                break
            args += [_PLACEHOLDERS.get(a, a) for a in w.strip("[]").split() if a]
        found += expand(args)
    return found


def expand(args: list[str]) -> list[list[str]]:
    for n, arg in enumerate(args):
        if "|" in arg and not arg.startswith("-"):
            return [x for alt in arg.split("|") for x in expand([*args[:n], alt, *args[n + 1:]])]
    return [args]


def documented(program: str) -> list[tuple[str, list[str]]]:
    """(where, arguments); a command named alone inside a sentence is marked ``(name)``."""
    return [(f"{p.relative_to(ROOT)}: {line}" + (" (name)" if inline and len(args) == 1 else ""),
             args) for p in DOCS for line, inline in snippets(p)
            for args in invocations(line, program)]


COMMANDS = documented("terminal-agent")


def test_the_docs_show_commands():
    shown = {args[0] for _, args in COMMANDS if args}
    assert {"init", "check", "backup", "restore", "migrate", "status", "forward", "ui",
            "cashier", "reprint", "sim", "demo", "certify"} <= shown


@pytest.mark.parametrize("where, args", COMMANDS, ids=[w for w, _ in COMMANDS])
def test_each_documented_command_line_parses(where, args):
    if not args:
        pytest.skip("the program named alone")
    try:
        build_parser().parse_args(args)
    except SystemExit as exc:
        if where.endswith("(name)"):
            pytest.skip("a command named in a sentence, its arguments elsewhere")
        pytest.fail(f"{where}: `terminal-agent {' '.join(args)}` does not parse ({exc})")


@pytest.mark.parametrize("script", ["install.sh", "uninstall.sh"])
def test_each_documented_script_option_exists(script):
    accepted = set(re.findall(r"^\s+(--[a-z-]+)[)=|]", (ROOT / "systemd" / script).read_text(),
                              flags=re.M))
    shown = {a for _, args in documented(script) for a in args if a.startswith("--")}
    assert shown, f"no {script} line found in the docs"
    assert shown <= accepted, f"documented but not accepted by {script}: {shown - accepted}"


def test_each_documented_make_target_exists():
    makefile = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z][a-z-]*):", makefile, flags=re.M))
    shown = {args[0] for _, args in documented("make") if args and not args[0].startswith(".")}
    assert shown and shown <= targets, shown - targets
