#!/usr/bin/env python3
"""Reports every C++ function whose definition is longer than --max lines.

A function's length is counted from the line of its name to the line of its closing brace, both
included (what an editor shows as the function). Lambdas and local classes count towards the
function that contains them; member functions defined inside a class are checked one by one.

The source is first stripped of comments and of string and character literals (raw strings too),
so braces in them do not count; then braces are matched. At namespace and class scope, a `{` opens
a function body when the text before it ends like a parameter list: `)` followed by nothing but
qualifiers (const, noexcept, override, final, a trailing return type) or by a constructor's
member-initialiser list.

Usage: check_function_length.py [--max N] PATH...      (directories are searched for C++ files)
       check_function_length.py --self-test
Exit status: 0 when every function is within the limit, 1 when one is not, 2 on a usage error or
when the self-test (run before every check) fails.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

CPP_SUFFIXES = {".cpp", ".cc", ".cxx", ".hpp", ".h", ".hh", ".hxx", ".ipp"}


def strip_code(text: str) -> str:
    """The text with comments and literals blanked out; newlines (so line numbers) are kept."""
    out: list[str] = []
    i, n = 0, len(text)

    def blank(s: str) -> str:
        return "".join("\n" if c == "\n" else " " for c in s)

    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(blank(text[i:j]))
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(blank(text[i:j]))
            i = j
        elif c == "R" and text.startswith('"', i + 1) and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")
                                                           or text[i - 1] in "uUL8"):
            m = re.match(r'R"([^()\\\s]{0,16})\(', text[i:])
            if not m:
                out.append(c)
                i += 1
                continue
            end = text.find(")" + m.group(1) + '"', i + m.end())
            end = n if end < 0 else end + len(m.group(1)) + 2
            out.append('""' + blank(text[i + 2:end]))
            i = end
        elif c in "\"'":
            # A digit separator (1'000'000) is not a character literal.
            if c == "'" and i > 0 and text[i - 1].isalnum() and re.match(r"[0-9a-fA-F]", text[i + 1:i + 2] or "") \
                    and re.search(r"\b[0-9][0-9a-fA-FxXbB']*$", text[max(0, i - 40):i]):
                out.append(c)
                i += 1
                continue
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
            out.append(c + blank(text[i + 1:j - 1]) + c)
            i = j
        else:
            out.append(c)
            i += 1
    return blank_preprocessor("".join(out))


def blank_preprocessor(code: str) -> str:
    """Directive lines (and their backslash continuations) blanked: they are no declarations."""
    lines = code.split("\n")
    continued = False
    for k, line in enumerate(lines):
        if continued or line.lstrip().startswith("#"):
            continued = line.rstrip().endswith("\\")
            lines[k] = " " * len(line)
    return "\n".join(lines)


@dataclass
class LongFunction:
    path: str
    line: int
    name: str
    lines: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.name} is {self.lines} lines"


CONTAINER = re.compile(r"^(?:template\s*<.*>\s*)?(?:\[\[.*?\]\]\s*)?(?:(?:inline\s+)?namespace\b|extern\s*\"\"|"
                       r"(?:typedef\s+)?(?:class|struct|union|enum)\b)", re.S)
QUALIFIERS = re.compile(r"(?:\s|\bconst\b|\bnoexcept\b(?:\s*\([^()]*\))?|\boverride\b|\bfinal\b|\bmutable\b|"
                        r"\bconstexpr\b|&&?|\brequires\b[^{]*)*$")
CTOR_INIT = re.compile(r"\)\s*(?:noexcept\s*)?:(?!:)")


def matching(code: str, open_at: int, open_c: str = "{", close_c: str = "}") -> int:
    """Index of the bracket that closes the one at `open_at` (len(code) when unbalanced)."""
    depth = 0
    for k in range(open_at, len(code)):
        if code[k] == open_c:
            depth += 1
        elif code[k] == close_c:
            depth -= 1
            if depth == 0:
                return k
    return len(code)


def parameter_list_open(header: str) -> int | None:
    """Where the parameter list of a function header opens, or None when it is no function."""
    cut = CTOR_INIT.search(header)
    head = header[:cut.start() + 1] if cut else header
    head = re.sub(r"->\s*[^()]*(?:\([^()]*\)[^()]*)*$", "", head.rstrip())  # trailing return type
    head = head.rstrip()
    m = QUALIFIERS.search(head)
    head = head[:m.start()] if m else head
    if not head.endswith(")"):
        return None
    depth = 0
    for k in range(len(head) - 1, -1, -1):
        if head[k] == ")":
            depth += 1
        elif head[k] == "(":
            depth -= 1
            if depth == 0:
                return k
    return None


def function_name(header: str, paren: int) -> tuple[str, int]:
    """The function's name and its offset in `header`."""
    before = header[:paren].rstrip()
    if before.endswith("]"):  # a lambda bound to a name: `const auto f = [&](...) {`
        m = re.search(r"([A-Za-z_]\w*)\s*=\s*\[[^\]]*\]$", before)
        if m:
            return m.group(1), m.start(1)
    m = re.search(r"(operator\s*(?:\(\s*\)|\[\s*\]|[^\w\s(]+|\s+[\w:<>]+)|~?[A-Za-z_][\w]*(?:\s*::\s*~?[A-Za-z_]\w*)*"
                  r"(?:\s*<[^()]*>)?)\s*$", before)
    if m:
        return re.sub(r"\s+", "", m.group(1)) if "operator" not in m.group(1) else m.group(1), m.start(1)
    return "(unnamed)", len(before)


def long_functions(path: str, text: str, limit: int) -> list[LongFunction]:
    code = strip_code(text)
    found: list[LongFunction] = []

    def line_of(offset: int) -> int:
        return code.count("\n", 0, offset) + 1

    def scan(start: int, end: int) -> None:
        """Namespace or class scope between `start` and `end`."""
        header_start = start
        k = start
        while k < end:
            c = code[k]
            if c in ";}":
                header_start = k + 1
            elif c == ":" and re.search(r"\b(?:public|private|protected)\s*$", code[header_start:k]):
                header_start = k + 1
            elif c == "{":
                header = code[header_start:k]
                stripped = header.strip()
                close = matching(code, k)
                if CTOR_INIT.search(header) and re.search(r"[\w>]\s*$", header):
                    k = close + 1  # a member initialised with braces: the header goes on
                    continue
                if CONTAINER.match(stripped) and "(" not in stripped.split("{")[0].split(":")[0]:
                    scan(k + 1, close)
                else:
                    paren = parameter_list_open(header)
                    if paren is not None:
                        name, at = function_name(header, paren)
                        first = line_of(header_start + at)
                        lines = line_of(close) - first + 1
                        if lines > limit:
                            found.append(LongFunction(path, first, name, lines))
                k = close + 1
                header_start = k
                # `};` after a class or an initialiser: the `;` resets the header on the next turn.
                continue
            k += 1

    scan(0, len(code))
    return found


def source_files(paths: list[str]) -> list[Path]:
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            files += sorted(f for f in p.rglob("*") if f.suffix in CPP_SUFFIXES and f.is_file())
        elif p.is_file():
            files.append(p)
        else:
            raise FileNotFoundError(f"{p}: no such file or directory")
    return files


SELF_TEST = r'''#include <x>
namespace a { namespace b {
const char* s = "{ {{ not a brace";
auto raw = R"x(} } })x";
int short_one(int x) { return x; }           // line 5
// } a comment with a brace
/* { block */
class K : public Base {
public:
  K(int a, int b) : a_{a}, b_(b) {           // line 10: ctor with a brace initialiser
    if (a) { b_ = 1; }
    if (b) { a_ = '{'; }
  }
  auto f() const noexcept -> std::optional<int> {   // line 14
    const auto l = [&](int x) {
      return x;
    };
    return l(1'000);
  }
private:
  int a_, b_;
};
const int table[] = {1, 2, 3};
enum class E : int { x, y };
}}
DWORD run(const Options& o, HANDLE h) {       // line 26
  return 0;
}
const auto lambda = [](int x) {                // line 29
  return x + 1;
};
bool operator==(const K& a, const K& b) {      // line 32
  return true;
}
'''


def self_test(quiet: bool = False) -> int:
    want = [("short_one", 5, 1), ("K", 10, 4), ("f", 14, 6), ("run", 26, 3), ("lambda", 29, 3), ("operator==", 32, 3)]
    got = [(f.name, f.line, f.lines) for f in long_functions("self", SELF_TEST, 0)]
    if got != want:
        print(f"check_function_length self-test FAILED:\n  want {want}\n  got  {got}", file=sys.stderr)
        return 1
    if not quiet:
        print(f"check_function_length self-test passed ({len(want)} functions found with their lines)")
    return 0


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--max", type=int, default=80, help="longest function allowed, in lines (default 80)")
    ap.add_argument("--self-test", action="store_true", help="check the brace matcher on known code and exit")
    ap.add_argument("paths", nargs="*", help="C++ files or folders to check")
    args = ap.parse_args(argv)
    if args.self_test:
        return self_test()
    if not args.paths:
        ap.error("name at least one file or folder")
    if self_test(quiet=True) != 0:  # a matcher that misreads known code must not pass real code
        return 2
    try:
        files = source_files(args.paths)
    except FileNotFoundError as e:
        print(f"check_function_length: {e}", file=sys.stderr)
        return 2
    found: list[LongFunction] = []
    for f in files:
        found += long_functions(str(f), f.read_text(encoding="utf-8", errors="replace"), args.max)
    if found:
        print(f"{len(found)} function(s) longer than {args.max} lines (split them into named steps):")
        for f in found:
            print(f"  {f}")
        return 1
    print(f"all functions in {len(files)} file(s) are at most {args.max} lines")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
