#!/usr/bin/env bash
# installer/portguard.wxs is one source for two toolchains. Without a Windows machine the real WiX
# v3 build cannot run here, so this checks the preprocessed real-WiX variant (no WIXL) carries
# what the wixl variant gets from build-msi.sh patches -- recovery actions, ACLs, Permanent +
# NeverOverwrite, Vital, same-version upgrades, the POLICYFILE search/copy/validation -- and that
# the wixl variant contains none of the elements wixl aborts on.
#   wix_source.sh
set -euo pipefail
src=${PORTGUARD_SOURCE_DIR:?}/installer/portguard.wxs
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
defs=(-D Version=1.2.3 -D PortGuardExe=portguard.exe -D DefaultPolicy=policy.toml -D WefSubscription=portguard-subscription.xml -D AdmxTemplate=PortGuard.admx -D AdmlStrings=PortGuard.adml)
wixl -E "${defs[@]}" "$src" >"$tmp/real.wxs"
wixl -E -D WIXL=1 "${defs[@]}" "$src" >"$tmp/wixl.wxs"

python3 - "$tmp/real.wxs" "$tmp/wixl.wxs" <<'PY'
import sys, xml.etree.ElementTree as ET
W = "{http://schemas.microsoft.com/wix/2006/wi}"
U = "{http://schemas.microsoft.com/wix/UtilExtension}"
real, wixl = (ET.parse(p).getroot() for p in sys.argv[1:3])
errors = []
def check(cond, what):
    if not cond: errors.append(what)
def find(root, tag, **attrs):
    return [e for e in root.iter(tag) if all(e.get(k) == v for k, v in attrs.items())]

sddl = "D:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;FRFX;;;BU)"
# Recovery: restart x3 after 60 s, reset after 1 day, on the PortGuard ServiceInstall.
svc = find(real, W + "ServiceInstall", Name="PortGuard")
check(len(svc) == 1, "one ServiceInstall PortGuard")
if svc:
    s = svc[0]
    check(s.get("Vital") == "yes" and s.get("Start") == "auto" and s.get("Account") == "LocalSystem"
          and s.get("LoadOrderGroup") == "NetworkProvider" and s.get("Arguments", "").startswith("run"),
          "ServiceInstall Vital/auto/LocalSystem/NetworkProvider/run")
    sc = s.findall(U + "ServiceConfig")
    check(len(sc) == 1 and all(sc[0].get(k) == "restart" for k in
          ("FirstFailureActionType", "SecondFailureActionType", "ThirdFailureActionType"))
          and sc[0].get("RestartServiceDelayInSeconds") == "60" and sc[0].get("ResetPeriodInDays") == "1",
          "util:ServiceConfig restart x3 / 60 s / 1 day")
# ACLs on the four data folders.
perms = [p.get("Sddl") for p in real.iter(W + "PermissionEx")]
check(perms == [sddl] * 4, f"PermissionEx SDDL on 4 folders, got {perms}")
# Policy never overwritten or removed.
dp = find(real, W + "Component", Id="DefaultPolicy")
check(dp and dp[0].get("Permanent") == "yes" and dp[0].get("NeverOverwrite") == "yes" and dp[0].get("Win64") == "yes",
      "DefaultPolicy Permanent+NeverOverwrite+Win64")
check(dp and (dp[0].findtext(W + "Condition") or "").strip() == "NOT POLICYFILE OR EXISTINGPOLICY", "DefaultPolicy condition")
pf = find(real, W + "Component", Id="PolicyFromFile")
check(pf and (pf[0].findtext(W + "Condition") or "").strip() == '(POLICYFILE AND NOT EXISTINGPOLICY) OR REMOVE="ALL"', "PolicyFromFile condition")
check(find(real, W + "CopyFile", Id="SeedPolicy", SourceProperty="POLICYFILE", DestinationProperty="DATADIR", DestinationName="policy.toml"),
      "CopyFile SeedPolicy")
check(find(real, W + "FileSearch", Id="ExistingPolicySearch", Name="policy.toml"), "EXISTINGPOLICY file search")
check(find(real, W + "CustomAction", Id="ValidatePolicyFile", BinaryKey="PortGuardValidator", Execute="immediate", Return="check"),
      "ValidatePolicyFile custom action")
mu = real.findall(f"{W}Product/{W}MajorUpgrade")
check(mu and mu[0].get("AllowSameVersionUpgrades") == "yes" and mu[0].get("DowngradeErrorMessage"), "MajorUpgrade same-version + downgrade error")
check(find(real, W + "CustomAction", Id="RollbackProtectServices", Execute="rollback"), "rollback custom action")
check(all(p.get("Secure") == "yes" for p in real.iter(W + "Property") if p.get("Id") in ("MODE", "PROTECT", "POLICYFILE")),
      "secure public properties")
check(all(c.get("Win64") == "yes" for c in real.iter(W + "Component")), "every component Win64")
check(real.find(f"{W}Product").get("Id") == "*" and real.find(f"{W}Product").get("Version") == "1.2.3", "Product Id=* and version from -D")

# The wixl variant: nothing wixl aborts on.
for tag in (U + "ServiceConfig", W + "PermissionEx", W + "CopyFile", W + "DirectorySearch"):
    check(not list(wixl.iter(tag)), f"wixl variant still contains {tag}")
check(not [c for comp in wixl.iter(W + "Component") for c in comp.findall(W + "Condition")], "wixl variant still has Component/Condition")
check(not find(wixl, W + "CustomAction", Id="ValidatePolicyFile"), "wixl variant still has the BinaryKey custom action")

if errors:
    print("FAIL: " + "\nFAIL: ".join(errors), file=sys.stderr)
    sys.exit(1)
print("PASS: real-WiX and wixl variants of portguard.wxs as specified")
PY
