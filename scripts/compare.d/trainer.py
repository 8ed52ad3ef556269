#!/usr/bin/env python3
"""Side-by-side vocab training: lmkit vs rustbpe vs Hugging Face tokenizers (must-show 2 and 3).

Every tool trains byte-level BPE with tiktoken's GPT-4 (cl100k) split regex, no normalizer and
no special tokens, at the same vocab size, on the same documents:

- Tiny Shakespeare, first 90% of the bytes (one document), vocab 4096 and 32768; evaluated on
  the last 10%.
- Gutenberg (gutenberg-en-A.txt.zst, 366 books split at `<|endoftext|>` lines), all books but
  the last 8 (~111 MB), vocab 32768, all cores; evaluated on the 8 held-out books.

Each training run is its own process under /usr/bin/time -v (wall time, peak RSS); peers get
their documents from a generator that streams the file (so their RSS is their own, not a copy of
the corpus). bytes/token = UTF-8 bytes of the held-out text / tokens, each tool's vocabulary
encoding the whole held-out text: rustbpe's ranks through tiktoken (what nanochat does), HF
through its own tokenizer, lmkit through `lmkit tokenize --format ids` (cross-checked by loading
lmkit's exported ranks into tiktoken).

Arguments (from scripts/compare): --lmkit PATH --bench PATH --shared DIR --repo DIR.
Environment: LMKIT_COMPARE_REPEATS (default 3) runs per measurement (medians are reported);
LMKIT_COMPARE_TRAINER_QUICK=1 skips Gutenberg.
Run alone:  /work/venv/bin/python scripts/compare.d/trainer.py --lmkit .build/release/lmkit \\
            --bench .build/release/lmkit-bench --shared ../shared/corpora --repo .
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

CL100K = r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""
SEP = "<|endoftext|>\n"


def log(*a):
    print(*a, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- peer training (child process)

def stream_documents(path):
    """Yields the documents of a text file: the whole file, or runs of lines between lines that
    are exactly `<|endoftext|>` (the same rule as lmkit's --split-documents)."""
    doc = []
    with open(path, encoding="utf-8", newline="") as f:
        for line in f:
            if line == SEP or line == "<|endoftext|>":
                if doc:
                    yield "".join(doc)
                doc = []
            else:
                doc.append(line)
    if doc:
        yield "".join(doc)


def peer_main(tool, train_path, vocab_size, out_path):
    t0 = time.time()
    if tool == "rustbpe":
        import rustbpe
        tok = rustbpe.Tokenizer()
        tok.train_from_iterator(stream_documents(train_path), vocab_size, pattern=CL100K)
        train_s = time.time() - t0
        ranks = tok.get_mergeable_ranks()
        import base64
        with open(out_path, "w") as f:
            for b, r in sorted(ranks, key=lambda x: x[1]):
                f.write(base64.b64encode(bytes(b)).decode() + " " + str(r) + "\n")
    elif tool == "hf":
        from tokenizers import Tokenizer, models, pre_tokenizers, trainers, decoders, Regex
        tok = Tokenizer(models.BPE())
        tok.pre_tokenizer = pre_tokenizers.Sequence([
            pre_tokenizers.Split(Regex(CL100K), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ])
        tok.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(vocab_size=vocab_size, show_progress=False, special_tokens=[],
                                      initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
        tok.train_from_iterator(stream_documents(train_path), trainer)
        train_s = time.time() - t0
        tok.save(out_path)
    else:
        raise SystemExit("unknown peer " + tool)
    print(json.dumps({"train_seconds": train_s}))


# ---------------------------------------------------------------- measuring (parent process)

def timed(cmd, env=None):
    """Runs cmd under /usr/bin/time -v; returns (stdout, wall seconds, peak RSS MB)."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as tf:
        t0 = time.time()
        p = subprocess.run(["/usr/bin/time", "-v", "-o", tf.name] + cmd, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, env=env)
        wall = time.time() - t0
        if p.returncode != 0:
            log(p.stderr[-3000:])
            raise SystemExit("failed: " + " ".join(cmd))
        rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", tf.read()).group(1))
    return p.stdout, wall, rss_kb / 1024


def lmkit_bytes_per_token(lmkit, vocab, eval_path):
    out = subprocess.run([lmkit, "tokenize", "--vocab", vocab, "--file", eval_path, "--format", "ids"],
                         stdout=subprocess.PIPE, check=True).stdout
    return os.path.getsize(eval_path) / len(out.split())


def tiktoken_bytes_per_token(ranks_path, eval_text):
    import tiktoken
    from tiktoken.load import load_tiktoken_bpe
    enc = tiktoken.Encoding("eval", pat_str=CL100K, mergeable_ranks=load_tiktoken_bpe(ranks_path), special_tokens={})
    return len(eval_text.encode()) / len(enc.encode_ordinary(eval_text))


def hf_bytes_per_token(path, eval_text):
    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(path)
    return len(eval_text.encode()) / len(tok.encode(eval_text, add_special_tokens=False).ids)


def same_ranks(a, b):
    """'identical' if two tiktoken rank files list the same tokens in the same order, else where they differ."""
    la, lb = open(a).read().split("\n"), open(b).read().split("\n")
    for i, (x, y) in enumerate(zip(la, lb)):
        if x != y:
            return f"differ from rank {i}"
    return "identical" if len(la) == len(lb) else f"same prefix, {len(la)} vs {len(lb)} lines"


def run_case(args, work, name, train_path, split_docs, eval_text, eval_path, vocab_size, repeats, train_text=None):
    rows = []
    me = os.path.abspath(__file__)
    py = sys.executable
    tools = [
        ("lmkit", lambda out: [args.lmkit, "vocab", "train", "--input", train_path, "--vocab-size", str(vocab_size),
                               "--output", out, "--quiet", "--json"] + (["--split-documents"] if split_docs else [])),
        ("rustbpe", lambda out: [py, me, "--peer", "rustbpe", "--train", train_path, "--vocab-size", str(vocab_size), "--out", out]),
        ("HF tokenizers", lambda out: [py, me, "--peer", "hf", "--train", train_path, "--vocab-size", str(vocab_size), "--out", out]),
    ]
    for tool, cmd in tools:
        walls, rsss, inner, extra = [], [], [], {}
        out = os.path.join(work, f"{name}-{vocab_size}-{tool.split()[0]}" + (".vocab" if tool == "lmkit" else ".tiktoken" if tool == "rustbpe" else ".json"))
        for r in range(repeats):
            log(f"trainer: {name} {vocab_size} {tool} run {r + 1}/{repeats}")
            stdout, wall, rss = timed(cmd(out))
            walls.append(wall)
            rsss.append(rss)
            j = json.loads(stdout.strip().splitlines()[-1])
            inner.append(j.get("train_seconds", j.get("countingSeconds", 0) + j.get("mergingSeconds", 0)))
            if tool == "lmkit":
                extra = j
        if tool == "lmkit":
            bpt = lmkit_bytes_per_token(args.lmkit, out, eval_path)
            tik = os.path.join(work, f"{name}-{vocab_size}-lmkit.tiktoken")
            subprocess.run([args.lmkit, "vocab", "export", "--vocab", out, "--format", "tiktoken", "--output", tik],
                           check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            cross = tiktoken_bytes_per_token(tik, eval_text)
            if abs(cross - bpt) > 1e-9:
                log(f"trainer: note: lmkit tokenize gives {bpt:.4f} bytes/token, tiktoken on lmkit's ranks {cross:.4f}")
            on_train = tiktoken_bytes_per_token(tik, train_text) if train_text else None
            ranks = extra["ranks"]
        elif tool == "rustbpe":
            bpt = tiktoken_bytes_per_token(out, eval_text)
            on_train = tiktoken_bytes_per_token(out, train_text) if train_text else None
            ranks = sum(1 for _ in open(out))
        else:
            bpt = hf_bytes_per_token(out, eval_text)
            on_train = hf_bytes_per_token(out, train_text) if train_text else None
            ranks = json.load(open(out))["model"]["vocab"].__len__()
        rows.append(dict(tool=tool, bpt=bpt, on_train=on_train, ranks=ranks, wall=statistics.median(walls),
                         rss=statistics.median(rsss), inner=statistics.median(inner), extra=extra))
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lmkit")
    ap.add_argument("--bench")
    ap.add_argument("--shared")
    ap.add_argument("--repo")
    ap.add_argument("--peer")
    ap.add_argument("--train")
    ap.add_argument("--vocab-size", type=int)
    ap.add_argument("--out")
    args = ap.parse_args()
    if args.peer:
        return peer_main(args.peer, args.train, args.vocab_size, args.out)

    repeats = int(os.environ.get("LMKIT_COMPARE_REPEATS", "3"))
    work = tempfile.mkdtemp(prefix="lmkit-compare-trainer-")
    cases = []

    ts = open(os.path.join(args.shared, "tinyshakespeare.txt"), "rb").read()
    cut = len(ts) * 9 // 10
    ts_train = os.path.join(work, "ts-train.txt")
    ts_eval = os.path.join(work, "ts-eval.txt")
    open(ts_train, "wb").write(ts[:cut])
    open(ts_eval, "wb").write(ts[cut:])
    for vs in (4096, 32768):
        cases.append(("Tiny Shakespeare (first 90%, 1.0 MB)", "ts", ts_train, False, ts[cut:].decode(), ts_eval, vs,
                      ts[:cut].decode()))

    if os.environ.get("LMKIT_COMPARE_TRAINER_QUICK") != "1":
        import zstandard
        raw = zstandard.ZstdDecompressor().stream_reader(open(os.path.join(args.shared, "gutenberg-en-A.txt.zst"), "rb")).read()
        text = raw.decode()
        docs = [d for d in text.split(SEP) if d]
        held = 8
        gb_train = os.path.join(work, "gutenberg-train.txt")
        gb_eval = os.path.join(work, "gutenberg-eval.txt")
        with open(gb_train, "w", encoding="utf-8", newline="") as f:
            f.write(SEP.join(docs[:-held]))
        eval_text = "".join(docs[-held:])
        with open(gb_eval, "w", encoding="utf-8", newline="") as f:
            f.write(eval_text)
        mb = os.path.getsize(gb_train) / 1e6
        del raw, text, docs
        cases.append((f"Gutenberg ({366 - held} books, {mb:.0f} MB)", "gb", gb_train, True, eval_text, gb_eval, 32768, None))

    print(f"Byte-level BPE training, GPT-4 split regex, no special tokens; {repeats} run(s) each, medians; "
          f"{os.cpu_count()} cores, all used by every tool. Wall time and peak RSS are of the whole training "
          f"process (`/usr/bin/time -v`); bytes/token on held-out text (higher = better compression).\n")
    print("| corpus | vocab | tool | ids | bytes/token held out | vs rustbpe | bytes/token train text | wall s | train s | peak RSS MB | wall vs lmkit | RSS vs lmkit |")
    print("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    details = []
    for title, name, train_path, split, eval_text, eval_path, vs, train_text in cases:
        rows = run_case(args, work, name, train_path, split, eval_text, eval_path, vs, repeats, train_text)
        ref = next(r for r in rows if r["tool"] == "rustbpe")["bpt"]
        me = rows[0]
        for r in rows:
            on_train = f"{r['on_train']:.3f}" if r["on_train"] else "–"
            print(f"| {title} | {vs} | {r['tool']} | {r['ranks']} | {r['bpt']:.3f} | {100 * (r['bpt'] / ref - 1):+.2f}% | {on_train} | "
                  f"{r['wall']:.2f} | {r['inner']:.2f} | {r['rss']:.0f} | {r['wall'] / me['wall']:.2f}× | {r['rss'] / me['rss']:.2f}× |")
            sys.stdout.flush()
        same = same_ranks(os.path.join(work, f"{name}-{vs}-lmkit.tiktoken"), os.path.join(work, f"{name}-{vs}-rustbpe.tiktoken"))
        e = me["extra"]
        details.append(f"- {title}, {vs}: lmkit's ranks vs rustbpe's: {same}")
        details.append(f"- {title}, {vs}: lmkit counted {e['inputBytes'] / 1e6:.1f} MB at {e['countingMBPerSecond']:.1f} MB/s "
                       f"({e['countingSeconds']:.2f} s, {e['uniquePieces']} distinct pieces), merged at "
                       f"{e['mergesPerSecond']:.0f} merges/s ({e['mergingSeconds']:.2f} s)")
    print()
    print("`ids` is the vocabulary size each tool ended with (Tiny Shakespeare runs out of pairs before 32768). "
          "`train s` is the training call alone (lmkit: counting + merging, without process start and file write).\n")
    print("Where lmkit's time goes (last run):")
    print("\n".join(details))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
