#!/usr/bin/env python3
"""One sitting of the SmolLM2 speed comparison with llama.cpp (issue targets:
hcal's decode on lavapipe at 25% of llama.cpp's on the CPU or more; prefill of
a 256-token prompt reported).

The host drifts up to 2x within minutes, so each round runs llama.cpp and then
every hcal build one after another, and the ratio is taken within the round:

    /work/venv-llama/bin/python crates/hcal-llm/tests/data/sitting.py \\
        --gguf SmolLM2-135M-Instruct.Q4_1.gguf --rounds 3 \\
        --build now=target/release/examples/chat --build before=/tmp/chat_old

llama.cpp is llama-cpp-python (built as llama_cpp_golden.py says) on 2
threads: decode is 64 greedy tokens after the chat prompt below (best of 2),
prefill 256 tokens of plain text in one batch (best of 2). hcal runs the chat
example with `--warmup` and `--json`, also the best of 2 runs each: decode
`--max-tokens 64` after the same chat prompt, prefill `--prompt-tokens 256
--max-tokens 1`. (Until 2026-12-07 hcal's side was one run against
llama.cpp's best of 2.)
"""

import argparse
import json
import subprocess
import tempfile
import time

PROMPT = "Write a short poem about the sea."


def llama_cpp(gguf, threads):
    """llama.cpp's decode and prefill tokens/s, each the best of 2 runs."""
    from llama_cpp import Llama

    llm = Llama(model_path=gguf, n_ctx=1024, n_threads=threads, n_threads_batch=threads, n_batch=512, verbose=False)
    # The chat example's `--chat` text: the GGUF's template, whose default
    # system message comes first (llama_cpp_golden.json's prompt_text).
    system = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"
    chat = f"<|im_start|>system\n{system}<|im_end|>\n<|im_start|>user\n{PROMPT}<|im_end|>\n<|im_start|>assistant\n"
    prompt = llm.tokenize(chat.encode(), add_bos=False, special=True)
    long = llm.tokenize(("The sea is wide and deep and blue. " * 80).encode(), add_bos=False)[:256]
    decode = prefill = 0.0
    for _ in range(2):
        llm.reset()
        llm.eval(prompt)
        token = int(llm.scores[llm.n_tokens - 1].argmax())
        start = time.perf_counter()
        for _ in range(64):
            llm.eval([token])
            token = int(llm.scores[llm.n_tokens - 1].argmax())
        decode = max(decode, 64 / (time.perf_counter() - start))
        llm.reset()
        start = time.perf_counter()
        llm.eval(long)
        prefill = max(prefill, len(long) / (time.perf_counter() - start))
    del llm
    return decode, prefill


def hcal(chat, gguf, backend, extra):
    """The chat example's JSON report of one run."""
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        cmd = [chat, "--gguf", gguf, "--backend", backend, "--chat", "--prompt", PROMPT, "--warmup"]
        subprocess.run(cmd + extra + ["--json", out.name], check=True, capture_output=True)
        return json.load(open(out.name))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gguf", required=True)
    ap.add_argument("--build", action="append", required=True, help="LABEL=PATH of a chat example binary")
    ap.add_argument("--backend", default="wgpu:vulkan:0")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    builds = [b.split("=", 1) for b in args.build]
    print("round | llama.cpp decode / prefill 256 (tok/s) | " + " | ".join(f"{label}: decode / prefill (share)" for label, _ in builds))
    for r in range(1, args.rounds + 1):
        ld, lp = llama_cpp(args.gguf, args.threads)
        cells = []
        for _, chat in builds:
            # Best of 2, as llama.cpp's side is taken.
            d = max(hcal(chat, args.gguf, args.backend, ["--max-tokens", "64"])["decode_tok_s"] for _ in range(2))
            p = max(
                hcal(chat, args.gguf, args.backend, ["--prompt-tokens", "256", "--max-tokens", "1"])["prefill_tok_s"]
                for _ in range(2)
            )
            cells.append(f"{d:.2f} ({100 * d / ld:.1f}%) / {p:.2f} ({100 * p / lp:.1f}%)")
        print(f"{r} | {ld:.2f} / {lp:.1f} | " + " | ".join(cells), flush=True)


if __name__ == "__main__":
    main()
