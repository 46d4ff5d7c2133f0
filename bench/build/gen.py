#!/usr/bin/env python3
"""Writes a FLIN project of `--files` files (default 50, about 12,000 lines): entities,
lib functions, pages with markup and JSON routes. Usage: gen.py DIR [--files 50]."""
import os
import sys

def main():
    out = sys.argv[1]
    files = int(sys.argv[sys.argv.index("--files") + 1]) if "--files" in sys.argv else 50
    n_entities = max(1, files // 5)
    n_lib = max(1, files // 5)
    # A page and an API file each.
    n_app = max(1, (files - n_entities - n_lib) // 2)
    def write(path, text):
        full = os.path.join(out, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w") as f:
            f.write(text)
    for e in range(n_entities):
        fields = "\n".join(f"    field{k}: text = \"\"" for k in range(12))
        write(f"entities/Thing{e}.flin", f"entity Thing{e} {{\n    name: text @required\n    count: int = 0\n{fields}\n}}\n")
    for l in range(n_lib):
        fns = []
        for k in range(40):
            e = (l + k) % n_entities
            fns.append(
                f"fn helper{l}_{k}(limit: int) -> int {{\n"
                f"    total = 0\n"
                f"    for i in 0..limit {{\n"
                f"        if i % 3 == 0 {{\n"
                f"            total = total + i * {k + 1}\n"
                f"        }} else {{\n"
                f"            total = total - 1\n"
                f"        }}\n"
                f"    }}\n"
                f"    words = [\"a\", \"b\", \"c\"].map(w => w.upper)\n"
                f"    total + words.length + Thing{e}.count\n"
                f"}}\n"
            )
        write(f"lib/helpers{l}.flin", "\n".join(fns))
    for a in range(n_app):
        e = a % n_entities
        l = a % n_lib
        rows = "\n".join(
            f"        <tr><td>{{t.name}}</td><td>{{t.count}}</td><td>{{t.field{k % 12}}}</td></tr>" for k in range(300)
        )
        handlers = "\n".join(
            f"fn step{k}() {{\n    count = count + {k}\n    shown = helper{l}_{k % 40}(count)\n}}\n" for k in range(30)
        )
        write(
            f"app/page{a}.flin",
            f"count = 0\nshown = 0\nthings = Thing{e}.order(name).limit(20)\n\n{handlers}\n"
            f"<h1>Page {a}: {{count}} / {{shown}}</h1>\n<button click={{step1()}}>+</button>\n"
            f"<table>\n    {{for t in things}}\n{rows}\n    {{/for}}\n</table>\n",
        )
        write(
            f"app/api/things{a}.flin",
            f"route GET {{\n    Thing{e}.where(count > 0).limit(10)\n}}\n\n"
            f"route POST {{\n    t = Thing{e} {{ name: body.name }}\n    save t\n    response {{ status: 201, body: t }}\n}}\n",
        )

main()
