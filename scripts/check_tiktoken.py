#!/usr/bin/env python3
"""Full-corpus equality check (must-show 1): lmkit's ids vs tiktoken `encode_ordinary` on every
text of every corpus in ../shared/corpora, with the r50k_base and cl100k_base rank files there.
With --hf, also exports each vocab with `lmkit vocab export --format hf` and checks that Hugging
Face `tokenizers` loads it and gives the same ids.

    /work/venv/bin/python scripts/check_tiktoken.py [--lmkit .build/release/lmkit] [--shared DIR] [--hf] [--quick]

Texts: Tiny Shakespeare (whole file), Gutenberg (each of the 366 books), UDHR (each of the 388
languages), emoji-test (whole file), CPython (each of the 83 files). lmkit runs
`lmkit tokenize --vocab V --file T.jsonl --jsonl text --format ids --special-as-text`
(one ids line per text). Prints a markdown table; exits 1 on any mismatch.
"""
import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
import time

import tiktoken
import zstandard
from tiktoken.load import load_tiktoken_bpe

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures"))
from make_tiktoken_fixtures import encodings  # noqa: E402


def corpora(shared, quick):
    c = {}
    c["tinyshakespeare"] = [open(os.path.join(shared, "tinyshakespeare.txt"), encoding="utf-8").read()]
    with open(os.path.join(shared, "gutenberg-en-A.txt.zst"), "rb") as f:
        text = io.TextIOWrapper(zstandard.ZstdDecompressor().stream_reader(f), encoding="utf-8").read()
    books = text.split("<|endoftext|>\n")
    c["gutenberg"] = books[:20] if quick else books
    ml = os.path.join(shared, "multilingual")
    c["udhr2"] = [json.loads(l)["text"] for l in open(os.path.join(ml, "udhr2-multilingual-A.jsonl"), encoding="utf-8")]
    c["emoji"] = [open(os.path.join(ml, "emoji-test-A.txt"), encoding="utf-8").read()]
    c["cpython"] = [json.loads(l)["text"] for l in open(os.path.join(ml, "cpython311-stdlib-A.jsonl"), encoding="utf-8")]
    return c


def lmkit_ids(lmkit, vocab, texts, tmp):
    path = os.path.join(tmp, "texts.jsonl")
    with open(path, "w", encoding="utf-8") as f:
        for t in texts:
            f.write(json.dumps({"text": t}, ensure_ascii=False) + "\n")
    out = subprocess.run([lmkit, "tokenize", "--vocab", vocab, "--file", path, "--jsonl", "text",
                          "--format", "ids", "--special-as-text"], check=True, capture_output=True).stdout
    lines = out.decode().split("\n")[:-1]
    return [[int(x) for x in l.split()] for l in lines]


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    repo = os.path.dirname(here)
    ap = argparse.ArgumentParser()
    ap.add_argument("--lmkit", default=os.path.join(repo, ".build", "release", "lmkit"))
    ap.add_argument("--shared", default=os.environ.get("LMKIT_SHARED_CORPORA", os.path.join(os.path.dirname(repo), "shared", "corpora")))
    ap.add_argument("--hf", action="store_true", help="also check tokenizer.json exported by lmkit with HF tokenizers")
    ap.add_argument("--quick", action="store_true", help="only the first 20 Gutenberg books")
    a = ap.parse_args()
    r50k, cl100k = encodings(a.shared)
    texts = corpora(a.shared, a.quick)
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        vocabs = {}
        for name, src in [("r50k", "r50k_base.tiktoken"), ("cl100k", "cl100k_base.tiktoken")]:
            v = os.path.join(tmp, name + ".vocab")
            subprocess.run([a.lmkit, "vocab", "import", os.path.join(a.shared, "vocab", src), "--output", v],
                           check=True, capture_output=True)
            vocabs[name] = v
        hf = {}
        if a.hf:
            from tokenizers import Tokenizer
            for name, v in vocabs.items():
                j = os.path.join(tmp, name + "-tokenizer.json")
                subprocess.run([a.lmkit, "vocab", "export", "--vocab", v, "--format", "hf", "--output", j],
                               check=True, capture_output=True)
                hf[name] = Tokenizer.from_file(j)
        print("| corpus | texts | MB | vocab | lmkit = tiktoken | mismatching texts | HF tokenizers (lmkit export) = tiktoken |")
        print("|---|---:|---:|---|---|---:|---|")
        for corpus, ts in texts.items():
            mb = sum(len(t.encode()) for t in ts) / 1e6
            for name, enc in [("r50k", r50k), ("cl100k", cl100k)]:
                t0 = time.time()
                expected = enc.encode_ordinary_batch(ts, num_threads=2)
                got = lmkit_ids(a.lmkit, vocabs[name], ts, tmp)
                bad = [i for i, (e, g) in enumerate(zip(expected, got)) if e != g] + list(range(len(got), len(expected)))
                hf_col = "—"
                if a.hf:
                    hids = [e.ids for e in hf[name].encode_batch(ts, add_special_tokens=False)]
                    hbad = [i for i, (e, g) in enumerate(zip(expected, hids)) if e != g]
                    hf_col = "yes" if not hbad else f"**no** ({len(hbad)} texts, first #{hbad[0]})"
                    failed |= bool(hbad)
                ok = "yes" if not bad else f"**no** (first #{bad[0]})"
                failed |= bool(bad)
                print(f"| {corpus} | {len(ts)} | {mb:.2f} | {name} | {ok} | {len(bad)} | {hf_col} |", flush=True)
                print(f"  {corpus}/{name}: {time.time() - t0:.1f}s", file=sys.stderr)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
