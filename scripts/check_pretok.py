#!/usr/bin/env python3
"""Full pre-tokenizer check on the shared corpora, and the digests the Swift test compares with.

For every document of Tiny Shakespeare, the Gutenberg corpus (366 books, split at the
`<|endoftext|>` lines), UDHR (388 languages), emoji-test and CPython source, this splits the text
with Python `regex` running tiktoken's gpt2/cl100k/o200k patterns and records, per document and
pattern, the number of pieces and a 64-bit digest of their UTF-8 byte lengths:

    digest = sum(len_i * P**(n-1-i)) mod 2**64, P = 0x100000001B3
    (= Horner's rule h = h * P + len_i from h = 0, what the Swift test computes)

into Tests/LMTokenizerTests/Fixtures/pretok_corpus_digests.json (small: ~900 documents), which
`PreTokenizerCorpusDigestTests` checks the Swift scanners against (all 124 MB, all patterns).

With --tiktoken it also checks that the `regex` module (the fixture oracle) splits exactly like
tiktoken's own Rust engine (fancy-regex): it builds, per document batch, a tiktoken Encoding whose
vocabulary is the 256 bytes plus every piece `regex` produced, so a text whose splits agree
encodes to exactly one token per piece; a different split shows up as a different token list.

Run (from the repository root; takes a few minutes):
    /work/venv/bin/python scripts/check_pretok.py [--corpora ../shared/corpora] [--tiktoken]
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import regex

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures"))
from make_pretok_fixtures import PATTERNS, tiktoken_agrees  # noqa: E402  (one copy of each)

P = np.uint64(0x100000001B3)


def digest(lengths):
    """(count, 16-hex-digit digest) of a list of piece lengths."""
    n = len(lengths)
    if n == 0:
        return [0, "%016x" % 0]
    lens = np.asarray(lengths, dtype=np.uint64)
    powers = np.empty(n, dtype=np.uint64)
    powers[-1] = 1
    if n > 1:
        powers[:-1] = np.cumprod(np.full(n - 1, P, dtype=np.uint64))[::-1]
    with np.errstate(over="ignore"):
        h = int(np.sum(lens * powers, dtype=np.uint64))
    return [n, "%016x" % h]


def documents(root):
    """(corpus name, [document text]) in the order the Swift test reads them."""
    def jsonl(path):
        with open(path, encoding="utf-8") as f:
            return [json.loads(line)["text"] for line in f if line.strip()]

    def whole(path):
        with open(path, encoding="utf-8", newline="") as f:
            return [f.read()]

    import zstandard
    with open(os.path.join(root, "gutenberg-en-A.txt.zst"), "rb") as f:
        raw = zstandard.ZstdDecompressor().stream_reader(f).read()
    gutenberg = [d.decode("utf-8") for d in raw.split(b"<|endoftext|>\n")]
    return [
        ("tinyshakespeare.txt", whole(os.path.join(root, "tinyshakespeare.txt"))),
        ("multilingual/emoji-test-A.txt", whole(os.path.join(root, "multilingual", "emoji-test-A.txt"))),
        ("multilingual/udhr2-multilingual-A.jsonl", jsonl(os.path.join(root, "multilingual", "udhr2-multilingual-A.jsonl"))),
        ("multilingual/cpython311-stdlib-A.jsonl", jsonl(os.path.join(root, "multilingual", "cpython311-stdlib-A.jsonl"))),
        ("gutenberg-en-A.txt.zst", gutenberg),
    ]


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    repo = os.path.normpath(os.path.join(here, ".."))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpora", default=os.path.normpath(os.path.join(repo, "..", "shared", "corpora")))
    ap.add_argument("--output", default=os.path.join(repo, "Tests", "LMTokenizerTests", "Fixtures",
                                                    "pretok_corpus_digests.json"))
    ap.add_argument("--tiktoken", action="store_true", help="also check regex == tiktoken's engine")
    args = ap.parse_args()
    compiled = {name: regex.compile(p) for name, p in PATTERNS.items()}
    out = {}
    ok = True
    for corpus, docs in documents(args.corpora):
        entry = {"documents": len(docs), "bytes": sum(len(d.encode("utf-8")) for d in docs)}
        for pname, rx in compiled.items():
            t0 = time.time()
            all_pieces = []
            digests = []
            for d in docs:
                pieces = [p.encode("utf-8") for p in rx.findall(d)]
                assert b"".join(pieces) == d.encode("utf-8"), (corpus, pname, "no tiling")
                digests.append(digest([len(p) for p in pieces]))
                if args.tiktoken:
                    all_pieces.append(pieces)
            entry[pname] = digests
            msg = "%s %s: %d pieces, %.1f s" % (corpus, pname, sum(c for c, _ in digests), time.time() - t0)
            if args.tiktoken:
                agrees = tiktoken_agrees(PATTERNS[pname], all_pieces)
                ok = ok and agrees
                msg += ", tiktoken %s" % ("agrees" if agrees else "DISAGREES")
            print(msg, file=sys.stderr, flush=True)
        out[corpus] = entry
    doc = {
        "generator": "scripts/check_pretok.py",
        "oracle": "Python regex %s" % regex.__version__,
        "digest": "per document: [piece count, h] with h = h * 0x100000001B3 + piece UTF-8 length (mod 2^64) from h = 0",
        "corpora": out,
    }
    with open(args.output, "w", encoding="utf-8") as f:
        f.write("{\n")
        for key in ("generator", "oracle", "digest"):
            f.write("%s: %s,\n" % (json.dumps(key), json.dumps(doc[key])))
        f.write('"corpora": {\n')
        f.write(",\n".join("%s: %s" % (json.dumps(k), json.dumps(v)) for k, v in out.items()))
        f.write("\n}\n}\n")
    print("wrote %s" % args.output, file=sys.stderr)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
