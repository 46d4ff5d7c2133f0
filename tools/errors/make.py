#!/usr/bin/env python3
"""Writes docs/errors.md: every diagnostic code of docs/architecture.md's table, with a
program that gives it (from the checker's and parser's fixtures) and what `flin check`
says of it, help included. Run from the repository root after a `cargo build -p flin`:
    python3 tools/errors/make.py target/debug/flin
`flin explain CODE` prints the entry; a test keeps the file in step with the table."""
import json, os, re, subprocess, sys

flin = sys.argv[1] if len(sys.argv) > 1 else "target/debug/flin"
table = {}
for line in open("docs/architecture.md"):
    m = re.match(r"^\| (E\d{4}) \| (.*) \|$", line.rstrip())
    if m:
        table[m.group(1)] = m.group(2)

found = {}
roots = ["crates/flin-syntax/tests/data/err", "crates/flin-check/tests/data/err"]
for root in roots:
    for dirpath, dirs, files in sorted(os.walk(root)):
        dirs.sort()
        for name in sorted(files):
            if not name.endswith(".flin"):
                continue
            path = os.path.join(dirpath, name)
            # A project folder's file is checked with its project.
            relative = os.path.relpath(dirpath, root)
            target = path if relative == "." else os.path.join(root, relative.split(os.sep)[0])
            out = subprocess.run([flin, "check", "--format", "json", target], capture_output=True, text=True).stdout
            for line in out.splitlines():
                try:
                    d = json.loads(line)
                except ValueError:
                    continue
                code = d["code"]
                if code in found:
                    continue
                file = d["file"]
                full = os.path.join(target, file) if os.path.isdir(target) else file
                try:
                    src = open(full).read().split("\n")[d["line"] - 1]
                except (OSError, IndexError):
                    continue
                src = re.sub(r"\s*//\s*(E\d{4}@\d+\s*)+$", "", src).rstrip()
                found[code] = (src, d["message"], d.get("help"))

out = ["# Error codes", "",
       "Every diagnostic FLIN prints has a code. Each entry below shows a line that gives it,",
       "what `flin check` says, and how to fix it. `flin explain E0302` prints one entry.", ""]
for code, meaning in table.items():
    out.append(f"## {code}")
    out.append("")
    out.append(meaning[0].upper() + meaning[1:] + ".")
    out.append("")
    if code in found:
        src, message, help_text = found[code]
        out.append("```flin")
        out.append(src.strip())
        out.append("```")
        out.append("")
        out.append(f"`flin check` says: {message}")
        out.append("")
        if help_text:
            out.append(f"Fix: {help_text[0].upper() + help_text[1:]}")
        else:
            out.append("Fix: change the line as the message says.")
    elif code == "E0001":
        out.append("Fix: save the file as UTF-8 (the message points at the first byte that is not).")
    else:
        out.append("Fix: nothing in your program: this is a fault of FLIN itself. Report it with the program that shows it.")
    out.append("")
open("docs/errors.md", "w").write("\n".join(out))
missing = [c for c in table if c not in found]
print(f"docs/errors.md: {len(table)} codes, {len(table) - len(missing)} with examples; without: {' '.join(missing)}")
