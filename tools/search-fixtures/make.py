"""Makes the tiny model folders the search tests load (crates/flin-search/tests/models/):
a BERT-family sentence-transformer and a model2vec static model, each with random
weights (seeded) and a small WordPiece vocabulary, and `expected.json`: the vectors
the reference implementations give for some texts (transformers' BertModel, mean
pooled and normalised as sentence-transformers does; model2vec's StaticModel).
FLIN's own reading of the folders must give the same vectors.

Run with the pinned packages of tools/distill/requirements.txt:
    python tools/search-fixtures/make.py
"""

import json
import os
import pathlib

import numpy as np
import torch
from safetensors.numpy import save_file
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
from transformers import BertConfig, BertModel

OUT = pathlib.Path(__file__).resolve().parents[2] / "crates/flin-search/tests/models"
WORDS = """the a of and to in is for on with boots waterproof hiking trail mountain
rain jacket tent camp fire river lake water cold warm winter summer city night
quiet cafe paris coffee bread book library read story music song dance phone
battery screen fast slow car road bike train travel map""".split()
PIECES = ["##s", "##ing", "##ed", "##er", "##proof", "##ly"]
VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ".", ",", "!", "?"] + WORDS + PIECES
TEXTS = [
    "Waterproof hiking boots",
    "A quiet café in Paris at night!",
    "the train travels fast through the mountains, the car slowly",
    "zebra",
    " ".join(WORDS * 7),  # longer than one chunk of a small model
]


def tokenizer():
    tok = Tokenizer(models.WordPiece({t: i for i, t in enumerate(VOCAB)}, unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 2), ("[SEP]", 3)]
    )
    return tok


def tiny_bert():
    from sentence_transformers import SentenceTransformer, models as st_models

    folder = OUT / "tiny-bert"
    folder.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(7)
    config = BertConfig(
        vocab_size=len(VOCAB), hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
        intermediate_size=64, max_position_embeddings=64, hidden_act="gelu",
    )
    model = BertModel(config, add_pooling_layer=False)
    model.eval()
    # Larger random weights than BERT's initialisation, so every part matters.
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0, 0.2)
    tensors = {k: v.detach().numpy().astype(np.float32) for k, v in model.state_dict().items()
               if "position_ids" not in k}
    save_file(tensors, str(folder / "model.safetensors"))
    config.to_json_file(str(folder / "config.json"))
    tokenizer().save(str(folder / "tokenizer.json"))
    (folder / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": 40}))
    # The reference: the same encoder, mean pooling, unit length (what
    # sentence-transformers does for all-MiniLM-L6-v2), on each chunk of 38 tokens.
    tok = tokenizer()
    out = []
    for text in TEXTS:
        ids = tok.encode(text, add_special_tokens=False).ids
        chunks = []
        start = 0
        while True:
            end = min(start + 38, len(ids))
            piece = [2] + ids[start:end] + [3]
            with torch.no_grad():
                hidden = model(torch.tensor([piece])).last_hidden_state[0]
            v = hidden.mean(0)
            v = v / v.norm()
            chunks.append([round(float(x), 6) for x in v])
            if end == len(ids):
                break
            start += 38 - 32
        out.append({"text": text, "chunks": chunks})
    (folder / "expected.json").write_text(json.dumps(out, indent=1))


def tiny_static():
    from model2vec import StaticModel

    folder = OUT / "tiny-static"
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(11)
    vectors = rng.normal(size=(len(VOCAB), 8)).astype(np.float32)
    tok = tokenizer()
    tok.post_processor = None
    model = StaticModel(vectors=vectors, tokenizer=tok, normalize=True)
    model.save_pretrained(str(folder))
    got = model.encode(TEXTS[:4])
    out = [{"text": t, "vector": [round(float(x), 6) for x in v]} for t, v in zip(TEXTS, got)]
    (folder / "expected.json").write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    tiny_bert()
    tiny_static()
    print("wrote", OUT)
