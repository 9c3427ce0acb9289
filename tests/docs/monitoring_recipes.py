#!/usr/bin/env python3
"""docs/monitoring.md's recipes, checked against the sources they quote (test docs.monitoring_recipes).

- The paging table lists every event of service/events/events.toml once, with its level and
  summary, and an action of page/ticket/none.
- The Zabbix triggers cover every warning and error exactly once; the High ones are exactly the
  events the table pages for; the item's event-ID regex matches every warning and error and no
  information event. The NSClient++ paging check lists the same IDs.
- The Prometheus alerting rules pass `promtool check rules` and the unit tests of
  tests/docs/portguard-rules.test.yml (`promtool test rules`); only metrics the guard writes
  (docs/monitoring.md's metrics table) are used.

usage: monitoring_recipes.py SOURCE_DIR WORK_DIR
"""
import os
import re
import shutil
import subprocess
import sys
import tomllib

src, work = sys.argv[1], sys.argv[2]
doc = open(os.path.join(src, "docs/monitoring.md"), encoding="utf-8").read()
with open(os.path.join(src, "service/events/events.toml"), "rb") as f:
    events = {e["id"]: e for e in tomllib.load(f)["event"] if not e.get("retired")}
failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)


# --- the paging table ----------------------------------------------------------------------------
section = doc.split("## Which events page someone", 1)[1].split("\n## ", 1)[0]
rows = re.findall(r"^\| (\d{4}) \| (\w+) \| ([^|]+) \| ([^|]+) \|$", section, re.M)
table = {}
for id_, level, summary, action in rows:
    id_ = int(id_)
    check(id_ not in table, f"paging table: {id_} listed twice")
    table[id_] = action.strip()
    e = events.get(id_)
    check(e is not None, f"paging table: {id_} is not an event of events.toml")
    if e:
        check(level.lower() == e["level"], f"paging table: {id_} level {level}, events.toml says {e['level']}")
        check(summary.strip() == e["summary"], f"paging table: {id_} '{summary.strip()}', events.toml says '{e['summary']}'")
    check(re.match(r"(\*\*page\*\*|ticket\b|none\b)", action.strip()) is not None, f"paging table: {id_} action '{action.strip()}'")
check(set(table) == set(events), f"paging table misses {sorted(set(events) - set(table))}")
page = {i for i, a in table.items() if a.startswith("**page**")}
ticket = {i for i, a in table.items() if a.startswith("ticket")}
alerting = {i for i, e in events.items() if e["level"] in ("warning", "error")}
check(page | ticket == alerting, f"every warning and error must page or ticket: {sorted(alerting - page - ticket)}")
check(not any(events[i]["level"] == "information" for i in page | ticket), "an information event pages or tickets")

# --- Zabbix ------------------------------------------------------------------------------------
item = 'eventlog[Application,,"Warning|Error",PortGuard,^(2|3)[0-9]{3}$,,skip]'
check(doc.count(item) >= 5, "the Zabbix item key is not quoted exactly (item and triggers)")
item_re = re.compile(r"^(2|3)[0-9]{3}$")
for i, e in events.items():
    check(bool(item_re.match(str(i))) == (e["level"] != "information"), f"Zabbix item regex and event {i} ({e['level']})")
triggers = re.findall(r'^\| [^|]+ \| `logeventid\(/DNS01/' + re.escape(item).replace("\\|", "\\|") + r',,"\^\(([0-9|]+)\)\$"\)=1` \| (\w+) \|$', doc, re.M)
seen = []
high = set()
for ids, severity in triggers:
    ids = {int(x) for x in ids.split("|")}
    seen += list(ids)
    if severity == "High":
        high |= ids
check(len(triggers) >= 4, f"found {len(triggers)} Zabbix triggers")
check(sorted(seen) == sorted(alerting), f"Zabbix triggers must cover every warning/error once: {sorted(seen)}")
check(high == page, f"Zabbix High triggers {sorted(high)} != paging events {sorted(page)}")
check('UserParameter=portguard.check,"C:\\Program Files\\PortGuard\\portguard.exe" check --json' in doc, "Zabbix UserParameter")

# --- NSClient++ ----------------------------------------------------------------------------------
check("check_eventlog \"filter=provider = 'PortGuard' and id = 3001\"" in doc, "NSClient++ single-ID check")
m = re.search(r"filter=provider = 'PortGuard' and id in \(([0-9, ]+)\)", doc)
check(m is not None and {int(x) for x in m.group(1).split(",")} == page, "NSClient++ paging check must list exactly the paging events")

# --- Prometheus rules ---------------------------------------------------------------------------
blocks = re.findall(r"```yaml\n(.*?)```", doc.split("## Prometheus alerting rules", 1)[1], re.S)
check(len(blocks) == 1, "expected one yaml block under 'Prometheus alerting rules'")
documented = set(re.findall(r"^\| `(portguard_[a-z_]+)` \|", doc, re.M))
if blocks:
    rules = blocks[0]
    for name in set(re.findall(r"\bportguard_[a-z_]+", rules)):
        check(name in documented, f"alert rule uses {name}, which the metrics table does not document")
    os.makedirs(work, exist_ok=True)
    with open(os.path.join(work, "portguard-rules.yml"), "w", encoding="utf-8") as f:
        f.write(rules)
    shutil.copy(os.path.join(src, "tests/docs/portguard-rules.test.yml"), work)
    promtool = shutil.which("promtool")
    if promtool is None:
        failures.append("promtool missing: install the Debian package 'prometheus' (scripts/setup)")
    else:
        for args in (["check", "rules", "portguard-rules.yml"], ["test", "rules", "portguard-rules.test.yml"]):
            r = subprocess.run([promtool, *args], cwd=work, capture_output=True, text=True)
            print(f"$ promtool {' '.join(args)}\n{r.stdout}{r.stderr}")
            check(r.returncode == 0, f"promtool {' '.join(args)} failed")

for f in failures:
    print("FAIL:", f)
print("PASS" if not failures else f"{len(failures)} failure(s)")
sys.exit(1 if failures else 0)
