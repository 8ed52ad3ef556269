#!/usr/bin/env python3
"""Side-by-side encode speed: lmkit vs tiktoken vs Hugging Face tokenizers, same texts, same machine.

Texts (identical bytes for every tool): Tiny Shakespeare (Corpora/), the first 8 MB of the
Gutenberg corpus cut back to a newline, and the 388 UDHR texts joined with "\n" (multilingual),
exactly as `lmkit-bench encode` reads them. Batch runs use the same
~64 kB newline-aligned chunks. Rates are MB/s of UTF-8 input, medians of 5 runs.

  tiktoken 1T     Encoding.encode_ordinary(text) (wall, and CPU time)
  tiktoken batch  Encoding.encode_ordinary_batch(chunks, num_threads=2)
  HF 1T           Tokenizer.encode(text) (one run: it is slow on megabyte strings) (gpt2-tokenizer.json for r50k; lmkit's exported tokenizer.json for cl100k)
  HF batch        Tokenizer.encode_batch(chunks) (rayon, all cores)
  lmkit 1T/batch  `lmkit-bench encode --json` (encodeOrdinary / encodeOrdinaryBatch on all cores)
  lmkit 1T cold   the same, thread CPU time, with lmkit's per-thread piece cache emptied before each
                  run: the first pass over a text. The other lmkit runs repeat the same text, so
                  pieces cached by the previous run are hits (tiktoken has no such cache): the cold
                  ratio is the fair one for "encode this text once".

Run by scripts/compare (arguments --lmkit --bench --shared --repo); prints a markdown section.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import tiktoken
from tiktoken.load import load_tiktoken_bpe
from tokenizers import Tokenizer

R50K_PAT = r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}++| ?\p{N}++| ?[^\s\p{L}\p{N}]++|\s++$|\s+(?!\S)|\s"""
CL100K_PAT = r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""


def median_rate(mb, fn, repeats=5, clock=time.perf_counter):
    times = []
    for _ in range(repeats):
        t0 = clock()
        fn()
        times.append(clock() - t0)
    return mb / statistics.median(times)


def chunks(text, target=64 << 10):
    b = text.encode()
    out, start = [], 0
    while start < len(b):
        end = min(len(b), start + target)
        while end < len(b) and b[end - 1] != 0x0A:
            end += 1
        out.append(b[start:end].decode())
        start = end
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lmkit", required=True)
    ap.add_argument("--bench", required=True)
    ap.add_argument("--shared", required=True)
    ap.add_argument("--repo", required=True)
    a = ap.parse_args()
    v = os.path.join(a.shared, "vocab")
    encs = {
        "r50k": tiktoken.Encoding("r50k", pat_str=R50K_PAT, mergeable_ranks=load_tiktoken_bpe(os.path.join(v, "r50k_base.tiktoken")),
                                  special_tokens={"<|endoftext|>": 50256}),
        "cl100k": tiktoken.Encoding("cl100k", pat_str=CL100K_PAT, mergeable_ranks=load_tiktoken_bpe(os.path.join(v, "cl100k_base.tiktoken")),
                                    special_tokens={"<|endoftext|>": 100257}),
    }
    tmp = tempfile.mkdtemp()
    hf = {"r50k": Tokenizer.from_file(os.path.join(v, "gpt2-tokenizer.json"))}
    cl_vocab = os.path.join(tmp, "cl100k.vocab")
    subprocess.run([a.lmkit, "vocab", "import", os.path.join(v, "cl100k_base.tiktoken"), "--output", cl_vocab], check=True, capture_output=True)
    cl_json = os.path.join(tmp, "cl100k-tokenizer.json")
    subprocess.run([a.lmkit, "vocab", "export", "--vocab", cl_vocab, "--format", "hf", "--output", cl_json], check=True, capture_output=True)
    hf["cl100k"] = Tokenizer.from_file(cl_json)
    for t in hf.values():
        t.no_truncation(); t.no_padding()

    texts = {"shakespeare": open(os.path.join(a.repo, "Corpora", "tinyshakespeare.txt"), encoding="utf-8").read()}
    raw = subprocess.run(["sh", "-c", f"zstd -dc '{os.path.join(a.shared, 'gutenberg-en-A.txt.zst')}' | head -c 8000000"],
                         check=True, capture_output=True).stdout
    texts["gutenberg8MB"] = raw[: raw.rfind(b"\n") + 1].decode()
    udhr = os.path.join(a.shared, "multilingual", "udhr2-multilingual-A.jsonl")
    texts["udhr"] = "\n".join(json.loads(l)["text"] for l in open(udhr, encoding="utf-8") if l.strip())

    def lmkit_rates(key):
        # Run for each text/vocab pair right after tiktoken's runs on it, so that both see the
        # same phase of a shared, noisy host (one run of all pairs up front did not).
        out = subprocess.run([a.bench, "encode", f"--only={key}", "--json"], check=True, capture_output=True,
                             cwd=a.repo).stdout
        return {r["name"]: r["median"] for r in json.loads(out)}

    print("| text | vocab | tiktoken 1T | tiktoken 1T CPU | tiktoken batch (2T) | HF 1T | HF batch | lmkit 1T | lmkit 1T CPU | lmkit batch | lmkit pretok / bpe-only CPU | lmkit 1T cold CPU | lmkit ÷ tiktoken 1T (wall) | lmkit ÷ tiktoken 1T (CPU) | lmkit cold ÷ tiktoken 1T (CPU) | lmkit batch ÷ tiktoken batch |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    rounds = []
    for tname, text in texts.items():
        mb = len(text.encode()) / 1e6
        cs = chunks(text)
        for vname, enc in encs.items():
            print(f"  {tname}/{vname} ...", file=sys.stderr)
            tt1 = median_rate(mb, lambda: enc.encode_ordinary(text))
            # encode_ordinary runs on the calling thread only, so process CPU time = its thread time.
            ttc = median_rate(mb, lambda: enc.encode_ordinary(text), clock=time.process_time)
            ttb = median_rate(mb, lambda: enc.encode_ordinary_batch(cs, num_threads=2))
            h = hf[vname]
            hf1 = median_rate(mb, lambda: h.encode(text, add_special_tokens=False), repeats=1)
            hfb = median_rate(mb, lambda: h.encode_batch(cs, add_special_tokens=False), repeats=3)
            key = f"{vname}/{tname}"
            lm = lmkit_rates(key)
            l1 = lm.get(key + "/single")
            lc = lm.get(key + "/single-cpu")
            lb = next((val for k, val in lm.items() if k.startswith(key + "/batch")), None)
            pt, bo = lm.get(key + "/pretok-cpu"), lm.get(key + "/bpe-only-cpu")
            lcold = lm.get(key + "/cold-cpu")
            f = lambda x: "—" if x is None else f"{x:.1f}"
            r = lambda x, y: "—" if x is None else f"**{x / y:.2f}×**"
            # Two more interleaved rounds (tiktoken CPU, then lmkit) for the ratio ranges below.
            warm, cold = [lc / ttc], [lcold / ttc]
            for _ in range(2):
                tc = median_rate(mb, lambda: enc.encode_ordinary(text), clock=time.process_time)
                lr = lmkit_rates(key)
                warm.append(lr[key + "/single-cpu"] / tc)
                cold.append(lr[key + "/cold-cpu"] / tc)
            rounds.append((tname, vname, warm, cold))
            print(f"| {tname} | {vname} | {tt1:.1f} | {ttc:.1f} | {ttb:.1f} | {hf1:.1f} | {hfb:.1f} | {f(l1)} | {f(lc)} | {f(lb)} | {f(pt)} / {f(bo)} | {f(lcold)} | {r(l1, tt1)} | {r(lc, ttc)} | {r(lcold, ttc)} | {r(lb, ttb)} |", flush=True)
    print()
    print("MB/s of UTF-8 input, medians (tiktoken/lmkit 5 runs, HF batch 3, HF 1T 1). CPU columns are thread CPU time, which")
    print("stays meaningful when other jobs share the cores (wall-time ratios then depend on who got the CPU when).")
    print("`pretok` and `bpe-only` split lmkit's single-thread time into its two stages. `cold`: lmkit's piece cache emptied")
    print("before each run (first pass over the text); the other lmkit columns repeat the text with the cache kept.")
    print()
    print("Single-thread CPU-time ratio lmkit ÷ tiktoken in 3 interleaved rounds per text (each round: tiktoken median of")
    print("5 runs, then `lmkit-bench encode --only=…`; the first round is the table above): median [min–max].")
    print()
    print("| text | vocab | lmkit ÷ tiktoken, cache kept | lmkit cold ÷ tiktoken (first pass) |")
    print("|---|---|---:|---:|")
    for tname, vname, warm, cold in rounds:
        g = lambda xs: f"**{statistics.median(xs):.2f}×** [{min(xs):.2f}–{max(xs):.2f}]"
        print(f"| {tname} | {vname} | {g(warm)} | {g(cold)} |")


if __name__ == "__main__":
    main()
