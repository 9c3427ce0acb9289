#!/usr/bin/env python3
"""installer/wef/portguard-subscription.xml, the Windows Event Forwarding subscription the MSI
installs (test installer.wef_subscription). No wecutil here, so the file is checked as wecutil
reads it: well-formed, the subscription namespace, the elements a source-initiated subscription
needs, and a query (itself XML inside CDATA) that selects exactly provider PortGuard, levels
error (2) and warning (3), from the Application log, into ForwardedEvents. The query is also the
one docs/monitoring.md quotes.

usage: wef_subscription.py SOURCE_DIR
"""
import os
import re
import sys
import xml.etree.ElementTree as ET

src = sys.argv[1]
path = os.path.join(src, "installer/wef/portguard-subscription.xml")
raw = open(path, "rb").read()
failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)


check(not raw.startswith(b"\xef\xbb\xbf"), "no BOM (the XML declaration says UTF-8)")
root = ET.fromstring(raw)
NS = "{http://schemas.microsoft.com/2006/03/windows/events/subscription}"
check(root.tag == NS + "Subscription", f"root element {root.tag}")


def text(name):
    e = root.find(NS + name)
    check(e is not None, f"missing <{name}>")
    return (e.text or "").strip() if e is not None else ""


check(text("SubscriptionId") == "PortGuard", "SubscriptionId")
check(text("SubscriptionType") == "SourceInitiated", "SubscriptionType")
check(text("Enabled") == "true", "Enabled")
check(text("Uri") == "http://schemas.microsoft.com/wbem/wsman/1/windows/EventLog", "Uri")
check(text("LogFile") == "ForwardedEvents", "LogFile")
check(text("ContentFormat") == "RenderedText", "ContentFormat (the collector has no PortGuard message table)")
check(text("ConfigurationMode") in ("Normal", "MinLatency", "MinBandwidth"), "ConfigurationMode")
check(text("AllowedSourceDomainComputers").startswith("O:NSG:"), "AllowedSourceDomainComputers is an SDDL")
check(b"<![CDATA[" in raw, "the query is CDATA, as wecutil expects")

query = ET.fromstring(text("Query"))
check(query.tag == "QueryList", "Query holds a QueryList")
queries = query.findall("Query")
check(len(queries) == 1 and queries[0].get("Path") == "Application", "one query on Application")
selects = query.findall("Query/Select")
check(len(selects) == 1 and selects[0].get("Path") == "Application", "one Select on Application")
xpath = (selects[0].text or "").strip() if selects else ""
expected = "*[System[Provider[@Name='PortGuard'] and (Level=2 or Level=3)]]"
check(xpath == expected, f"the XPath is '{xpath}', want '{expected}'")
check(query.findall("Query/Suppress") == [], "no Suppress")

doc = open(os.path.join(src, "docs/monitoring.md"), encoding="utf-8").read()
quoted = re.search(r"```xml\n(<QueryList>.*?</QueryList>)\n```", doc, re.S)
check(quoted is not None, "docs/monitoring.md quotes the query")
if quoted:
    q = ET.fromstring(quoted.group(1))
    check((q.find("Query/Select").text or "").strip() == xpath, "docs/monitoring.md quotes another query than the installed one")

for f in failures:
    print("FAIL:", f)
print("PASS" if not failures else f"{len(failures)} failure(s)")
sys.exit(1 if failures else 0)
