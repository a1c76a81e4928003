"""Reference outputs for hcal-gguf's model tests (gguf-py and HF `tokenizers`).

    reference.py dequant MODEL OUT_DIR NAME...   -> OUT_DIR/NAME.f32 (gguf.quants.dequantize)
    reference.py quant OUT_DIR                   -> random data quantized by gguf-py to
                                                    Q4_0/Q4_1/Q8_0: OUT_DIR/{T}.bin (packed)
                                                    and OUT_DIR/{T}.f32 (its dequantization)
    reference.py tokenize MODEL VARIANT IN OUT   -> token ids (one line per input line;
                                                    input lines are hex UTF-8)
VARIANT `hf`: HF's SmolLM pre-tokenizer (Digits(individual) + ByteLevel regex);
VARIANT `llamacpp`: llama.cpp's smollm regex list as HF Split steps.
"""
import sys

import numpy as np
import gguf


def dequant(model, out, names):
    r = gguf.GGUFReader(model)
    by_name = {t.name: t for t in r.tensors}
    for n in names:
        t = by_name[n]
        d = gguf.quants.dequantize(t.data, t.tensor_type)
        np.ascontiguousarray(d, dtype="<f4").tofile(f"{out}/{n}.f32")


def quant(out):
    rng = np.random.default_rng(1234)
    x = (rng.standard_normal((64, 256)) * rng.uniform(0.001, 100, (64, 1))).astype(np.float32)
    x[3, :] = 0.0  # an all-zero row (d = 0)
    T = gguf.GGMLQuantizationType
    for t in (T.Q4_0, T.Q4_1, T.Q8_0):
        q = gguf.quants.quantize(x, t)
        np.ascontiguousarray(q).tofile(f"{out}/{t.name}.bin")
        np.ascontiguousarray(gguf.quants.dequantize(q, t), dtype="<f4").tofile(f"{out}/{t.name}.f32")


def tokenize(model, variant, inp, out):
    from tokenizers import Tokenizer, models, pre_tokenizers, Regex, AddedToken

    r = gguf.GGUFReader(model)
    toks = r.fields["tokenizer.ggml.tokens"].contents()
    types = r.fields["tokenizer.ggml.token_type"].contents()
    merges = r.fields["tokenizer.ggml.merges"].contents()
    vocab = {}
    for i, t in enumerate(toks):
        vocab.setdefault(t, i)
    tk = Tokenizer(models.BPE(vocab, [tuple(m.split(" ", 1)) for m in merges]))
    if variant == "hf":
        tk.pre_tokenizer = pre_tokenizers.Sequence([
            pre_tokenizers.Digits(individual_digits=True),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
        ])
    else:
        gpt2 = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)"
        tk.pre_tokenizer = pre_tokenizers.Sequence([
            pre_tokenizers.Split(Regex(r"\p{N}"), behavior="isolated"),
            pre_tokenizers.Split(Regex(gpt2), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ])
    tk.add_special_tokens([AddedToken(toks[i], special=True, normalized=False)
                           for i in range(len(toks)) if types[i] == 3])
    with open(inp) as f, open(out, "w") as o:
        for line in f:
            text = bytes.fromhex(line.strip()).decode("utf-8")
            ids = tk.encode(text, add_special_tokens=False).ids
            o.write(" ".join(map(str, ids)) + "\n")


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "dequant":
        dequant(sys.argv[2], sys.argv[3], sys.argv[4:])
    elif cmd == "quant":
        quant(sys.argv[2])
    elif cmd == "tokenize":
        tokenize(*sys.argv[2:6])
    else:
        sys.exit(f"unknown command {cmd}")
