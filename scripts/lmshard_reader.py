#!/usr/bin/env python3
"""Reads .lmshard files (docs/SHARD_FORMAT.md, version 1) with Python and `zstandard` only.

    python3 scripts/lmshard_reader.py FILE.lmshard|DIR [--docs]   # one id per line (or per document)
"""
import json, os, struct, sys, zlib

import zstandard


class ShardError(Exception):
    pass


def read_shard(path):
    """Returns (header dict, list of token ids, list of document ends); raises ShardError."""
    name = os.path.basename(path)
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 64 or data[:8] != b"LMSHARD\x00":
        raise ShardError(f"{name}: header: not an .lmshard file")
    if zlib.crc32(data[:60]) != struct.unpack_from("<I", data, 60)[0]:
        raise ShardError(f"{name}: header: checksum mismatch")
    (version, width, fingerprint, ntok, ndoc, frame_tokens, nframes, index_offset,
     vocab_size) = struct.unpack_from("<IIQQQIIQI", data, 8)
    if version != 1 or width not in (2, 4) or frame_tokens == 0 or nframes != -(-ntok // frame_tokens):
        raise ShardError(f"{name}: header: unsupported version/width/frame size/frame count")
    index_end = index_offset + 24 * nframes + 8 * ndoc
    if len(data) != index_end + 4:
        raise ShardError(f"{name}: header: file size {len(data)}, expected {index_end + 4}")
    if zlib.crc32(data[index_offset:index_end]) != struct.unpack_from("<I", data, index_end)[0]:
        raise ShardError(f"{name}: index: checksum mismatch")
    fmt = "<%d" + ("H" if width == 2 else "I")
    dctx = zstandard.ZstdDecompressor()
    tokens, expected_offset = [], 64
    for i in range(nframes):
        off, size, count, ccrc, tcrc = struct.unpack_from("<QIIII", data, index_offset + 24 * i)
        want = frame_tokens if i < nframes - 1 else ntok - (nframes - 1) * frame_tokens
        if off != expected_offset or count != want:
            raise ShardError(f"{name}: index: frame {i} entry")
        expected_offset += size
        frame = data[off:off + size]
        if zlib.crc32(frame) != ccrc:
            raise ShardError(f"{name}: frame {i}: checksum of compressed bytes")
        try:
            raw = dctx.decompress(frame, max_output_size=count * width)
        except zstandard.ZstdError as e:
            raise ShardError(f"{name}: frame {i}: {e}")
        if len(raw) != count * width or zlib.crc32(raw) != tcrc:
            raise ShardError(f"{name}: frame {i}: checksum of tokens")
        ids = struct.unpack(fmt % count, raw)
        if ids and max(ids) >= vocab_size:
            raise ShardError(f"{name}: frame {i}: id outside the vocabulary")
        tokens.extend(ids)
    if expected_offset != index_offset:
        raise ShardError(f"{name}: index: frames do not end at the index")
    ends = list(struct.unpack_from("<%dQ" % ndoc, data, index_offset + 24 * nframes))
    if any(b <= a for a, b in zip([0] + ends, ends)) or (ends and ends[-1] > ntok):
        raise ShardError(f"{name}: index: document ends")
    return dict(token_width=width, vocab_fingerprint=fingerprint, vocab_size=vocab_size, token_count=ntok,
                document_count=ndoc, frame_tokens=frame_tokens, frame_count=nframes), tokens, ends


def shard_paths(path, split="train"):
    """A shard file, or the shards of `split` of a directory, in manifest order."""
    if not os.path.isdir(path):
        return [path]
    with open(os.path.join(path, "manifest.json")) as f:
        return [os.path.join(path, e["file"]) for e in json.load(f)[split]]


if __name__ == "__main__":
    for p in shard_paths(sys.argv[1]):
        _, ids, ends = read_shard(p)
        if "--docs" in sys.argv:
            for a, b in zip([0] + ends, ends):
                print(" ".join(map(str, ids[a:b])))
        else:
            sys.stdout.write("".join(f"{t}\n" for t in ids))
