#!/usr/bin/env python3
"""Writes the runtime's numeric fixtures: for each model in
Tests/GencRuntimeTests/Fixtures/*.yaml, random weights and inputs, and each
objective's value computed here independently in float64 NumPy.

Run: python3 scripts/make-fixtures.py   (needs numpy only; the tests do not
need Python: the fixtures are committed.)

Each model NAME gets NAME.weights.safetensors (parameters and state, keyed as
genc names them) and NAME.inputs.safetensors (inputs; expected objective
values in __metadata__ as "expected.OBJECTIVE").
"""
import json, os, struct
import numpy as np

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "GencRuntimeTests", "Fixtures")
rng = np.random.default_rng(20261129)


def write(path, tensors, metadata=None):
    header = {}
    if metadata:
        header["__metadata__"] = dict(sorted(metadata.items()))
    off, blobs = 0, []
    for name in sorted(tensors):
        a = tensors[name]
        dt = {np.dtype(np.float32): "F32", np.dtype(np.int32): "I32"}[a.dtype]
        b = np.ascontiguousarray(a).tobytes()
        header[name] = {"dtype": dt, "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        off += len(b)
        blobs.append(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def f32(*shape, lo=-1.0, hi=1.0):
    return rng.uniform(lo, hi, shape).astype(np.float32)


class Params(dict):
    """Float32 weights (what genc reads) used as float64 in the maths."""
    def new(self, name, *shape, lo=-0.7, hi=0.7):
        self[name] = f32(*shape, lo=lo, hi=hi)
        return self[name].astype(np.float64)


# ---------------------------------------------------------------- layers

def dense(P, name, x, units, bias=True):
    w = P.new(name + ".weight", x.shape[-1], units)
    y = x @ w
    return y + P.new(name + ".bias", units) if bias else y


def leaky(x, s): return np.where(x >= 0, x, s * x)
def sigmoid(x): return 1 / (1 + np.exp(-x))
def softplus(x): return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))
def gelu(x):
    from math import erf
    return 0.5 * x * (1 + np.vectorize(erf)(x / np.sqrt(2)))


def softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def layernorm(P, name, x, eps=1e-5):
    s = P.new(name + ".scale", x.shape[-1], lo=0.5, hi=1.5)
    b = P.new(name + ".bias", x.shape[-1], lo=-0.2, hi=0.2)
    m = x.mean(-1, keepdims=True)
    v = ((x - m) ** 2).mean(-1, keepdims=True)
    return (x - m) / np.sqrt(v + eps) * s + b


def batchnorm(P, name, x, eps=1e-5):
    c = x.shape[1]
    s = P.new(name + ".scale", c, lo=0.5, hi=1.5)
    b = P.new(name + ".bias", c, lo=-0.2, hi=0.2)
    P[name + ".running_mean"] = f32(c, lo=-0.1, hi=0.1)   # not used with batch statistics
    P[name + ".running_var"] = f32(c, lo=0.9, hi=1.1)
    axes = (0,) + tuple(range(2, x.ndim))
    shape = [1] * x.ndim
    shape[1] = c
    m = x.mean(axes, keepdims=True)
    v = ((x - m) ** 2).mean(axes, keepdims=True)
    return (x - m) / np.sqrt(v + eps) * s.reshape(shape) + b.reshape(shape)


def conv2d(x, w, stride, pad):
    """Cross-correlation, PyTorch's conv2d: x (N,C,H,W), w (F,C,KH,KW)."""
    n, c, h, wd = x.shape
    f, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad[0], pad[0]), (pad[1], pad[1])))
    oh = (h + 2 * pad[0] - kh) // stride[0] + 1
    ow = (wd + 2 * pad[1] - kw) // stride[1] + 1
    y = np.zeros((n, f, oh, ow))
    for i in range(oh):
        for j in range(ow):
            patch = xp[:, :, i * stride[0]:i * stride[0] + kh, j * stride[1]:j * stride[1] + kw]
            y[:, :, i, j] = np.einsum("nckl,fckl->nf", patch, w)
    return y


def conv_transpose2d(x, w, stride, pad, out_pad):
    """PyTorch's ConvTranspose2d: x (N,Cin,H,W), w (Cin,Cout,KH,KW)."""
    n, cin, h, wd = x.shape
    _, cout, kh, kw = w.shape
    full_h = (h - 1) * stride + kh
    full_w = (wd - 1) * stride + kw
    y = np.zeros((n, cout, full_h + out_pad, full_w + out_pad))
    for i in range(h):
        for j in range(wd):
            y[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw] += np.einsum("nc,cokl->nokl", x[:, :, i, j], w)
    oh = (h - 1) * stride - 2 * pad + kh + out_pad
    ow = (wd - 1) * stride - 2 * pad + kw + out_pad
    return y[:, :, pad:pad + oh, pad:pad + ow]


def pool(x, k, s, kind):
    n, c, h, w = x.shape
    oh, ow = (h - k[0]) // s[0] + 1, (w - k[1]) // s[1] + 1
    y = np.zeros((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            win = x[:, :, i * s[0]:i * s[0] + k[0], j * s[1]:j * s[1] + k[1]]
            y[:, :, i, j] = win.max((2, 3)) if kind == "max" else win.mean((2, 3))
    return y


def lstm(P, name, x, units, layers, return_sequences=True):
    """Batch first (N, T, F), gates i, f, g, o, one bias per layer."""
    n, t, _ = x.shape
    seq = x
    for l in range(layers):
        p = f"{name}.l{l}"
        wih = P.new(p + ".weight_ih", seq.shape[2], 4 * units)
        whh = P.new(p + ".weight_hh", units, 4 * units)
        b = P.new(p + ".bias", 4 * units)
        h = np.zeros((n, units)); c = np.zeros((n, units)); outs = []
        for s in range(t):
            g = seq[:, s] @ wih + b + h @ whh
            i, f, gg, o = (g[:, k * units:(k + 1) * units] for k in range(4))
            c = sigmoid(f) * c + sigmoid(i) * np.tanh(gg)
            h = sigmoid(o) * np.tanh(c)
            outs.append(h)
        seq = np.stack(outs, 1)
    return seq if return_sequences else h


def bce_logits(x, t): return np.maximum(x, 0) - x * t + np.log1p(np.exp(-np.abs(x)))
def kl_normal(mu, lv): return -0.5 * (1 + lv - mu ** 2 - np.exp(lv))


def cross_entropy(logits, ids):
    lp = logits - logits.max(-1, keepdims=True)
    lp = lp - np.log(np.exp(lp).sum(-1, keepdims=True))
    return -np.take_along_axis(lp, ids[..., None], -1)[..., 0]


# ---------------------------------------------------------------- models

def fx_dense():
    P = Params()
    x, y, p = f32(3, 5), f32(3, 2), f32(3, 2, lo=0.05, hi=0.95)
    X, Y, Pt = (a.astype(np.float64) for a in (x, y, p))

    def net(x):
        h = leaky(dense(P, "net.dense0", x, 4), 0.2)
        h = layernorm(P, "net.layernorm0", h)
        h = gelu(dense(P, "net.dense1", h, 4))
        h = softplus(h)
        return dense(P, "net.dense2", h, 2)

    def head(h):
        return softmax(np.tanh(dense(P, "head.dense0", h, 2)))

    # Build parameters once (the same names return the same arrays after the first call).
    out = net(X); hd = head(Y)
    saved = dict(P)
    P.new = lambda name, *shape, **kw: saved[name].astype(np.float64)  # reuse weights on later calls
    out = net(X)
    e = {
        "o_mse": ((out - Y) ** 2).mean(),
        "o_l1": np.abs(out - Y).sum() / 3,
        "o_bce": (-(Pt * np.maximum(np.log(sigmoid(out)), -100) + (1 - Pt) * np.maximum(np.log(1 - sigmoid(out)), -100))).mean(),
        "o_bce_logits": bce_logits(out, Pt).mean(),
        "o_kl": kl_normal(out, head(Y)).sum(1)[0] + out.max(0).mean() + (np.exp(head(out)) ** 3).sum(),
    }
    return saved, {"x": x, "y": y, "p": p}, e


def fx_conv():
    P = Params()
    x, z, s = f32(2, 2, 6, 6), f32(2, 4), f32(2, 3, 7)
    X, Z, S = (a.astype(np.float64) for a in (x, z, s))
    h = np.tanh(conv2d(X, P.new("enc.conv0.weight", 3, 2, 3, 3), (2, 2), (1, 1)) + P.new("enc.conv0.bias", 3).reshape(3, 1, 1))
    h = batchnorm(P, "enc.batchnorm0", h)
    h = pool(h, (2, 2), (1, 1), "max")
    h = conv2d(h, P.new("enc.conv1.weight", 2, 3, 1, 2), (1, 1), (0, 0))
    h = pool(h, (1, 1), (1, 1), "avg")
    h = h.reshape(2, -1)
    enc = dense(P, "enc.dense0", h, 1)

    d = dense(P, "dec.dense0", Z, 8, bias=False)
    d = np.maximum(batchnorm(P, "dec.batchnorm0", d), 0).reshape(2, 2, 2, 2)
    d = conv_transpose2d(d, P.new("dec.conv_transpose0.weight", 2, 2, 3, 3), 2, 1, 1) + P.new("dec.conv_transpose0.bias", 2).reshape(2, 1, 1)
    dec = sigmoid(d)

    w1 = P.new("seq.conv1d0.weight", 4, 3, 3)
    q = conv2d(S[:, :, None, :], w1[:, :, None, :], (1, 2), (0, 1))[:, :, 0, :] + P.new("seq.conv1d0.bias", 4).reshape(4, 1)
    seq = np.maximum(q, 0).reshape(2, -1)
    e = {"o_enc": (enc ** 2).mean(), "o_dec": (dec * X[:, :, 1:5, 2:]).sum() / 10, "o_seq": seq.mean()}
    return dict(P), {"x": x, "z": z, "s": s}, e


def fx_lstm():
    P = Params()
    text = rng.integers(0, 7, (2, 6)).astype(np.int32)
    emb = P.new("lm.embedding0.weight", 7, 3)
    h = lstm(P, "lm.lstm0", emb[text[:, :-1]], 4, 2)
    logits = dense(P, "lm.dense0", h, 7)
    emb2 = P.new("last.embedding0.weight", 7, 3)
    last = lstm(P, "last.lstm0", emb2[text[:, 1:]], 4, 1, return_sequences=False)
    e = {"o_ce": cross_entropy(logits, text[:, 1:]).mean(), "o_last": last.sum()}
    return dict(P), {"text": text}, e


for name, make in [("fx-dense", fx_dense), ("fx-conv", fx_conv), ("fx-lstm", fx_lstm)]:
    weights, inputs, expected = make()
    write(os.path.join(HERE, name + ".weights.safetensors"), weights)
    write(os.path.join(HERE, name + ".inputs.safetensors"), inputs, {f"expected.{k}": repr(float(v)) for k, v in expected.items()})
    print(name, {k: round(float(v), 6) for k, v in expected.items()})
