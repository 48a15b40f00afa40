#!/usr/bin/env python3
"""Fashion-MNIST "FID": sample quality of genc's GANs beside the PyTorch reference.

The score is the Frechet distance between Gaussians fitted to the 128-d
penultimate features of a small Fashion-MNIST classifier (trained here on the
train split, held out from every GAN's evaluation) on 10,000 generated images
and on the 10,000 test images:

    FID = |mu1 - mu2|^2 + Tr(S1 + S2 - 2 (S1 S2)^(1/2))

Tr((S1 S2)^(1/2)) is computed without scipy as the sum of the square roots of
the eigenvalues of the symmetric PSD matrix S1^(1/2) S2 S1^(1/2) (S1^(1/2)
from numpy.linalg.eigh); it has the same eigenvalues as S1 S2. Features and
statistics are in float64.

What it does (everything cached in --out, so a re-run does not retrain):
  1. trains (or loads --out/classifier.pt) the classifier: conv32 3x3 - ReLU -
     maxpool2 - conv64 3x3 - ReLU - maxpool2 - dense128 - ReLU - dense10, inputs
     in [-1, 1], 3 epochs, Adam 1e-3, batch 128, seed 0; prints test accuracy.
     Features = the 128 ReLU activations before the last layer.
  2. feature mean/covariance of the 10,000 test images.
  3. floor: FID of 10,000 random train images against the test set.
  4. for each --torch-train model (dcgan, mlp-gan): trains the PyTorch
     reference (the architectures of shared/anchors/reference_models.py,
     torch_models()), on real Fashion-MNIST: batch 64, 5 epochs, fresh shuffle
     per epoch, last partial batch dropped (937 steps/epoch), z ~ N(0,1) dim 100
     drawn once per step and used for both updates; D update on real and
     G(z).detach() (BCE with logits, targets 1/0), then the non-saturating G
     update through the updated D on the same fake; Adam lr 2e-4, betas
     (0.5, 0.999) for both. Samples 10,000 images in eval mode (BatchNorm
     running statistics). Saves --out/torch-<model>-G.pt,
     --out/torch-<model>-samples.npy and --out/torch-<model>-meta.json.
  5. for each --genc-samples NAME=FILE: reads the safetensors tensor "samples"
     (F32 [N, 1, 28, 28] or [N, 784], range given by metadata "range",
     default -1,1) and scores it.
  6. prints a table and writes --out/fid.json.

Usage:
  python bench/fid_fashion.py \
      --genc-samples dcgan=/tmp/fid/genc-dcgan-samples/samples.safetensors \
      --genc-samples mlp-gan=/tmp/fid/genc-mlp-gan-samples/samples.safetensors \
      --torch-train dcgan,mlp-gan --threads 2 --out /tmp/fid

  where the genc samples come from
  genc run models/dcgan.yaml --sample-only --weights CKPT --count 10000 --out DIR

Other flags: --data DIR (Fashion-MNIST IDX .gz files, default
/usr/share/datasets/fashion-mnist), --epochs N (GAN epochs, default 5),
--seed N (GAN seed, default 1), --retrain (ignore cached GANs/classifier).
"""
import argparse
import gzip
import json
import os
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

N_EVAL = 10000


# ----------------------------------------------------------------- data

def read_idx(path):
    with gzip.open(path, "rb") as f:
        b = f.read()
    magic = struct.unpack(">I", b[:4])[0]
    ndim = magic & 0xFF
    dims = struct.unpack(">" + "I" * ndim, b[4:4 + 4 * ndim])
    return np.frombuffer(b, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_fashion(d):
    def imgs(name):  # uint8 -> float32 [-1, 1], NCHW
        a = read_idx(os.path.join(d, name)).astype(np.float32)
        return (a / 127.5 - 1.0).reshape(-1, 1, 28, 28)

    return (imgs("train-images-idx3-ubyte.gz"),
            read_idx(os.path.join(d, "train-labels-idx1-ubyte.gz")).astype(np.int64),
            imgs("t10k-images-idx3-ubyte.gz"),
            read_idx(os.path.join(d, "t10k-labels-idx1-ubyte.gz")).astype(np.int64))


def read_safetensors(path, name="samples"):
    with open(path, "rb") as f:
        b = f.read()
    n = struct.unpack("<Q", b[:8])[0]
    h = json.loads(b[8:8 + n])
    t = h[name]
    assert t["dtype"] == "F32", t["dtype"]
    lo, hi = t["data_offsets"]
    a = np.frombuffer(b[8 + n + lo:8 + n + hi], "<f4").reshape(t["shape"]).astype(np.float32)
    rng = h.get("__metadata__", {}).get("range", "-1,1")
    rlo, rhi = (float(v) for v in rng.split(","))
    a = (a - rlo) / (rhi - rlo) * 2.0 - 1.0  # to [-1, 1]
    return a.reshape(-1, 1, 28, 28)


# ----------------------------------------------------------------- classifier

class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 32, 3, padding=1)
        self.c2 = nn.Conv2d(32, 64, 3, padding=1)
        self.fc1 = nn.Linear(64 * 7 * 7, 128)
        self.fc2 = nn.Linear(128, 10)

    def features(self, x):
        h = F.max_pool2d(F.relu(self.c1(x)), 2)
        h = F.max_pool2d(F.relu(self.c2(h)), 2)
        return F.relu(self.fc1(h.flatten(1)))

    def forward(self, x):
        return self.fc2(self.features(x))


def get_classifier(xtr, ytr, xte, yte, out, retrain):
    path = os.path.join(out, "classifier.pt")
    m = Classifier()
    info = {}
    if os.path.exists(path) and not retrain:
        ck = torch.load(path)
        m.load_state_dict(ck["state"])
        info = ck["info"]
        print(f"classifier: loaded {path}")
    else:
        torch.manual_seed(0)
        m = Classifier()
        opt = torch.optim.Adam(m.parameters(), lr=1e-3)
        X, Y = torch.from_numpy(xtr), torch.from_numpy(ytr)
        g = torch.Generator().manual_seed(0)
        t0 = time.time()
        for ep in range(3):
            m.train()
            perm = torch.randperm(len(X), generator=g)
            tot, n = 0.0, 0
            for i in range(0, len(X), 128):
                idx = perm[i:i + 128]
                loss = F.cross_entropy(m(X[idx]), Y[idx])
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                tot += loss.item() * len(idx)
                n += len(idx)
            print(f"classifier epoch {ep + 1}/3: train loss {tot / n:.4f} ({time.time() - t0:.0f} s)",
                  flush=True)
        info["train_s"] = time.time() - t0
    m.eval()
    logits = batched(m, xte)
    info["test_acc"] = float((logits.argmax(1) == yte).mean())
    if not (os.path.exists(path) and not retrain):
        torch.save({"state": m.state_dict(), "info": info}, path)
    print(f"classifier test accuracy: {100 * info['test_acc']:.2f}%"
          + (f" (trained in {info['train_s']:.0f} s)" if "train_s" in info else ""), flush=True)
    return m, info


def batched(fn, x, bs=1000):
    outs = []
    with torch.inference_mode():
        for i in range(0, len(x), bs):
            outs.append(fn(torch.from_numpy(np.ascontiguousarray(x[i:i + bs]))).numpy())
    return np.concatenate(outs)


# ----------------------------------------------------------------- Frechet distance

def stats(feats):
    f = feats.astype(np.float64)
    return f.mean(0), np.cov(f, rowvar=False)


def sqrt_psd(s):
    w, v = np.linalg.eigh(s)
    return (v * np.sqrt(np.clip(w, 0, None))) @ v.T


def frechet(s1, s2):
    (m1, c1), (m2, c2) = s1, s2
    r1 = sqrt_psd(c1)
    w = np.linalg.eigvalsh(r1 @ c2 @ r1)
    tr_covmean = np.sqrt(np.clip(w, 0, None)).sum()
    return float(((m1 - m2) ** 2).sum() + np.trace(c1) + np.trace(c2) - 2 * tr_covmean)


def score(clf, x, ref):
    x = np.clip(x, -1, 1).astype(np.float32)
    feats = batched(clf.features, x)
    preds = batched(clf, x).argmax(1)
    hist = np.bincount(preds, minlength=10).tolist()
    return frechet(stats(feats), ref), hist


# ----------------------------------------------------------------- PyTorch reference GANs

MLP_G = [100, 256, 512, 1024, 784]
MLP_D = [784, 512, 256, 1]


def mlp(dims, last):
    layers = []
    for i, (a, b) in enumerate(zip(dims[:-1], dims[1:])):
        layers.append(nn.Linear(a, b))
        layers.append(nn.LeakyReLU(0.2) if i < len(dims) - 2 else last)
    return nn.Sequential(*[l for l in layers if l is not None])


def make_gan(name):
    """Same modules as shared/anchors/reference_models.py torch_models()."""
    if name == "mlp-gan":
        return mlp(MLP_G, nn.Tanh()), mlp(MLP_D, None), True
    if name == "dcgan":
        G = nn.Sequential(nn.Linear(100, 6272, bias=False), nn.BatchNorm1d(6272), nn.ReLU(),
                          nn.Unflatten(1, (128, 7, 7)),
                          nn.ConvTranspose2d(128, 64, 4, 2, 1, bias=False), nn.BatchNorm2d(64),
                          nn.ReLU(), nn.ConvTranspose2d(64, 1, 4, 2, 1), nn.Tanh())
        D = nn.Sequential(nn.Conv2d(1, 64, 4, 2, 1), nn.LeakyReLU(0.2),
                          nn.Conv2d(64, 128, 4, 2, 1, bias=False), nn.BatchNorm2d(128),
                          nn.LeakyReLU(0.2), nn.Flatten(), nn.Linear(6272, 1))
        return G, D, False
    raise SystemExit(f"unknown model {name!r} (dcgan, mlp-gan)")


def adam(params):
    try:
        return torch.optim.Adam(params, lr=2e-4, betas=(0.5, 0.999), fused=True)
    except Exception:
        return torch.optim.Adam(params, lr=2e-4, betas=(0.5, 0.999))


def train_torch_gan(name, xtr, epochs, seed, out, retrain):
    gpath = os.path.join(out, f"torch-{name}-G.pt")
    spath = os.path.join(out, f"torch-{name}-samples.npy")
    mpath = os.path.join(out, f"torch-{name}-meta.json")
    if all(os.path.exists(p) for p in (gpath, spath, mpath)) and not retrain:
        print(f"torch {name}: loaded {spath}", flush=True)
        return np.load(spath), json.load(open(mpath))
    torch.manual_seed(seed)
    G, D, flat = make_gan(name)
    oG, oD = adam(G.parameters()), adam(D.parameters())
    bce = nn.BCEWithLogitsLoss()
    B = 64
    X = torch.from_numpy(xtr.reshape(len(xtr), -1) if flat else xtr)
    ones, zeros = torch.ones(B), torch.zeros(B)
    g = torch.Generator().manual_seed(seed)
    steps_per_epoch = len(X) // B  # drop the last partial batch: 937
    G.train()
    D.train()
    t0 = time.time()
    step = 0
    for ep in range(epochs):
        perm = torch.randperm(len(X), generator=g)
        sd = sg = 0.0
        for i in range(steps_per_epoch):
            real = X[perm[i * B:(i + 1) * B]]
            z = torch.randn(B, 100)
            fake = G(z)
            oD.zero_grad(set_to_none=True)
            errD = bce(D(real).view(-1), ones) + bce(D(fake.detach()).view(-1), zeros)
            errD.backward()
            oD.step()
            oG.zero_grad(set_to_none=True)
            errG = bce(D(fake).view(-1), ones)
            errG.backward()
            oG.step()
            step += 1
            sd += errD.item()
            sg += errG.item()
            if step % 500 == 0:
                print(f"torch {name} step {step}/{epochs * steps_per_epoch} epoch {ep + 1}: "
                      f"d_loss {errD.item():.4f} g_loss {errG.item():.4f} "
                      f"({time.time() - t0:.0f} s)", flush=True)
        print(f"torch {name} epoch {ep + 1}/{epochs}: mean d_loss {sd / steps_per_epoch:.4f} "
              f"g_loss {sg / steps_per_epoch:.4f} ({time.time() - t0:.0f} s)", flush=True)
    train_s = time.time() - t0
    G.eval()
    zg = torch.Generator().manual_seed(seed + 1000)
    z = torch.randn(N_EVAL, 100, generator=zg).numpy()
    samples = batched(G, z, bs=500).reshape(N_EVAL, 1, 28, 28).astype(np.float32)
    meta = {"train_s": train_s, "steps": step, "epochs": epochs, "seed": seed,
            "final_d_loss": errD.item(), "final_g_loss": errG.item(),
            "torch": torch.__version__, "threads": torch.get_num_threads()}
    torch.save(G.state_dict(), gpath)
    np.save(spath, samples)
    json.dump(meta, open(mpath, "w"), indent=1)
    print(f"torch {name}: trained {step} steps in {train_s:.0f} s", flush=True)
    return samples, meta


# ----------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--genc-samples", action="append", default=[], metavar="NAME=FILE")
    ap.add_argument("--torch-train", default="", metavar="M1,M2")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default="/tmp/fid")
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--retrain", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    os.makedirs(a.out, exist_ok=True)

    xtr, ytr, xte, yte = load_fashion(a.data)
    print(f"data: train {xtr.shape}, test {xte.shape}, range [{xtr.min()}, {xtr.max()}]", flush=True)
    clf, cinfo = get_classifier(xtr, ytr, xte, yte, a.out, a.retrain)
    ref = stats(batched(clf.features, xte))

    rows = []
    idx = np.random.default_rng(0).choice(len(xtr), N_EVAL, replace=False)
    fid, hist = score(clf, xtr[idx], ref)
    rows.append({"model": "(data)", "source": "train 10k vs test", "fid": fid,
                 "train_s": None, "class_hist": hist})
    print(f"floor (10k train images vs test): FID {fid:.3f}", flush=True)

    for name in [m for m in a.torch_train.split(",") if m]:
        samples, meta = train_torch_gan(name, xtr, a.epochs, a.seed, a.out, a.retrain)
        fid, hist = score(clf, samples, ref)
        rows.append({"model": name, "source": "torch", "fid": fid, "train_s": meta["train_s"],
                     "class_hist": hist})
        print(f"torch {name}: FID {fid:.3f}", flush=True)

    for spec in a.genc_samples:
        name, path = spec.split("=", 1)
        samples = read_safetensors(path)
        fid, hist = score(clf, samples[:N_EVAL], ref)
        rows.append({"model": name, "source": "genc", "fid": fid, "train_s": None,
                     "class_hist": hist, "file": path, "n": int(min(len(samples), N_EVAL))})
        print(f"genc {name}: FID {fid:.3f}", flush=True)

    print()
    print(f"{'model':<10} {'source':<20} {'FID':>9} {'train time':>11}  predicted classes (0..9)")
    for r in rows:
        t = f"{r['train_s']:.0f} s" if r["train_s"] is not None else "-"
        print(f"{r['model']:<10} {r['source']:<20} {r['fid']:9.3f} {t:>11}  {r['class_hist']}")
    res = {"classifier": cinfo, "n_eval": N_EVAL, "threads": a.threads,
           "torch": torch.__version__, "rows": rows}
    with open(os.path.join(a.out, "fid.json"), "w") as f:
        json.dump(res, f, indent=1)
    print(f"\nwrote {os.path.join(a.out, 'fid.json')}")


if __name__ == "__main__":
    sys.exit(main())
