#!/usr/bin/env python3
"""The contract docs/cli.md states, checked against the program (issue 19).

    contract.py --source DIR [--wine-template DIR] PORTGUARD

For every command the program offers (natively: validate, plan, run; under Wine: all of them):
  - the options `--help` lists are exactly the options of the command's usage block in the docs,
    and each of them is explained somewhere in its section besides the usage line; every option
    an option table of the section names exists;
  - every exit code the section documents is provoked at least once below, and every case exits
    with the code it expects (so no case may exit with an undocumented code);
  - every `--json` output is JSON holding every member the section documents for it
    (`JSON of `cmd --opt`: `{...}``), on error paths too; `check` prints its object on every path,
    other commands may print nothing on stdout when they fail (the reason is on stderr);
  - natively, the example blocks marked `<!-- example -->` are the program's real output (`...`
    stands for any lines).
It checks structure, members and exit codes, never which findings a plan contains.
"""
import argparse
import json
import re
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
import cli_docs  # noqa: E402

failures = []


def fail(msg):
    failures.append(msg)
    print(f"FAIL: {msg}", file=sys.stderr)


class Contract:
    def __init__(self, runner, docs_text):
        self.runner = runner
        self.sections = cli_docs.sections(docs_text)
        self.provoked = {}      # command -> {exit code}
        self.json_checked = 0
        self.examples = 0
        self.docs_text = docs_text

    def case(self, expect, *args, stdout=None):
        """Runs `portguard ARGS`, which must exit `expect`; checks its JSON; returns (out, err)."""
        cmd = args[0]
        rc, out, err = self.runner.run(list(args))
        shown = " ".join(args)
        print(f"$ portguard {shown} -> exit {rc}")
        if rc != expect:
            fail(f"portguard {shown}: exit {rc}, expected {expect}\n  stdout: {out.strip()[:800]}\n  stderr: {err.strip()[:800]}")
        self.provoked.setdefault(cmd, set()).add(rc)
        if stdout is not None and not re.search(stdout, out, re.M):
            fail(f"portguard {shown}: stdout does not match /{stdout}/:\n{out}")
        if "--json" in args:
            self.check_json(cmd, args, rc, out)
        return out, err

    def check_json(self, cmd, args, rc, out):
        shown = " ".join(args)
        if not out.strip():
            if cmd == "check" or rc == 0:
                fail(f"portguard {shown}: --json printed nothing on stdout")
            return
        try:
            value = json.loads(out)
        except json.JSONDecodeError as e:
            fail(f"portguard {shown}: stdout is not JSON ({e}):\n{out[:800]}")
            return
        specs = [m for words, m in cli_docs.documented_json(cmd, self.sections.get(cmd, "")) if set(words) <= set(args)]
        if not specs:
            fail(f"docs/cli.md documents no JSON members for 'portguard {shown}' (write JSON of `{cmd} ...`: `{{...}}`)")
            return
        for spec in specs:
            for path in cli_docs.missing_members(spec, value):
                fail(f"portguard {shown} (exit {rc}): documented JSON member {path} is missing")
        self.json_checked += 1

    def check_options(self, commands):
        all_options = set()
        for cmd in commands:
            all_options |= cli_docs.help_options(self.runner, cmd)
        for cmd in commands:
            body = self.sections.get(cmd)
            if body is None:
                fail(f"docs/cli.md has no section for the command '{cmd}'")
                continue
            helped = cli_docs.help_options(self.runner, cmd)
            usage = next((m.group("body") for m in cli_docs.USAGE_BLOCK.finditer(body) if m.group("cmd") == cmd), None)
            if usage is None:
                fail(f"docs/cli.md: the section of '{cmd}' has no usage block")
                continue
            documented = set(re.findall(r"--([a-z][a-z-]*)", usage))
            if documented != helped:
                fail(f"{cmd}: --help offers {sorted(helped)}, the docs' usage line {sorted(documented)}")
            prose = cli_docs.USAGE_BLOCK.sub("", body)
            for option in sorted(helped):
                if f"--{option}" not in prose:
                    fail(f"docs/cli.md: {cmd}'s option --{option} is in its usage line but explained nowhere in its section")
            for option in re.findall(r"^\| `(?:-\w, )?--([a-z][a-z-]*)", body, re.M):
                if option not in all_options:
                    fail(f"docs/cli.md: the option table of {cmd} names --{option}, which the program does not offer")

    def check_exit_codes(self, commands):
        for cmd in commands:
            documented = cli_docs.documented_exit_codes(cmd, self.sections.get(cmd, ""))
            if not documented:
                fail(f"docs/cli.md documents no exit codes for '{cmd}'")
            provoked = self.provoked.get(cmd, set())
            for code in sorted(documented - provoked):
                fail(f"{cmd}: documented exit code {code} was never provoked")
            for code in sorted(provoked - documented):
                fail(f"{cmd}: exit code {code} happens but docs/cli.md does not document it")
            print(f"{cmd}: exit codes {sorted(provoked)} provoked, {sorted(documented)} documented")


def check_examples(runner, source, pages):
    """In each docs page: `<!-- example -->` + a code block `$ portguard ARGS` then its output
    (`...` = any lines), run in the source tree; `<!-- example-file: PATH -->` + a code block that
    must be PATH's content, verbatim."""
    count = 0
    for page in pages:
        text = (source / page).read_text(encoding="utf-8")
        for m in re.finditer(r"<!-- example -->\n```text\n\$ portguard (?P<args>.*?)\n(?P<out>.*?)```", text, re.S):
            rc, out, err = runner.run(m.group("args").split(), cwd=source)
            actual = (out + err).splitlines()
            count += 1
            if not lines_match(m.group("out").rstrip("\n").splitlines(), actual):
                fail(f"{page}: the example 'portguard {m.group('args')}' is not what the program prints:\n" + "\n".join(actual))
        for m in re.finditer(r"<!-- example-file: (?P<file>\S+) -->\n```\w*\n(?P<body>.*?)```", text, re.S):
            count += 1
            if (source / m.group("file")).read_text(encoding="utf-8") != m.group("body"):
                fail(f"{page}: the example block is not the content of {m.group('file')}")
    if count == 0:
        fail("no example blocks in " + ", ".join(pages))
    print(f"{count} examples match the program's output or their files")


def wine_example(c, docs_text, label):
    """`<!-- example: wine LABEL -->` + a block `C:\\> portguard ARGS` and its output: run now, on
    the host the Windows cases have prepared for LABEL."""
    found = 0
    pattern = r"<!-- example: wine " + re.escape(label) + r" -->\n```text\n(?P<body>.*?)```"
    for m in re.finditer(pattern, docs_text, re.S):
        for run in re.split(r"\n(?=C:\\> portguard )", m.group("body").strip("\n")):
            lines = run.split("\n")
            args = lines[0][len("C:\\> portguard "):].split()
            rc, out, err = c.runner.run(args)
            found += 1
            expected = [line for line in lines[1:] if line.strip()]
            if not lines_match(expected, (out + err).splitlines()):
                fail(f"docs/cli.md example ({label}) 'portguard {' '.join(args)}' is not what the program prints:\n{out}{err}")
    if not found:
        fail(f"docs/cli.md has no '<!-- example: wine {label} -->' block")
    c.examples += found


def line_matches(expected, actual):
    """`...` inside a line stands for any text."""
    if "..." not in expected:
        return expected == actual
    return re.fullmatch(".*".join(re.escape(part) for part in expected.split("...")), actual) is not None


def lines_match(expected, actual):
    if not expected:
        return not actual
    if expected[0] == "...":
        return any(lines_match(expected[1:], actual[i:]) for i in range(len(actual) + 1))
    return bool(actual) and line_matches(expected[0], actual[0]) and lines_match(expected[1:], actual[1:])


def policy_cases(c, src, data, work):
    """validate and plan: in both builds."""
    r = c.runner
    services = ["--services-file", r.path(data / "services")]
    good, bad = r.path(data / "cli" / "good-policy.toml"), r.path(data / "cli" / "bad-policy.toml")
    missing = r.path(data / "cli" / "no-such-policy.toml")
    snapshot = r.path(src / "examples" / "win2016-dns-nps-widened.json")
    for json_flag in ([], ["--json"]):
        c.case(0, "validate", "--policy", good, *services, *json_flag)
        c.case(1, "validate", "--policy", bad, *services, *json_flag)
        c.case(2, "validate", "--policy", missing, *services, *json_flag)
        c.case(2, "validate", "--policy", r.path(data / "cli"), *services, *json_flag)
        c.case(0, "plan", "--policy", good, *services, "--snapshot", snapshot, *json_flag)
        c.case(1, "plan", "--policy", bad, *services, "--snapshot", snapshot, *json_flag)
        c.case(2, "plan", "--policy", good, *services, "--snapshot", r.path(data / "cli" / "no-such-host.json"), *json_flag)
        c.case(2, "plan", "--policy", good, *services, "--snapshot", r.path(data / "cli"), *json_flag)
    # why (issue 16): the answer on the example snapshots, and every way it can fail.
    default = r.path(src / "config" / "policy.default.toml")
    dev_policy, dev_box = r.path(src / "examples" / "docker-wsl-policy.toml"), r.path(src / "examples" / "win11-dev-hyperv-wsl-docker.json")
    quiet = r.path(src / "examples" / "win2022-quiet.json")
    for json_flag in ([], ["--json"]):
        c.case(0, "why", "1645/udp", "--policy", default, *services, "--snapshot", quiet, *json_flag)
        c.case(1, "why", "3000/tcp", "--policy", dev_policy, *services, "--snapshot", dev_box, *json_flag)
        c.case(1, "why", "8080", "--policy", dev_policy, *services, "--snapshot", dev_box, *json_flag)
        c.case(1, "why", "1645/udp", "--policy", bad, *services, "--snapshot", quiet, *json_flag)
        c.case(2, "why", "1645/udp", "--policy", default, *services, "--snapshot", r.path(data / "cli" / "no-such-host.json"), *json_flag)
        c.case(2, "why", "1645/udp", "--policy", default, *services, "--snapshot", r.path(data / "cli"), *json_flag)
    c.case(64, "why", "--policy", default, "--snapshot", quiet)
    c.case(64, "why", "70000", "--policy", default, "--snapshot", quiet)
    c.case(64, "why", "1645/sctp", "--policy", default, "--snapshot", quiet)
    c.case(64, "why", "1645", "1646", "--policy", default, "--snapshot", quiet)
    c.case(64, "why", "1645", "--bogus")

    c.case(64, "validate", "--polcy", good)
    c.case(64, "validate", bad)
    c.case(64, "plan", "--policy", good, snapshot)
    c.case(64, "plan", "--bogus")


def windows_cases(c, work):
    """Every Windows command on a Windows Server 2003 prefix (ReservedPorts is the target)."""
    r = c.runner
    pd = r.data_dir()
    pd.mkdir(parents=True, exist_ok=True)
    policy = "[catalog]\nenabled = false\n\n[[reserve]]\nports = [\"1645-1646\"]\nprotocol = \"udp\"\nservice = \"IAS\"\nreason = \"RADIUS\"\n"
    (pd / "policy.toml").write_text(policy)
    (work / "bad.toml").write_text("[[reserve]]\nports = [70000]\n")
    (work / "adir").mkdir(exist_ok=True)
    bad, adir = r.path(work / "bad.toml"), r.path(work / "adir")
    tcpip = r"HKLM\SYSTEM\CurrentControlSet\Services\Tcpip\Parameters"
    r.tool("reg", "add", tcpip, "/v", "ReservedPorts", "/t", "REG_MULTI_SZ", "/d", "1645-1646", "/f")

    # A compliant host.
    wine_example(c, c.docs_text, "compliant")
    c.case(0, "check")
    c.case(0, "check", "--json")
    c.case(0, "snapshot")
    c.case(0, "snapshot", "-o", r.path(work / "snap.json"))
    c.case(2, "snapshot", "-o", r.path(work / "no-such-folder" / "snap.json"))
    if (work / "no-such-folder").exists():
        fail("snapshot -o into a missing folder created it")
    c.case(1, "snapshot", "--policy", bad)
    c.case(64, "snapshot", "--bogus")
    c.case(64, "snapshot", "snap.json")
    for json_flag in ([], ["--json"]):
        c.case(0, "discover", *json_flag)
        c.case(1, "discover", "--policy", bad, *json_flag)
        c.case(2, "discover", "--policy", adir, *json_flag)
    c.case(64, "discover", "--bogus")
    c.case(0, "plan")
    c.case(0, "plan", "--json")
    # why on the live prefix: 1645/udp is reserved (ReservedPorts), free, and bound for a moment.
    c.case(0, "why", "1645/udp", stdout=r"^  reserved by:    ReservedPorts")
    c.case(0, "why", "1645/udp", "--json")

    # Drift: check warns, repair writes and backs up.
    r.tool("reg", "add", tcpip, "/v", "ReservedPorts", "/t", "REG_MULTI_SZ", "/d", "3000-3000", "/f")
    wine_example(c, c.docs_text, "drift")
    c.case(1, "check")
    c.case(1, "check", "--json")
    c.case(0, "repair", "--dry-run")
    c.case(0, "repair", "--dry-run", "--json")
    c.case(1, "repair", "--policy", bad)
    c.case(1, "repair", "--policy", bad, "--json")
    c.case(64, "repair", "--bogus")
    c.case(0, "repair", "--json")
    out, _ = c.case(0, "rollback", "--list")
    backup_id = out.split()[0] if out.strip() else "none"
    wine_example(c, c.docs_text, "repaired")
    c.case(0, "rollback", "--list", "--json")
    c.case(0, "rollback", "--restore", backup_id, "--dry-run")
    c.case(0, "rollback", "--restore", backup_id, "--dry-run", "--json")
    c.case(1, "rollback", "--restore", "20000101T000000.000Z-0001-reserved-ports")
    c.case(1, "rollback", "--restore", "20000101T000000.000Z-0001-reserved-ports", "--json")
    c.case(64, "rollback", "--list", "--restore", "x")
    (pd / "backups" / "broken.json").write_text("not a backup")
    c.case(2, "rollback", "--list")
    c.case(2, "rollback", "--list", "--json")
    (pd / "backups" / "broken.json").unlink()

    # No usable policy, a bad command line.
    c.case(2, "check", "--policy", bad)
    c.case(2, "check", "--policy", bad, "--json")
    c.case(3, "check", "--bogus")
    c.case(3, "check", "--json", "--bogus")
    c.case(3, "check", "--json", "extra")

    # The service commands.
    c.case(0, "install-service")
    c.case(2, "install-service")
    c.case(64, "install-service", "--bogus")
    c.case(0, "protect", "--list", stdout="No service is protected")
    c.case(1, "protect", "--service", "NoSuchService")
    c.case(64, "protect")
    c.case(1, "unprotect", "--service", "NoSuchService")
    c.case(0, "unprotect", "--all")
    c.case(64, "unprotect")
    c.case(0, "secure-data-dir")
    c.case(64, "secure-data-dir", "--bogus")
    c.case(0, "uninstall-service")
    c.case(1, "uninstall-service")
    c.case(64, "uninstall-service", "--bogus")
    c.case(0, "run", "--console", "--once")
    c.case(64, "run")
    c.case(64, "run", "--bogus")

    # A DataDir that is not an absolute local path: the commands that need the data folder say so.
    settings = r"HKLM\SOFTWARE\PortGuard"
    r.tool("reg", "add", settings, "/v", "DataDir", "/t", "REG_SZ", "/d", "PGData", "/f", "/reg:64")
    c.case(2, "repair")
    c.case(2, "uninstall-service")
    c.case(2, "secure-data-dir")
    c.case(2, "protect", "--list")
    c.case(2, "unprotect", "--all")
    c.case(2, "run", "--console", "--once")
    c.case(3, "check")
    c.case(3, "check", "--json")
    r.tool("reg", "delete", settings, "/v", "DataDir", "/f", "/reg:64")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--source", required=True, type=Path)
    ap.add_argument("--wine-template")
    ap.add_argument("portguard")
    a = ap.parse_args()
    src = a.source.resolve()
    docs_text = (src / "docs" / "cli.md").read_text(encoding="utf-8")
    runner = cli_docs.Runner(a.portguard, a.wine_template, winver="win2003" if a.wine_template else None)
    try:
        c = Contract(runner, docs_text)
        commands = cli_docs.offered_commands(runner)
        work = runner.work / "files"
        work.mkdir()
        c.check_options(commands)
        policy_cases(c, src, src / "tests" / "config" / "data", work)
        if runner.wine:
            windows_cases(c, work)
        else:
            c.case(0, "run", "--help", stdout=r"^Usage: portguard run ")
            c.case(2, "run")
            c.case(64, "run", "--bogus")
            check_examples(runner, src, ["docs/cli.md", "docs/snapshot.md", "docs/docker-wsl.md"])
        c.check_exit_codes(commands)
        print(f"{len(commands)} commands, {c.json_checked} JSON outputs checked, {c.examples} Windows examples checked")
    finally:
        runner.close()
    if failures:
        print(f"\n{len(failures)} contract failures", file=sys.stderr)
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
