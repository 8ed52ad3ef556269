#!/usr/bin/env python3
"""compare section `data`: token shards and the data loader, side by side.

1. Sharding throughput on the Gutenberg corpus (all cores) vs lmkit's own batch encode rate, both
   measured by `lmkit-bench data --corpus` in one run (same documents in memory), plus the
   end-to-end `lmkit shard` wall time from the decompressed text file and from the .zst file
   (documents split at `<|endoftext|>` lines, as in the in-memory measurement).
2. Size on disk of the same GPT-2 ids: lmkit shards vs nanoGPT's raw uint16 `.bin`, vs
   `zstd -3` / `zstd -19` of that raw uint16 stream (python-zstandard, one thread).
3. Loader throughput: lmkit DataLoader (lmkit-bench) vs a nanoGPT-style numpy memmap get_batch.
Args: --lmkit PATH --bench PATH --shared DIR --repo DIR. Markdown on stdout, progress on stderr.
"""
import argparse, json, os, shutil, subprocess, sys, tempfile, time

import numpy as np
import zstandard

ap = argparse.ArgumentParser()
for a in ("--lmkit", "--bench", "--shared", "--repo"):
    ap.add_argument(a, required=True)
args = ap.parse_args()
sys.path.insert(0, os.path.join(args.repo, "scripts"))
import lmshard_reader  # noqa: E402

def log(*a):
    print("data:", *a, file=sys.stderr, flush=True)

vocab = os.path.join(args.repo, "Vocab", "gpt2.vocab")
corpus_zst = os.path.join(args.shared, "gutenberg-en-A.txt.zst")
tmp = tempfile.mkdtemp(prefix="lmkit-compare-data-")
try:
    text_path = os.path.join(tmp, "gutenberg.txt")
    with open(corpus_zst, "rb") as f, open(text_path, "wb") as out:
        zstandard.ZstdDecompressor().copy_stream(f, out)
    raw_bytes = os.path.getsize(text_path)

    log("lmkit-bench data --corpus (encode vs shard, loader)...")
    r = subprocess.run([args.bench, "data", "--json", "--corpus", text_path, "--vocab", vocab],
                       check=True, capture_output=True, text=True)
    bench = {x["name"].split("[")[0]: x for x in json.loads(r.stdout)}

    def shard_once(src, out, extra=()):
        shutil.rmtree(out, ignore_errors=True)
        t0 = time.perf_counter()
        subprocess.run([args.lmkit, "shard", "--vocab", vocab, "--input", src, "--output", out, "--quiet",
                        "--doc-separator", "eot", *extra], check=True, stdout=subprocess.DEVNULL)
        return time.perf_counter() - t0

    log("lmkit shard end to end (from the text and from the .zst, interleaved, 3 each)...")
    out = os.path.join(tmp, "shards")
    from_text, from_zst = [], []
    for _ in range(3):
        from_text.append(shard_once(text_path, out))
        from_zst.append(shard_once(corpus_zst, out))
    text_secs, shard_secs = sorted(from_text)[1], sorted(from_zst)[1]
    inspect = json.loads(subprocess.run([args.lmkit, "shards", "inspect", out, "--json"], check=True,
                                        capture_output=True, text=True).stdout)
    log("lmkit shard --level 3 (size only)...")
    out3 = os.path.join(tmp, "shards-level3")
    level3_secs = shard_once(text_path, out3, ("--level", "3"))
    inspect3 = json.loads(subprocess.run([args.lmkit, "shards", "inspect", out3, "--json"], check=True,
                                         capture_output=True, text=True).stdout)

    log("reading the shards back with scripts/lmshard_reader.py...")
    ids = []
    for p in lmshard_reader.shard_paths(out):
        ids.extend(lmshard_reader.read_shard(p)[1])
    u16 = np.asarray(ids, dtype=np.uint16).tobytes()
    sizes = {"nanoGPT raw uint16 .bin": len(u16)}
    for level in (3, 19):
        log(f"zstd -{level} of the raw uint16 stream...")
        t0 = time.perf_counter()
        sizes[f"zstd -{level} of the raw uint16 stream"] = len(zstandard.ZstdCompressor(level=level).compress(u16))
        sizes[f"zstd -{level} of the raw uint16 stream"] = (sizes[f"zstd -{level} of the raw uint16 stream"],
                                                           time.perf_counter() - t0)

    log("numpy memmap loader (nanoGPT get_batch)...")
    bin_path = os.path.join(tmp, "train.bin")
    with open(bin_path, "wb") as f:
        f.write(u16)
    data = np.memmap(bin_path, dtype=np.uint16, mode="r")
    B, T, n = 16, 1024, 300
    rng = np.random.default_rng(0)
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        for _ in range(n):
            ix = rng.integers(0, len(data) - T - 1, B)
            x = np.stack([data[i:i + T].astype(np.int64) for i in ix])
            y = np.stack([data[i + 1:i + 1 + T].astype(np.int64) for i in ix])
        times.append(time.perf_counter() - t0)
    numpy_tps = B * T * n / sorted(times)[1]
finally:
    shutil.rmtree(tmp, ignore_errors=True)

enc = bench["encode_batch_MB_per_s"]["median"]
shd = bench["shard_MB_per_s"]["median"]
pair = bench["shard_vs_encode_ratio"]["median"]
cpu = bench["shard_vs_encode_cpu_ratio"]["median"]
print(f"Corpus: Gutenberg (gutenberg-en-A, {raw_bytes / 1e6:.1f} MB, {len(ids):,} GPT-2 tokens), all cores. Medians of 3.\n")
print("| sharding | MB/s of text | ratio |")
print("|---|---:|---:|")
print(f"| lmkit batch encode only (`encodeOrdinaryBatch`, in memory) | {enc:.2f} | 1.00 |")
print(f"| lmkit sharder (encode + zstd + CRC + write, in memory documents) | {shd:.2f} | {pair:.2f} (median of interleaved pairs; CPU-time ratio {cpu:.2f}) |")
print(f"| `lmkit shard` end to end from the text file (process start and vocab load included) | {raw_bytes / text_secs / 1e6:.2f} | {raw_bytes / text_secs / 1e6 / enc:.2f} |")
print(f"| `lmkit shard` end to end from the .zst (also decompresses the input) | {raw_bytes / shard_secs / 1e6:.2f} | {raw_bytes / shard_secs / 1e6 / enc:.2f} |")
print(f"| `lmkit shard --level 3` from the text file (one run) | {raw_bytes / level3_secs / 1e6:.2f} | {raw_bytes / level3_secs / 1e6 / enc:.2f} |")
print()
print("| size on disk of the same ids | bytes | bytes/token | vs raw |")
print("|---|---:|---:|---:|")
rows = [("lmkit shards, default `--level 1` (zstd frames of 65,536 tokens, index, CRCs)", inspect["bytesOnDisk"], None),
        ("lmkit shards, `--level 3`", inspect3["bytesOnDisk"], None)]
for k, v in sizes.items():
    rows.append((k, v[0], v[1]) if isinstance(v, tuple) else (k, v, None))
raw = sizes["nanoGPT raw uint16 .bin"]
for name, b, secs in rows:
    extra = f" (compress {secs:.1f} s)" if secs else ""
    print(f"| {name}{extra} | {b:,} | {b / len(ids):.3f} | {b / raw:.3f} |")
print()
lt = bench["loader_B16_T1024_Mtok_per_s"]["median"]
print("| loader (lmkit: 32 M seeded Zipf ids in 2 shards, lmkit-bench; numpy: the Gutenberg ids) | M tokens/s of ready batches |")
print("|---|---:|")
print(f"| lmkit DataLoader B=16 T=1024 (shuffled windows, zstd decode + CRC, prefetch thread) | {lt:.1f} |")
print(f"| lmkit DataLoader B=64 T=256 | {bench['loader_B64_T256_Mtok_per_s']['median']:.1f} |")
print(f"| nanoGPT `get_batch` B=16 T=1024 (numpy memmap of raw uint16, random offsets, int64) | {numpy_tps / 1e6:.1f} |")
