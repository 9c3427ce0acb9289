#!/usr/bin/env python3
"""installer/admx/PortGuard.admx and en-US/PortGuard.adml, the Group Policy templates the MSI
installs (test installer.admx_templates). No Group Policy editor here, so the files are checked
the way the editor reads them:

- well-formed, UTF-8, the PolicyDefinitions namespace, revision and schemaVersion on both roots;
- policyNamespaces: one target; every prefixed reference uses a declared prefix;
- every $(string.X) the ADMX uses is in the ADML stringTable, every $(presentation.X) in its
  presentationTable, and every string and presentation of the ADML is used;
- every presentation control points (refId) at an element of the policy using that presentation,
  of the matching kind (dropdownList/enum, listBox/list, textBox/text ...), and every element has
  a control;
- every category, parentCategory and supportedOn reference resolves;
- every registry key is under Software\\Policies\\PortGuard (the documented place for policy
  settings), every policy is a computer (Machine) policy;
- the product and the template agree: the keys and value names the template writes are the ones
  config/include/portguard/config/group_policy.hpp reads, the enum writes 'audit' and 'enforce',
  and every setting name the error messages of config/src/group_policy.cpp quote is a policy's
  display name in the ADML.

usage: admx_templates.py SOURCE_DIR
"""
import os
import re
import sys
import xml.etree.ElementTree as ET

src = sys.argv[1]
admx_path = os.path.join(src, "installer/admx/PortGuard.admx")
adml_path = os.path.join(src, "installer/admx/en-US/PortGuard.adml")
NS_URI = "http://schemas.microsoft.com/GroupPolicy/2006/07/PolicyDefinitions"
NS = "{" + NS_URI + "}"
failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)


def load(path):
    raw = open(path, "rb").read()
    check(not raw.startswith(b"\xef\xbb\xbf"), f"{path}: no BOM (the XML declaration says UTF-8)")
    raw.decode("utf-8")
    return ET.fromstring(raw)


admx = load(admx_path)
adml = load(adml_path)

# --- roots and namespaces ------------------------------------------------------------------------
check(admx.tag == NS + "policyDefinitions", f"ADMX root is {admx.tag}, want policyDefinitions in {NS_URI}")
check(adml.tag == NS + "policyDefinitionResources", f"ADML root is {adml.tag}, want policyDefinitionResources in {NS_URI}")
for name, root in (("ADMX", admx), ("ADML", adml)):
    check(re.fullmatch(r"\d+\.\d+", root.get("revision", "")) is not None, f"{name}: revision must be major.minor")
    check(root.get("schemaVersion") == "1.0", f"{name}: schemaVersion must be 1.0")
    for e in root.iter():
        check(e.tag.startswith(NS), f"{name}: element {e.tag} outside the PolicyDefinitions namespace")

targets = admx.findall(f"{NS}policyNamespaces/{NS}target")
usings = admx.findall(f"{NS}policyNamespaces/{NS}using")
check(len(targets) == 1, "ADMX: exactly one policyNamespaces/target")
target_prefix = targets[0].get("prefix") if targets else None
check(bool(targets) and targets[0].get("namespace") == "PortGuard.Policies.PortGuard", "ADMX: target namespace PortGuard.Policies.PortGuard")
prefixes = {target_prefix} | {u.get("prefix") for u in usings}
check(admx.find(f"{NS}resources") is not None and admx.find(f"{NS}resources").get("minRequiredRevision") is not None,
      "ADMX: resources/@minRequiredRevision")


def local(ref, what):
    """A reference 'name' or 'prefix:name'; returns the name when it is ours, None otherwise."""
    if ":" in ref:
        prefix, name = ref.split(":", 1)
        check(prefix in prefixes, f"ADMX: {what} '{ref}' uses undeclared prefix '{prefix}'")
        return name if prefix == target_prefix else None
    return ref


# --- strings and presentations -------------------------------------------------------------------
table = adml.find(f"{NS}resources/{NS}stringTable")
strings = {s.get("id"): (s.text or "") for s in (table if table is not None else [])}
ptable = adml.find(f"{NS}resources/{NS}presentationTable")
presentations = {p.get("id"): p for p in (ptable if ptable is not None else [])}
check(len(strings) == len(table if table is not None else []), "ADML: a string id is defined twice")
check(len(presentations) == len(ptable if ptable is not None else []), "ADML: a presentation id is defined twice")

used_strings, used_presentations = set(), set()
for e in admx.iter():
    for attr, value in e.attrib.items():
        for kind, ident in re.findall(r"\$\((string|presentation)\.([^)]*)\)", value):
            if kind == "string":
                used_strings.add(ident)
                check(ident in strings, f"ADMX: $(string.{ident}) ({e.tag.replace(NS, '')}/@{attr}) is not in the ADML stringTable")
            else:
                used_presentations.add(ident)
                check(ident in presentations, f"ADMX: $(presentation.{ident}) is not in the ADML presentationTable")
for ident in strings:
    check(ident in used_strings, f"ADML: string '{ident}' is not used by the ADMX")
for ident in presentations:
    check(ident in used_presentations, f"ADML: presentation '{ident}' is not used by the ADMX")
for ident, text in strings.items():
    check(text.strip() != "", f"ADML: string '{ident}' is empty")

# --- categories and supportedOn ------------------------------------------------------------------
categories = {c.get("name"): c for c in admx.iter(NS + "category")}
definitions = {d.get("name") for d in admx.iter(NS + "definition")}
for c in categories.values():
    for p in c.findall(NS + "parentCategory"):
        name = local(p.get("ref", ""), "category parentCategory")
        check(name is None or name in categories, f"ADMX: category {c.get('name')} has unknown parent {p.get('ref')}")

# --- policies --------------------------------------------------------------------------------------
CONTROL_FOR = {"enum": "dropdownList", "list": "listBox", "text": "textBox", "decimal": "decimalTextBox",
               "boolean": "checkBox", "multiText": "multiTextBox", "longDecimal": "longDecimalTextBox"}
ROOT_KEY = "Software\\Policies\\PortGuard"
written = set()       # (key, value name or '*' for a list's values)
enum_values = {}
policy_names = set()
display_names = {}
policies = list(admx.iter(NS + "policy"))
check(len(policies) > 0, "ADMX: no policy")
for pol in policies:
    name = pol.get("name")
    check(name not in policy_names, f"ADMX: policy {name} defined twice")
    policy_names.add(name)
    check(pol.get("class") == "Machine", f"ADMX: policy {name} must be class Machine (the guard reads HKLM)")
    key = pol.get("key", "")
    check(key == ROOT_KEY or key.startswith(ROOT_KEY + "\\"), f"ADMX: policy {name} key '{key}' is not under {ROOT_KEY}")
    display = re.fullmatch(r"\$\(string\.([^)]*)\)", pol.get("displayName", ""))
    check(display is not None, f"ADMX: policy {name} displayName must be a $(string.X) reference")
    if display:
        display_names[strings.get(display.group(1), "")] = name
    check(re.fullmatch(r"\$\(string\.[^)]*\)", pol.get("explainText", "")) is not None, f"ADMX: policy {name} has no explainText")
    parents = pol.findall(NS + "parentCategory")
    check(len(parents) == 1 and local(parents[0].get("ref", ""), "parentCategory") in categories,
          f"ADMX: policy {name} parentCategory does not resolve")
    supported = pol.findall(NS + "supportedOn")
    check(len(supported) == 1 and (local(supported[0].get("ref", ""), "supportedOn") in definitions
                                   or local(supported[0].get("ref", ""), "supportedOn") is None),
          f"ADMX: policy {name} supportedOn does not resolve")
    elements = pol.find(NS + "elements")
    items = list(elements) if elements is not None else []
    ids = [e.get("id") for e in items]
    check(len(ids) == len(set(ids)), f"ADMX: policy {name} has duplicate element ids")
    for e in items:
        kind = e.tag.replace(NS, "")
        ekey = e.get("key", key)
        check(ekey == ROOT_KEY or ekey.startswith(ROOT_KEY + "\\"), f"ADMX: element {e.get('id')} key '{ekey}' is not under {ROOT_KEY}")
        if kind == "list":
            check(e.get("valuePrefix") == "" and e.get("explicitValue") in (None, "false"),
                  f"ADMX: list {e.get('id')} must number its values (valuePrefix=\"\", no explicitValue)")
            written.add((ekey, "*"))
        else:
            check(e.get("valueName") is not None, f"ADMX: element {e.get('id')} has no valueName")
            written.add((ekey, e.get("valueName")))
        if kind == "enum":
            enum_values[e.get("valueName")] = sorted(v.text for v in e.iter(NS + "string"))
    # The presentation: one control per element, of the element's kind.
    pres = re.fullmatch(r"\$\(presentation\.([^)]*)\)", pol.get("presentation", ""))
    if items:
        check(pres is not None, f"ADMX: policy {name} has elements but no presentation")
    if pres and pres.group(1) in presentations:
        controls = {c.get("refId"): c.tag.replace(NS, "") for c in presentations[pres.group(1)] if c.get("refId") is not None}
        for e in items:
            kind = e.tag.replace(NS, "")
            check(controls.get(e.get("id")) == CONTROL_FOR.get(kind),
                  f"ADML: presentation {pres.group(1)} has no {CONTROL_FOR.get(kind)} for {kind} {e.get('id')}")
        for ref in controls:
            check(ref in ids, f"ADML: presentation {pres.group(1)} control refId '{ref}' is not an element of policy {name}")

# --- the product reads what the template writes --------------------------------------------------
header = open(os.path.join(src, "config/include/portguard/config/group_policy.hpp"), encoding="utf-8").read()
consts = {m.group(1): m.group(2).replace("\\\\", "\\") for m in re.finditer(r'inline constexpr std::string_view (\w+) = "([^"]*)";', header)}
hk = lambda path: path.replace("HKLM\\SOFTWARE\\Policies\\PortGuard", ROOT_KEY)
expected = {
    (hk(consts["root"]), consts["enforcement_value"]),
    (hk(consts["root"]), consts["metrics_dir_value"]),
    (hk(consts["reservations"]), "*"),
    (hk(consts["catalog_exclude"]), "*"),
    (hk(consts["protect_services"]), "*"),
}
check(written == expected, f"the ADMX writes {sorted(written)}, the product reads {sorted(expected)}")
check(enum_values.get(consts["enforcement_value"]) == ["audit", "enforce"],
      f"the Enforcement enum writes {enum_values.get(consts['enforcement_value'])}, the product accepts audit and enforce")
source = open(os.path.join(src, "config/src/group_policy.cpp"), encoding="utf-8").read()
quoted = re.findall(r'constexpr std::string_view \w+_setting = "([^"]*)";', source)
check(len(quoted) == 5, f"config/src/group_policy.cpp names {len(quoted)} settings, want 5")
for q in quoted:
    check(q in display_names, f"error messages quote the setting '{q}', which is no policy's display name in the ADML")

for f in failures:
    print("FAIL:", f)
if failures:
    sys.exit(1)
print(f"PASS: {len(policies)} policies, {len(strings)} strings, {len(presentations)} presentations; keys and names match the product")
