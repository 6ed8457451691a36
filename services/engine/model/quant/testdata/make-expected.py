#!/usr/bin/env python3
"""
Writes the committed fixtures the TypeScript dequantizers are checked against, bit for bit.

For each ggml type: random blocks (random bytes, with every float16 field replaced by a random
finite float16, subnormals and both zeros included) and their float32 values from an independent
numpy dequantizer written here from ggml's published block layouts (ggml-common.h). The script
also decodes every block with the `gguf` package's own dequantizers (gguf/quants.py, a second
independent reference) and refuses to write anything unless both agree bit for bit.
For the 32-element types it also records gguf's reference quantizers' output for random floats
(gguf documents them as bit-exact with ggml's quantize_row_*_ref). No GGUF file is committed: the
container layout is checked against an independent parser (@huggingface/gguf) in ../../generate.test.ts.

Run once, from the repository root, when the fixture set changes (CI never runs Python):
    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install numpy gguf
    /tmp/venv/bin/python services/engine/model/quant/testdata/make-expected.py
"""
import hashlib
import json
import os
from importlib.metadata import version

import numpy as np
from gguf import GGMLQuantizationType as T
from gguf.quants import dequantize as gguf_dequantize, quantize as gguf_quantize

OUT = os.path.dirname(os.path.abspath(__file__))
QK = 32
QK_K = 256
f32 = np.float32


def half(col):
    """little-endian float16 bytes (n, 2) -> float32 (n, 1)"""
    return np.ascontiguousarray(col).view(np.float16).astype(f32).reshape(-1, 1)


def nibbles(qs):
    """(n, 16) bytes -> (n, 32) levels: low nibbles are elements 0..15, high nibbles 16..31"""
    return np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.int32)


def fifth_bits(qh):
    """(n, 4) bytes holding a little-endian u32 -> (n, 32): bit j belongs to element j"""
    u = qh.astype(np.uint32)
    word = u[:, 0] | (u[:, 1] << 8) | (u[:, 2] << 16) | (u[:, 3] << 24)
    return ((word.reshape(-1, 1) >> np.arange(32, dtype=np.uint32)) & 1).astype(np.int32)


def q4_0(b):
    return half(b[:, 0:2]) * (nibbles(b[:, 2:18]) - 8).astype(f32)


def q4_1(b):
    return half(b[:, 0:2]) * nibbles(b[:, 4:20]).astype(f32) + half(b[:, 2:4])


def q5_0(b):
    return half(b[:, 0:2]) * ((nibbles(b[:, 6:22]) | (fifth_bits(b[:, 2:6]) << 4)) - 16).astype(f32)


def q5_1(b):
    return half(b[:, 0:2]) * (nibbles(b[:, 8:24]) | (fifth_bits(b[:, 4:8]) << 4)).astype(f32) + half(b[:, 2:4])


def q8_0(b):
    return half(b[:, 0:2]) * np.ascontiguousarray(b[:, 2:34]).view(np.int8).astype(f32)


def two_bit_plane(qs, e):
    """level bits of element e (0..255) in a 64-byte plane: byte 32*(e//128) + e%32, shift 2*((e//32)%4)"""
    return (qs[:, 32 * (e // 128) + e % 32] >> (2 * ((e // 32) % 4))) & 3


def q2_K(b):
    scales, qs, d, dmin = b[:, 0:16], b[:, 16:80], half(b[:, 80:82]), half(b[:, 82:84])
    out = np.empty((len(b), QK_K), f32)
    for e in range(QK_K):
        sc = scales[:, e // 16].astype(np.int32)
        dl = d[:, 0] * (sc & 15).astype(f32)
        ml = dmin[:, 0] * (sc >> 4).astype(f32)
        out[:, e] = dl * two_bit_plane(qs, e).astype(f32) - ml
    return out


def six_bit_q3(scales, j):
    low = (scales[:, j % 8] >> (4 if j >= 8 else 0)) & 15
    high = (scales[:, 8 + j % 4] >> (2 * (j // 4))) & 3
    return (low | (high << 4)).astype(np.int32) - 32


def q3_K(b):
    hmask, qs, scales, d = b[:, 0:32], b[:, 32:96], b[:, 96:108], half(b[:, 108:110])
    out = np.empty((len(b), QK_K), f32)
    for e in range(QK_K):
        dl = d[:, 0] * six_bit_q3(scales, e // 16).astype(f32)
        high = (hmask[:, e % 32] >> (e // 32)) & 1
        q = two_bit_plane(qs, e).astype(np.int32) - np.where(high == 1, 0, 4)
        out[:, e] = dl * q.astype(f32)
    return out


def scale_min_k4(s, j):
    s = s.astype(np.int32)
    if j < 4:
        return s[:, j] & 63, s[:, j + 4] & 63
    return (s[:, j + 4] & 15) | ((s[:, j - 4] >> 6) << 4), (s[:, j + 4] >> 4) | ((s[:, j] >> 6) << 4)


def q45_K(b, five):
    d, dmin, scales = half(b[:, 0:2]), half(b[:, 2:4]), b[:, 4:16]
    qh, qs = (b[:, 16:48], b[:, 48:176]) if five else (None, b[:, 16:144])
    out = np.empty((len(b), QK_K), f32)
    for sub in range(8):
        sc, m = scale_min_k4(scales, sub)
        dl = d[:, 0] * sc.astype(f32)
        ml = dmin[:, 0] * m.astype(f32)
        for l in range(32):
            q = (qs[:, 32 * (sub // 2) + l] >> (4 * (sub % 2))).astype(np.int32) & 15
            if five:
                q = q + (((qh[:, l] >> sub) & 1).astype(np.int32) << 4)
            out[:, 32 * sub + l] = dl * q.astype(f32) - ml
    return out


def q6_K(b):
    ql, qh, scales, d = b[:, 0:128], b[:, 128:192], b[:, 192:208].view(np.int8), half(b[:, 208:210])
    out = np.empty((len(b), QK_K), f32)
    for e in range(QK_K):
        h, i = e // 128, e % 128
        low = (ql[:, 64 * h + i % 64] >> (4 if i >= 64 else 0)) & 15
        high = (qh[:, 32 * h + i % 32] >> (2 * (i // 32))) & 3
        q = (low | (high << 4)).astype(np.int32) - 32
        out[:, e] = (d[:, 0] * scales[:, e // 16].astype(f32)) * q.astype(f32)
    return out


# name: (ggml type, block elements, block bytes, byte ranges of float16 fields, our dequantizer, blocks)
TYPES = {
    'q4_0': (T.Q4_0, QK, 18, [0], q4_0, 128),
    'q4_1': (T.Q4_1, QK, 20, [0, 2], q4_1, 128),
    'q5_0': (T.Q5_0, QK, 22, [0], q5_0, 128),
    'q5_1': (T.Q5_1, QK, 24, [0, 2], q5_1, 128),
    'q8_0': (T.Q8_0, QK, 34, [0], q8_0, 128),
    'q2_k': (T.Q2_K, QK_K, 84, [80, 82], q2_K, 16),
    'q3_k': (T.Q3_K, QK_K, 110, [108], q3_K, 16),
    'q4_k': (T.Q4_K, QK_K, 144, [0, 2], lambda b: q45_K(b, False), 16),
    'q5_k': (T.Q5_K, QK_K, 176, [0, 2], lambda b: q45_K(b, True), 16),
    'q6_k': (T.Q6_K, QK_K, 210, [208], q6_K, 16),
}


def random_finite_halves(rng, n):
    bits = rng.integers(0, 1 << 16, size=n, dtype=np.uint16)
    bad = (bits & 0x7C00) == 0x7C00
    while bad.any():
        bits[bad] = rng.integers(0, 1 << 16, size=int(bad.sum()), dtype=np.uint16)
        bad = (bits & 0x7C00) == 0x7C00
    # a few fixed cases per field: +0, -0, the smallest subnormal, the largest finite half
    bits[:4] = [0x0000, 0x8000, 0x0001, 0x7BFF]
    return bits


def sha256(b):
    return hashlib.sha256(b).hexdigest()


def main():
    rng = np.random.default_rng(20261206)
    manifest = {'generator': 'make-expected.py', 'numpy': np.__version__, 'gguf': version('gguf'), 'types': {}}
    for name, (qtype, per, size, half_fields, ours, blocks) in TYPES.items():
        raw = rng.integers(0, 256, size=(blocks, size), dtype=np.uint8)
        for at in half_fields:
            raw[:, at:at + 2] = random_finite_halves(rng, blocks).view(np.uint8).reshape(blocks, 2)
        expected = np.ascontiguousarray(ours(raw).reshape(-1).astype(f32))
        reference = np.ascontiguousarray(gguf_dequantize(raw.reshape(-1), qtype).reshape(-1).astype(f32))
        if expected.shape != reference.shape or not np.array_equal(expected.view(np.uint32), reference.view(np.uint32)):
            diff = np.flatnonzero(expected.view(np.uint32) != reference.view(np.uint32))
            raise SystemExit(f'{name}: ours and gguf.quants differ at {len(diff)} values, first {diff[:5]}')
        raw.tofile(os.path.join(OUT, f'{name}.blocks.bin'))
        expected.tofile(os.path.join(OUT, f'{name}.expected.f32'))
        entry = {'blocks': blocks, 'values': int(expected.size), 'blocksSha256': sha256(raw.tobytes()),
                 'expectedSha256': sha256(expected.tobytes()), 'ggufAgrees': True}
        if per == QK:
            x = (rng.standard_normal(blocks * per) * np.exp(rng.uniform(-6, 2, blocks * per))).astype(f32)
            x[:per] = 0  # an all-zero block
            q = np.ascontiguousarray(gguf_quantize(x.reshape(-1, per), qtype)).reshape(-1)
            x.tofile(os.path.join(OUT, f'{name}.quantize-input.f32'))
            q.tofile(os.path.join(OUT, f'{name}.quantized.bin'))
            entry['quantizedSha256'] = sha256(q.tobytes())
        manifest['types'][name] = entry
        print(f'{name}: {blocks} blocks, {expected.size} values; numpy reference == gguf.quants bit for bit')
    with open(os.path.join(OUT, 'manifest.json'), 'w') as f:
        json.dump(manifest, f, indent=2)
        f.write('\n')


if __name__ == '__main__':
    main()
