"""Fits the rational tanh of wasm/src/activations.h and measures its float32 error.

    python3 packages/nn/scripts/fit_tanh.py      (NumPy and mpmath; about a minute)

tanh(x) = x * P(x^2) / Q(x^2) with P, Q of degree 4 and P(0) = Q(0) = 1, fitted to tanh(x)/x on [0, 9.05]
by linearised least squares (Sanathanan-Koerner iterations), then Lawson reweighting towards the minimax
fit. Prints the coefficients as float32 literals, the rational's own relative error, and the largest error
of the float32 evaluation (the kernel's operation order: clamp to [-9, 9], Horner, x * P, / Q; no fused
multiply-add) over every float32 from 1e-6 to 12, in the unit of wasm-recurrent.test.ts: |y - tanh(x)| /
(|tanh(x)| * 2^-23).
"""
import numpy as np
from mpmath import mp, mpf
from mpmath import tanh as mtanh

mp.dps = 40
x = np.concatenate([np.linspace(1e-4, 1, 4000), np.linspace(1, 9.05, 8000)])
f = np.array([float(mtanh(mpf(v)) / mpf(v)) for v in x])
t = x * x
NP = NQ = 5

q_prev = np.ones_like(x)
w = np.ones_like(x) / len(x)
best = None
for it in range(230):
    a = np.column_stack([t**k for k in range(1, NP)] + [-f * t**k for k in range(1, NQ)])
    scale = np.sqrt(w) / (np.abs(f) * q_prev)
    sol, *_ = np.linalg.lstsq(a * scale[:, None], (f - 1.0) * scale, rcond=None)
    p = np.concatenate([[1.0], sol[: NP - 1]])
    q = np.concatenate([[1.0], sol[NP - 1 :]])
    pv, qv = np.polyval(p[::-1], t), np.polyval(q[::-1], t)
    err = np.abs((pv / qv - f) / f)
    if best is None or err.max() < best[0]:
        best = (err.max(), p, q)
    if it < 30:
        q_prev = np.abs(qv)
    else:
        w = w * err
        w /= w.sum()
rel, p, q = best
p32, q32 = p.astype(np.float32), q.astype(np.float32)
print("P:", ", ".join(f"{c:.9e}f" for c in p32))
print("Q:", ", ".join(f"{c:.9e}f" for c in q32))
print(f"relative error of the rational on [0, 9.05]: {rel:.2e}")


def tanh32(v):
    v = np.minimum(np.maximum(v, np.float32(-9)), np.float32(9))
    tt = v * v
    pp = np.full_like(tt, p32[-1])
    for c in p32[-2::-1]:
        pp = pp * tt + c
    qq = np.full_like(tt, q32[-1])
    for c in q32[-2::-1]:
        qq = qq * tt + c
    return (v * pp) / qq


worst, at = 0.0, 0.0
lo = np.float32(1e-6).view(np.int32)
hi = np.float32(12).view(np.int32)
for s in range(int(lo), int(hi), 4_000_000):
    xs = np.arange(s, min(s + 4_000_000, int(hi)), dtype=np.int32).view(np.float32)
    want = np.tanh(xs.astype(np.float64))
    ulps = np.abs(tanh32(xs).astype(np.float64) - want) / (np.abs(want) * 2.0**-23)
    i = int(ulps.argmax())
    if ulps[i] > worst:
        worst, at = float(ulps[i]), float(xs[i])
print(f"float32 evaluation, every float32 in [1e-6, 12): worst {worst:.2f} ulp (at x = {at:.7g})")
