#!/usr/bin/env python3
"""Must-show 4 (learning): lmkit vs a plain PyTorch nanoGPT-equivalent, same wall-clock budget.

Both train the same GPT-2 shape on the same byte-level tokens of Tiny Shakespeare (the shards
lmkit made, read back with scripts/lmshard_reader.py), with the same optimiser settings (AdamW
betas (0.9, 0.99), weight decay 0.1 on 2-D tensors, warmup + cosine to lr/10, clip 1.0), the
same batch, each for BUDGET seconds of wall-clock on 2 threads (training + periodic evaluation).
Both fix their step count after timing the first steps, so each cosine ends when its time does.
The final number is the loss over the *whole* validation split in non-overlapping windows
(stride T), computed by `lmkit eval` for lmkit and by the same loop here for PyTorch.

Prints a markdown section: final val losses, tokens/s, and a table of val loss vs seconds; writes
bench/learning.svg (both curves).

    scripts/compare learning                       # via the driver
    python3 scripts/compare.d/learning.py --lmkit .build/release/lmkit --repo . --budget 180
"""
import argparse, json, math, os, subprocess, sys, time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def sh(cmd, **kw):
    print("+ " + " ".join(cmd), file=sys.stderr)
    return subprocess.run(cmd, check=True, **kw)


# ---------------------------------------------------------------------------------------------
# The PyTorch peer: nanoGPT's model.py, reduced to GPT-2's exact architecture (tanh GELU, tied
# head, LayerNorm eps 1e-5, biases), initialised as GPT-2 (std 0.02, residual projections
# 0.02/sqrt(2L)).

class Block(nn.Module):
    def __init__(s, C, NH):
        super().__init__()
        s.ln_1, s.ln_2 = nn.LayerNorm(C, eps=1e-5), nn.LayerNorm(C, eps=1e-5)
        s.c_attn, s.c_proj = nn.Linear(C, 3 * C), nn.Linear(C, C)
        s.c_fc, s.mlp_proj = nn.Linear(C, 4 * C), nn.Linear(4 * C, C)
        s.NH = NH

    def forward(s, x):
        B, T, C = x.shape
        q, k, v = s.c_attn(s.ln_1(x)).split(C, dim=2)
        q, k, v = (t.view(B, T, s.NH, C // s.NH).transpose(1, 2) for t in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + s.c_proj(y.transpose(1, 2).contiguous().view(B, T, C))
        return x + s.mlp_proj(F.gelu(s.c_fc(s.ln_2(x)), approximate="tanh"))


class GPT(nn.Module):
    def __init__(s, L, NH, C, ctx, V):
        super().__init__()
        s.wte, s.wpe = nn.Embedding(V, C), nn.Embedding(ctx, C)
        s.h = nn.ModuleList(Block(C, NH) for _ in range(L))
        s.ln_f = nn.LayerNorm(C, eps=1e-5)
        s.lm_head = nn.Linear(C, V, bias=False)
        s.lm_head.weight = s.wte.weight
        for name, p in s.named_parameters():
            if name.endswith("bias"):
                nn.init.zeros_(p)
            elif p.dim() == 2:
                std = 0.02 / math.sqrt(2 * L) if name.endswith(("c_proj.weight", "mlp_proj.weight")) else 0.02
                nn.init.normal_(p, 0.0, std)

    def forward(s, idx, targets):
        B, T = idx.shape
        x = s.wte(idx) + s.wpe(torch.arange(T))
        for b in s.h:
            x = b(x)
        logits = s.lm_head(s.ln_f(x))
        return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))


def lr_at(step, peak, warmup, total):
    floor = peak / 10
    if step < warmup:
        return peak * (step + 1) / warmup
    if step >= total:
        return floor
    r = (step - warmup) / max(1, total - warmup)
    return floor + 0.5 * (1 + math.cos(math.pi * r)) * (peak - floor)


def full_val_loss(model, val, T, B=16):
    """Mean loss over every val token after the first, windows of T+1 at stride T (as lmkit eval)."""
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for seq in val:
            n = (len(seq) - 1) // T
            for w in range(0, n, B):
                rows = range(w, min(n, w + B))
                x = torch.stack([torch.from_numpy(seq[r * T:r * T + T]) for r in rows]).long()
                y = torch.stack([torch.from_numpy(seq[r * T + 1:r * T + T + 1]) for r in rows]).long()
                total += model(x, y).item() * x.numel()
                count += x.numel()
            tail = len(seq) - 1 - n * T
            if tail > 0:
                x = torch.from_numpy(seq[n * T:n * T + tail]).long()[None]
                y = torch.from_numpy(seq[n * T + 1:]).long()[None]
                total += model(x, y).item() * tail
                count += tail
    model.train()
    return total / count


def train_torch(train, val, a, budget):
    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    model = GPT(a.layers, a.heads, a.dim, a.context, a.vocab_size)
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    other = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": other, "weight_decay": 0.0}],
                            lr=a.lr, betas=(0.9, 0.99), eps=1e-8)
    rng = np.random.default_rng(a.seed)
    data = np.concatenate(train)
    T, B = a.context, a.batch
    # Fixed validation batches (same windows at every evaluation), as lmkit's --eval-batches.
    vdata = np.concatenate(val)
    vstarts = np.random.default_rng(1).integers(0, len(vdata) - T - 1, size=(a.eval_batches, B))

    def batch(starts, src):
        x = torch.from_numpy(np.stack([src[s:s + T] for s in starts]).astype(np.int64))
        y = torch.from_numpy(np.stack([src[s + 1:s + T + 1] for s in starts]).astype(np.int64))
        return x, y

    def quick_val():
        model.eval()
        with torch.no_grad():
            v = sum(model(*batch(s, vdata)).item() for s in vstarts) / len(vstarts)
        model.train()
        return v

    t0 = time.time()
    step, total, times, curve, last_train = 0, None, [], [], float("nan")
    while total is None or step < total:
        ts = time.time()
        lr = lr_at(step, a.lr, a.warmup, total if total is not None else 1 << 40)
        for g in opt.param_groups:
            g["lr"] = lr
        x, y = batch(rng.integers(0, len(data) - T - 1, size=B), data)   # nanoGPT's get_batch
        loss = model(x, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        last_train = loss.item()
        times.append(time.time() - ts)
        if total is None and step >= 3:
            per = sum(times[1:]) / (len(times) - 1)
            eval_cost = per * 0.4 * a.eval_batches / a.eval_every
            total = step + int(max(0, budget - (time.time() - t0)) / (per + eval_cost))
        if step % a.eval_every == 0 or step == total:
            curve.append((time.time() - t0, step, quick_val()))
        if time.time() - t0 >= budget:
            break
    elapsed = time.time() - t0
    tps = B * T / sorted(times)[len(times) // 2]
    return {"steps": step, "elapsed": elapsed, "tokens_per_s": tps, "train_loss": last_train,
            "curve": curve, "val_full": full_val_loss(model, val, T)}


def train_lmkit(a, shards, run, budget):
    cmd = [a.lmkit, "pretrain", "--data", shards, "--vocab", a.vocab_path, "--out", run, "--layers", str(a.layers), "--heads", str(a.heads),
           "--dim", str(a.dim), "--context", str(a.context), "--batch", str(a.batch), "--lr", str(a.lr),
           "--warmup", str(a.warmup), "--eval-every", str(a.eval_every), "--eval-batches", str(a.eval_batches),
           "--time", str(budget / 60), "--threads", str(a.threads), "--seed", str(a.seed), "--checkpoint-every", "0"]
    sh(cmd, stdout=sys.stderr)
    rows = [json.loads(l) for l in open(os.path.join(run, "metrics.jsonl"))]
    curve = [(r["elapsed_s"], r["step"], r["val_loss"]) for r in rows if "val_loss" in r]
    ev = json.loads(sh([a.lmkit, "eval", "--checkpoint", run, "--data", shards, "--json", "--threads", str(a.threads)],
                       stdout=subprocess.PIPE).stdout)
    tps = sorted(r["tokens_per_s"] for r in rows)[len(rows) // 2]
    return {"steps": rows[-1]["step"], "elapsed": rows[-1]["elapsed_s"], "tokens_per_s": tps,
            "train_loss": rows[-1]["train_loss"], "curve": curve, "val_full": ev["loss"]}


def svg(curves, path, title):
    W, H, l, r, t, b = 720, 420, 64, 20, 40, 52
    pts = [p for c in curves.values() for p in c]
    xmax = max(p[0] for p in pts) or 1
    ylo, yhi = min(p[2] for p in pts), max(p[2] for p in pts)
    ylo, yhi = ylo - 0.05 * (yhi - ylo), yhi + 0.05 * (yhi - ylo)
    X = lambda x: l + x / xmax * (W - l - r)
    Y = lambda y: t + (1 - (y - ylo) / (yhi - ylo)) * (H - t - b)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
           '<rect width="100%" height="100%" fill="white"/>',
           f'<text x="{W/2}" y="22" text-anchor="middle" font-size="14">{title}</text>',
           f'<line x1="{l}" y1="{H-b}" x2="{W-r}" y2="{H-b}" stroke="black"/><line x1="{l}" y1="{t}" x2="{l}" y2="{H-b}" stroke="black"/>',
           f'<text x="{(l+W-r)/2}" y="{H-12}" text-anchor="middle">seconds</text>',
           f'<text x="16" y="{(t+H-b)/2}" text-anchor="middle" transform="rotate(-90 16 {(t+H-b)/2})">val loss (nats/token)</text>']
    for i in range(6):
        yv = ylo + (yhi - ylo) * i / 5
        xv = xmax * i / 5
        out.append(f'<text x="{l-6}" y="{Y(yv)+4:.1f}" text-anchor="end">{yv:.2f}</text>')
        out.append(f'<text x="{X(xv):.1f}" y="{H-b+16}" text-anchor="middle">{xv:.0f}</text>')
    for (name, c), color, k in zip(curves.items(), ["#1f77b4", "#ff7f0e"], range(2)):
        out.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="' +
                   " ".join(f"{X(p[0]):.1f},{Y(p[2]):.1f}" for p in c) + '"/>')
        out.append(f'<text x="{W-r-150}" y="{t+18+18*k}" fill="{color}">{name}</text>')
    out.append("</svg>")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + ".tmp", "w") as f:
        f.write("\n".join(out) + "\n")
    os.replace(path + ".tmp", path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lmkit", required=True)
    ap.add_argument("--bench")
    ap.add_argument("--shared")
    ap.add_argument("--repo", default=".")
    ap.add_argument("--budget", type=float, default=float(os.environ.get("LMKIT_LEARNING_SECONDS", 180)))
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--dim", type=int, default=128)
    ap.add_argument("--context", type=int, default=128)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--warmup", type=int, default=50)
    ap.add_argument("--eval-every", type=int, default=50)
    ap.add_argument("--eval-batches", type=int, default=8)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1337)
    a = ap.parse_args()
    repo = os.path.abspath(a.repo)
    work = os.path.join(repo, "out", "learning")
    sh(["rm", "-rf", work])
    os.makedirs(work)
    # Same data for both: byte-level vocab, documents of ~150 lines, 10% of them held out.
    vocab = os.path.join(work, "bytes.vocab")
    sh([a.lmkit, "vocab", "train", "--input", os.path.join(repo, "Corpora/tinyshakespeare.txt"), "--vocab-size", "257",
        "--special", "<|endoftext|>", "--output", vocab, "--quiet"], stdout=sys.stderr)
    docs = os.path.join(work, "shakespeare-docs.txt")
    sh(["bash", "-c", f"awk '{{print}} /^$/ && NR-last>=150 {{print \"<|endoftext|>\"; last=NR}}' "
                      f"'{repo}/Corpora/tinyshakespeare.txt' > '{docs}'"])
    shards = os.path.join(work, "shards")
    sh([a.lmkit, "shard", "--vocab", vocab, "--input", docs, "--output", shards, "--val-fraction", "0.1",
        "--doc-separator", "eot", "--quiet"], stdout=sys.stderr)
    sys.path.insert(0, os.path.join(repo, "scripts"))
    import lmshard_reader as R
    load = lambda split: [np.asarray(R.read_shard(p)[1], dtype=np.int32) for p in R.shard_paths(shards, split)]
    train, val = load("train"), load("val")
    a.vocab_size = 257
    a.vocab_path = vocab

    lm = train_lmkit(a, shards, os.path.join(work, "run"), a.budget)
    pt = train_torch(train, val, a, a.budget)
    svg({"lmkit": lm["curve"], "PyTorch (eager, 2 threads)": pt["curve"]}, os.path.join(repo, "bench", "learning.svg"),
        f"Tiny Shakespeare, bytes, {a.layers}L/{a.heads}H/{a.dim}, T={a.context}, B={a.batch}, {a.budget:.0f} s each")

    print(f"Same wall-clock budget ({a.budget:.0f} s each, {a.threads} threads), same data (byte-level Tiny Shakespeare, "
          f"{sum(map(len, train))} train / {sum(map(len, val))} val tokens), same model "
          f"({a.layers} layers, {a.heads} heads, {a.dim} wide, context {a.context}, batch {a.batch}), same optimiser "
          f"(AdamW lr {a.lr}, warmup {a.warmup}, cosine to lr/10, clip 1). Val loss = whole val split, nats/token.\n")
    print("| | steps | tokens/s (median step) | final train loss | **final val loss** |")
    print("|---|---:|---:|---:|---:|")
    for name, r in (("lmkit", lm), ("PyTorch eager", pt)):
        print(f"| {name} | {r['steps']} | {r['tokens_per_s']:.0f} | {r['train_loss']:.4f} | **{r['val_full']:.4f}** |")
    print(f"\nlmkit − PyTorch final val loss: {lm['val_full'] - pt['val_full']:+.4f} "
          f"({'lmkit at least as low' if lm['val_full'] <= pt['val_full'] else 'PyTorch lower'}).\n")
    print("Val loss (fixed val batches) vs seconds — curve in bench/learning.svg:\n")
    print("| seconds | lmkit step | lmkit val | PyTorch step | PyTorch val |")
    print("|---:|---:|---:|---:|---:|")
    marks = [a.budget * f for f in (0.1, 0.25, 0.5, 0.75, 1.0)]
    def at(curve, s):
        c = [p for p in curve if p[0] <= s + 1e-9]
        return c[-1] if c else None
    for s in marks:
        l, p = at(lm["curve"], s), at(pt["curve"], s)
        fmt = lambda q: (f"{q[1]} | {q[2]:.4f}" if q else "– | –")
        print(f"| {s:.0f} | {fmt(l)} | {fmt(p)} |")


if __name__ == "__main__":
    main()
