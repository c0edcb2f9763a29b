"""bench_pytorch.py: a clae experiment's network and training step in PyTorch,
for scripts/bench-vs-pytorch.sh. A benchmark dependency only: clae never
imports it, builds with it or tests with it.

    python3 scripts/bench_pytorch.py [--config FILE.ini] [--set SECTION.KEY=VALUE]...
                                     [--data DIR] [--digits LIST] [--batch LIST]
                                     [--seconds S] [--threads T] [--gemm]
                                     [--train [--epochs N]] [--seed S]

Without --config: the seed experiment (configs/mnist-156.ini: MNIST digits
1, 5, 6, 784-500-300-2-300-500-784, tanh hidden layers, linear latent and
output, weights N(0, 0.1^2), biases 0, Adam lr 1e-4), as before. With
--config: the network, data and optimizer of that clae experiment file,
read with configparser over clae's defaults (docs/configuration.md):

  [data]  dir, format (idx only), classes or digits, train_limit
  [model] kind (ae, vae), encoder, latent, decoder, activation, output, init
  [train] epochs, batch_size, optimizer (adam, sgd, momentum), learning_rate,
          beta1, beta2, epsilon, weight_decay, loss (mse, bce), kl_weight, seed

Other sections ([device], [output]) are ignored; a [train] schedule, warmup,
noise or patience other than the default is refused (not implemented here).

The network. [model] encoder lists conv:F:K:S items first, then dense widths:
nn.Conv2d(C, F, K, S, padding=(K-1)//2) and the hidden activation per conv,
nn.Flatten, nn.Linear and the activation per width, then the linear latent
layer (2 x latent outputs for a vae: means, then log-variances). decoder =
mirror is the encoder's inverse: the widths reversed, then (when the encoder
has convs) a dense layer to the C*H*W of the last conv's map with the
activation, nn.Unflatten, and one nn.ConvTranspose2d per conv in reverse
order with the same K, S, padding and the output_padding that restores that
conv's input size, each with the activation but the last, which goes into
the data's channels with [model] output. An explicit decoder lists widths,
then deconv:F:K:S:OP items (F output channels, OP output padding): the last
width (or the latent layer) is reshaped to the encoder's last conv map, so
it must be that map's C*H*W (conv:16:3:2, conv:32:3:2's mirror written out:
1568, deconv:16:3:2:1, deconv:1:3:2:1), and the last deconv must give the
data's shape.
init = torch leaves PyTorch's default initialisation alone; normal:SD, xavier
and he draw every weight from a normal distribution with biases 0.

Two modes, one line per result on stdout after the network's layer list:
  timed (default): for each --batch size, --seconds of training steps:
      pytorch batch=B images_per_s=X gemm_gflops=G threads=T torch=V
    (G: the step's multiply-add work, forward, dW and dX, per second) and,
    with --gemm, the GFLOP/s of each dense product shape of the step alone.
  --train: [train] epochs (or --epochs) epochs, the test set evaluated after each:
      epoch=E train_loss=L test_loss=L seconds=S images_per_s=X
      pytorch train epochs=N seed=S batch=B train_loss=L test_loss=L seconds=S
              seconds_per_epoch=S median_epoch_seconds=S images_per_s=X threads=T torch=V
    train_loss is the mean of the epoch's step losses weighted by batch size
    (clae's loss.csv train_loss), test_loss the loss over the whole test set
    of the same classes (a vae: with z = the means); seconds include the test
    pass, images_per_s does not. The median epoch is the steadier figure on a
    busy machine (PyTorch's threads slow down badly when others want the cores)."""
import argparse
import configparser
import gzip
import math
import os
import sys
import time

import numpy as np
import torch
from torch import nn

# clae's defaults (docs/configuration.md) for every key this script reads.
DEFAULTS = {
    "data": {"dir": "data/mnist", "format": "idx", "classes": "all", "train_limit": "0"},
    "model": {"kind": "ae", "encoder": "500,300", "latent": "2", "decoder": "mirror",
              "activation": "tanh", "output": "linear", "init": "normal:0.1"},
    "train": {"epochs": "10", "batch_size": "50", "optimizer": "adam", "learning_rate": "1e-4",
              "beta1": "0.9", "beta2": "0.999", "epsilon": "1e-8", "momentum": "0.9",
              "weight_decay": "0", "loss": "mse", "kl_weight": "1", "seed": "1",
              "noise": "none", "schedule": "constant", "warmup": "0", "patience": "0"},
}
# configs/mnist-156.ini over the defaults: what runs without --config.
SEED_EXPERIMENT = {"data": {"classes": "1,5,6"}, "train": {"epochs": "40"}}
# Keys that change training and that this script does not implement: only their
# defaults are accepted.
UNSUPPORTED = {("train", "noise"): "none", ("train", "schedule"): "constant",
               ("train", "warmup"): "0", ("train", "patience"): "0"}
ACTIVATIONS = {"tanh": nn.Tanh, "relu": nn.ReLU, "sigmoid": nn.Sigmoid,
               "leaky_relu": lambda: nn.LeakyReLU(0.01)}  # clae's KERNELS_LEAKY_SLOPE


def die(msg):
    sys.exit(f"bench_pytorch: {msg}")


# ---- the experiment file ---------------------------------------------------------------

def read_config(path, sets):
    """The [data], [model] and [train] keys of clae experiment file `path` (None: the
    seed experiment) over clae's defaults, then each --set SECTION.KEY=VALUE, as a dict
    of dicts of strings (`digits` is stored as `classes`)."""
    cfg = {s: dict(kv) for s, kv in DEFAULTS.items()}
    if path is None:
        for s, kv in SEED_EXPERIMENT.items():
            cfg[s].update(kv)
    else:
        cp = configparser.ConfigParser(comment_prefixes=("#", ";"), inline_comment_prefixes=(";",),
                                       interpolation=None, empty_lines_in_values=False)
        try:
            with open(path, encoding="utf-8") as f:
                cp.read_file(f)
        except (OSError, configparser.Error) as e:
            die(f"{path}: {e}")
        for s in cp.sections():
            for k, v in cp.items(s):
                put(cfg, s, k, v, path)
    for item in sets:
        key, eq, v = item.partition("=")
        s, dot, k = key.strip().partition(".")
        if not eq or not dot:
            die(f"--set {item}: expected SECTION.KEY=VALUE (for example --set train.epochs=5)")
        put(cfg, s.strip(), k.strip(), v.strip(), f"--set {item}")
    for (s, k), default in UNSUPPORTED.items():
        if cfg[s][k].strip().lower() != default:
            die(f"[{s}] {k} = {cfg[s][k]}: not implemented here (only {default})")
    if cfg["data"]["format"].strip().lower() != "idx":
        die(f"[data] format = {cfg['data']['format']}: only idx is implemented here")
    return cfg


def put(cfg, s, k, v, where):
    if s not in cfg:  # [device], [output]: nothing to do with PyTorch
        return
    if s == "data" and k == "digits":
        k = "classes"
    if k not in cfg[s]:
        print(f"bench_pytorch: {where}: [{s}] {k} is ignored here", file=sys.stderr)
        return
    cfg[s][k] = v


def num(cfg, s, k, kind=float):
    try:
        return kind(cfg[s][k])
    except ValueError:
        die(f"[{s}] {k} = '{cfg[s][k]}': expected a number")


def word(cfg, s, k, accepted):
    v = cfg[s][k].strip().lower()
    if v not in accepted:
        die(f"[{s}] {k} = '{cfg[s][k]}': expected one of {', '.join(accepted)}")
    return v


def parse_layers(text, what, kinds):
    """[model] encoder or decoder text as a list of ("dense", N), ("conv", F, K, S) and
    ("deconv", F, K, S, OP); kinds names the item kinds allowed besides widths."""
    t = text.strip().lower()
    if t in ("", "none"):
        return []
    out = []
    for item in (i.strip() for i in t.split(",")):
        parts = item.split(":")
        want = {"conv": 4, "deconv": 5}.get(parts[0])
        try:
            if want is None and len(parts) == 1:
                out.append(("dense", int(parts[0])))
                continue
            if want is not None and parts[0] in kinds and len(parts) == want:
                out.append((parts[0], *(int(p) for p in parts[1:])))
                continue
        except ValueError:
            pass
        forms = ", ".join(["N"] + [{"conv": "conv:F:K:S", "deconv": "deconv:F:K:S:OP"}[k] for k in kinds])
        die(f"[model] {what}: item '{item}': expected {forms}")
    return out


# ---- data ---------------------------------------------------------------------------------

def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    magic = int.from_bytes(data[0:4], "big")
    ndim = magic & 0xFF
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def find(d, stem):
    for name in (stem + ".gz", stem):
        if os.path.exists(os.path.join(d, name)):
            return os.path.join(d, name)
    die(f"{d}: no {stem}(.gz)")


def load(d, prefix, classes, limit):
    """The images of `classes` (None: all) of one IDX set, pixels / 255, (N, 1, H, W)."""
    x = read_idx(find(d, f"{prefix}-images-idx3-ubyte"))
    y = read_idx(find(d, f"{prefix}-labels-idx1-ubyte"))
    if x.ndim != 3:
        die(f"{d}: {prefix} images: expected N x H x W, got {'x'.join(map(str, x.shape))}")
    if classes is not None:
        keep = np.isin(y, classes)
        x = x[keep]
        missing = sorted(set(classes) - set(np.unique(y[keep]).tolist()))
        if missing:
            die(f"{d}: no {prefix} images of class {missing}")
    if limit:
        x = x[:limit]
    return torch.from_numpy(x.astype(np.float32)[:, None] / 255.0)


# ---- the network --------------------------------------------------------------------------

class Reparam(nn.Module):
    """A vae's sampling layer: (N, 2K) means and log-variances in, z = mu +
    exp(lv/2) eps out while training, mu otherwise; keeps the batch's KL divergence
    from N(0, I), summed over the K values and averaged over the images, in .kl."""

    def __init__(self, k):
        super().__init__()
        self.k, self.kl = k, None

    def forward(self, h):
        mu, lv = h[:, :self.k], h[:, self.k:]
        self.kl = -0.5 * (1 + lv - mu * mu - lv.exp()).sum(1).mean()
        return mu + (0.5 * lv).exp() * torch.randn_like(mu) if self.training else mu

    def extra_repr(self):
        return f"latent={self.k}"


def conv_out(size, k, s):
    return (size + 2 * ((k - 1) // 2) - k) // s + 1


def deconv_out(size, k, s, op):
    return (size - 1) * s - 2 * ((k - 1) // 2) + k + op


def build(cfg, shape):
    """nn.Sequential of the [model] section for images of shape (C, H, W); returns it, a
    vae's Reparam (or None), and whether it takes (N, C, H, W) (else (N, C*H*W))."""
    C, H, W = shape
    act = ACTIVATIONS[word(cfg, "model", "activation", list(ACTIVATIONS))]
    out_act = {"linear": None, "sigmoid": nn.Sigmoid}[word(cfg, "model", "output", ["linear", "sigmoid"])]
    vae = word(cfg, "model", "kind", ["ae", "vae"]) == "vae"
    latent = num(cfg, "model", "latent", int)
    enc = parse_layers(cfg["model"]["encoder"], "encoder", ["conv"])
    convs = [l for l in enc if l[0] == "conv"]
    widths = [l[1] for l in enc if l[0] == "dense"]
    if enc[:len(convs)] != convs:
        die("[model] encoder: conv items come first, then the dense widths")
    layers, maps = [], [(C, H, W)]  # maps: the encoder's conv maps, input first
    for _, F, K, S in convs:
        c, h, w = maps[-1]
        if F < 1 or K < 1 or K % 2 == 0 or S < 1:
            die(f"[model] encoder: conv:{F}:{K}:{S}: needs F >= 1, an odd K and S >= 1")
        layers += [nn.Conv2d(c, F, K, S, padding=(K - 1) // 2), act()]
        maps.append((F, conv_out(h, K, S), conv_out(w, K, S)))
        if min(maps[-1][1:]) < 1:
            die(f"[model] encoder: conv:{F}:{K}:{S} leaves no pixels of a {h}x{w} map")
    width = C * H * W
    image_in = bool(convs)
    if image_in:
        layers.append(nn.Flatten())
        width = math.prod(maps[-1])
    for n in widths:
        layers += [nn.Linear(width, n), act()]
        width = n
    layers.append(nn.Linear(width, 2 * latent if vae else latent))
    reparam = Reparam(latent) if vae else None
    if reparam:
        layers.append(reparam)

    dtext = cfg["model"]["decoder"].strip().lower()
    if dtext == "mirror":
        # a conv encoder's mirror: the widths reversed, then a dense layer to its last map
        dwidths = widths[::-1] + ([math.prod(maps[-1])] if convs else [])
        deconvs = []
        for (_, F, K, S), (c, h, w), (_, ho, wo) in reversed(list(zip(convs, maps, maps[1:]))):
            ops = (h - deconv_out(ho, K, S, 0), w - deconv_out(wo, K, S, 0))
            deconvs.append(("deconv", c, K, S, ops))
    else:
        dec = parse_layers(dtext, "decoder", ["deconv"])
        dwidths = [l[1] for l in dec if l[0] == "dense"]
        deconvs = [l for l in dec if l[0] == "deconv"]
        if dec[:len(dwidths)] != [("dense", n) for n in dwidths]:
            die("[model] decoder: dense widths come first, then the deconv items")
        if deconvs and not convs:
            die("[model] decoder: deconv items need conv items in the encoder (they start "
                "from its last map)")
    width = latent
    for n in dwidths:
        layers += [nn.Linear(width, n), act()]
        width = n
    if deconvs:
        c, h, w = maps[-1]
        if width != c * h * w:
            die(f"[model] decoder: the layer before the first deconv has {width} outputs; it is "
                f"reshaped to the encoder's last map, {c}x{h}x{w}, so it needs {c * h * w}")
        layers.append(nn.Unflatten(1, (c, h, w)))
        for i, (_, F, K, S, op) in enumerate(deconvs):
            ops = op if isinstance(op, tuple) else (op, op)
            if K % 2 == 0 or max(ops) >= S:
                die(f"[model] decoder: deconv:{F}:{K}:{S}:{op}: needs an odd K and OP < S")
            layers.append(nn.ConvTranspose2d(c, F, K, S, padding=(K - 1) // 2, output_padding=ops))
            c, h, w = F, deconv_out(h, K, S, ops[0]), deconv_out(w, K, S, ops[1])
            last = i == len(deconvs) - 1
            if not last:
                layers.append(act())
            elif out_act:
                layers.append(out_act())
        if (c, h, w) != (C, H, W):
            die(f"[model] decoder ends at {c}x{h}x{w}, the data is {C}x{H}x{W}")
    else:
        layers.append(nn.Linear(width, C * H * W))
        if out_act:
            layers.append(out_act())
        if image_in:
            layers.append(nn.Unflatten(1, (C, H, W)))
    net = nn.Sequential(*layers)
    init(net, cfg["model"]["init"])
    return net, reparam, image_in


def init(net, text):
    """[model] init: torch leaves PyTorch's defaults; normal:SD, xavier, he: normal
    weights of that standard deviation (fans as torch.nn.init counts them), biases 0."""
    t = text.strip().lower()
    if t == "torch":
        return
    sd = None
    if t.startswith("normal:"):
        try:
            sd = float(t[7:])
        except ValueError:
            sd = -1.0
        if not 0 < sd <= 100:
            die(f"[model] init = '{text}': expected normal:SD with SD in (0, 100]")
    elif t not in ("xavier", "he"):
        die(f"[model] init = '{text}': expected normal:SD, xavier, he or torch")
    for m in net.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
            fan_in, fan_out = nn.init._calculate_fan_in_and_fan_out(m.weight)
            s = sd if sd is not None else math.sqrt(2.0 / (fan_in + fan_out) if t == "xavier" else 2.0 / fan_in)
            nn.init.normal_(m.weight, 0.0, s)
            nn.init.zeros_(m.bias)


def describe(net, x1):
    """Prints the layer list with each output shape and parameter count; returns the
    multiply-adds of one image's forward pass, per weighted layer, in order."""
    rows, macs = [], []

    def hook(m, inp, out):
        i, o = inp[0].shape[1:], out.shape[1:]
        p = sum(q.numel() for q in m.parameters())
        rows.append((m, "x".join(map(str, o)), p))
        if isinstance(m, nn.Linear):
            macs.append(m.in_features * m.out_features)
        elif isinstance(m, nn.Conv2d):
            macs.append(m.weight.numel() * o[1] * o[2])  # (F, C, K, K) per output pixel
        elif isinstance(m, nn.ConvTranspose2d):
            macs.append(m.weight.numel() * i[1] * i[2])  # (C, F, K, K) per input pixel

    hooks = [m.register_forward_hook(hook) for m in net]
    net.eval()
    with torch.no_grad():
        net(x1)
    net.train()
    for h in hooks:
        h.remove()
    print(f"network: input {'x'.join(map(str, x1.shape[1:]))}")
    w = max(len(repr(m)) for m, _, _ in rows)
    for n, (m, o, p) in enumerate(rows):
        print(f"  {n:2d} {repr(m):<{w}s} -> {o:<10s} {p if p else '':>9}")
    print(f"parameters: {sum(p.numel() for p in net.parameters())}", flush=True)
    return macs


# ---- training -----------------------------------------------------------------------------

class Step:
    """The loss of a batch and the optimizer of the [train] section."""

    def __init__(self, cfg, net, reparam, pixels):
        self.net, self.reparam, self.pixels = net, reparam, pixels
        self.kl_weight = num(cfg, "train", "kl_weight")
        loss = word(cfg, "train", "loss", ["mse", "bce"])
        if loss == "bce" and cfg["model"]["output"].strip().lower() != "sigmoid":
            die("[train] loss = bce needs [model] output = sigmoid")
        self.loss_fn = nn.MSELoss() if loss == "mse" else nn.BCELoss()
        lr, wd = num(cfg, "train", "learning_rate"), num(cfg, "train", "weight_decay")
        opt = word(cfg, "train", "optimizer", ["adam", "sgd", "momentum"])
        p = net.parameters()
        if opt == "adam":
            kw = dict(lr=lr, betas=(num(cfg, "train", "beta1"), num(cfg, "train", "beta2")),
                      eps=num(cfg, "train", "epsilon"))
            # clae's adam weight decay is decoupled: torch.optim.AdamW
            self.opt = torch.optim.AdamW(p, weight_decay=wd, **kw) if wd else torch.optim.Adam(p, **kw)
        else:
            m = num(cfg, "train", "momentum") if opt == "momentum" else 0.0
            self.opt = torch.optim.SGD(p, lr=lr, momentum=m, weight_decay=wd)

    def loss(self, xb):
        loss = self.loss_fn(self.net(xb), xb)
        if self.reparam is not None:
            loss = loss + self.kl_weight * self.reparam.kl / self.pixels
        return loss

    def __call__(self, xb):
        self.opt.zero_grad(set_to_none=True)
        loss = self.loss(xb)
        loss.backward()
        self.opt.step()
        return loss.detach()


def test_loss(step, x, chunk=1000):
    step.net.eval()
    total = 0.0
    with torch.no_grad():
        for s in range(0, x.shape[0], chunk):
            xb = x[s:s + chunk]
            total += step.loss(xb).item() * xb.shape[0]
    step.net.train()
    return total / x.shape[0]


def train(step, x, xt, B, epochs, seed):
    n, t_all, ips_all, each = x.shape[0], 0.0, 0.0, []
    for e in range(1, epochs + 1):
        t0 = time.perf_counter()
        perm, total = torch.randperm(n), torch.zeros(())
        for s in range(0, n, B):
            xb = x[perm[s:s + B]]
            total += step(xb) * xb.shape[0]
        t_train = time.perf_counter() - t0
        tl = test_loss(step, xt)
        secs = time.perf_counter() - t0
        t_all += secs
        each.append(secs)
        ips_all += n / t_train
        print(f"epoch={e} train_loss={total.item() / n:.6f} test_loss={tl:.6f} seconds={secs:.2f} "
              f"images_per_s={n / t_train:.0f}", flush=True)
    print(f"pytorch train epochs={epochs} seed={seed} batch={B} train_loss={total.item() / n:.6f} "
          f"test_loss={tl:.6f} seconds={t_all:.1f} seconds_per_epoch={t_all / epochs:.2f} "
          f"median_epoch_seconds={sorted(each)[(epochs - 1) // 2]:.2f} images_per_s={ips_all / epochs:.0f} threads={torch.get_num_threads()} "
          f"torch={torch.__version__}", flush=True)


def timed(step, x, B, seconds):
    n, pos, perm = x.shape[0], 0, None

    def steps(count):
        nonlocal pos, perm
        images = 0
        for _ in range(count):
            s = pos % ((n + B - 1) // B)
            if s == 0:
                perm = torch.randperm(n)
            xb = x[perm[s * B:(s + 1) * B]]
            step(xb)
            images += xb.shape[0]
            pos += 1
        return images

    steps(20)  # warm-up
    images, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        images += steps(20)
    return images / (time.perf_counter() - t0)


def gemm_shapes(net, B):
    """Each dense layer's products in a step: ("fwd", M, N, K), ("dW", ...), ("dX", ...)."""
    lins = [m for m in net if isinstance(m, nn.Linear)]
    for m in lins:
        i, o = m.in_features, m.out_features
        first = m is net[0]
        yield i, o, [("fwd", B, o, i), ("dW", i, o, B)] + ([] if first else [("dX", B, i, o)])


def time_gemms(net, B):
    for i, o, shapes in gemm_shapes(net, B):
        for name, M, N, K in shapes:
            if min(M, N, K) <= 2:
                continue
            A, Bm = torch.randn(M, K), torch.randn(K, N)
            for _ in range(5):
                torch.mm(A, Bm)
            reps, t0 = 0, time.perf_counter()
            while time.perf_counter() - t0 < 0.3:
                torch.mm(A, Bm)
                reps += 1
            g = 2.0 * M * N * K * reps / (time.perf_counter() - t0) * 1e-9
            print(f"pytorch gemm batch={B} {name} {i}->{o} M={M} N={N} K={K} gflops={g:.1f}", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", help="clae experiment file (default: the seed experiment)")
    ap.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                    help="override one key after the file, as clae's --set; repeatable")
    ap.add_argument("--data", help="IDX folder (default: [data] dir)")
    ap.add_argument("--digits", help="classes kept, such as 1,5,6 or all (default: [data] classes)")
    ap.add_argument("--batch", help="batch sizes, timed mode (default: 50,256 without --config, "
                    "else [train] batch_size); one size with --train (default [train] batch_size)")
    ap.add_argument("--seconds", type=float, default=10.0, help="timed seconds per batch size (10)")
    ap.add_argument("--threads", type=int, default=os.cpu_count(), help="torch threads (all cores)")
    ap.add_argument("--gemm", action="store_true", help="timed mode: also time each dense product shape alone")
    ap.add_argument("--train", action="store_true", help="train for --epochs and report the losses")
    ap.add_argument("--epochs", type=int, help="--train: epochs (default [train] epochs)")
    ap.add_argument("--seed", type=int, help="torch.manual_seed (default [train] seed)")
    a = ap.parse_args()
    cfg = read_config(a.config, a.set)
    if a.data:
        cfg["data"]["dir"] = a.data
    if a.digits:
        cfg["data"]["classes"] = a.digits
    torch.set_num_threads(a.threads)
    seed = a.seed if a.seed is not None else num(cfg, "train", "seed", int)
    torch.manual_seed(seed)

    d, ctext = cfg["data"]["dir"], cfg["data"]["classes"].strip().lower()
    try:
        classes = None if ctext == "all" else [int(c) for c in ctext.split(",")]
    except ValueError:
        die(f"[data] classes = '{cfg['data']['classes']}': expected all or a comma list of labels")
    x = load(d, "train", classes, num(cfg, "data", "train_limit", int))
    shape = tuple(x.shape[1:])
    print(f"data: {d}, classes {ctext.replace(' ', '')}, {x.shape[0]} training images of {'x'.join(map(str, shape))}; "
          f"threads {torch.get_num_threads()}, torch {torch.__version__}, seed {seed}", flush=True)

    net, reparam, image_in = build(cfg, shape)
    if not image_in:
        x = x.reshape(x.shape[0], -1)
    macs = describe(net, x[:2])
    # forward, dW, and dX of every weighted layer but the first
    flops_per_image = sum(2 * m * (2 if l == 0 else 3) for l, m in enumerate(macs))
    pixels = math.prod(shape)

    if a.train:
        xt = load(d, "t10k", classes, 0)
        if not image_in:
            xt = xt.reshape(xt.shape[0], -1)
        B = int(a.batch) if a.batch else num(cfg, "train", "batch_size", int)
        epochs = a.epochs if a.epochs is not None else num(cfg, "train", "epochs", int)
        print(f"train: {x.shape[0]} training, {xt.shape[0]} test images, batch {B}, {epochs} epochs, "
              f"{cfg['train']['optimizer']} lr {cfg['train']['learning_rate']}, init {cfg['model']['init']}",
              flush=True)
        train(Step(cfg, net, reparam, pixels), x, xt, B, epochs, seed)
        return

    batches = a.batch or (cfg["train"]["batch_size"] if a.config else "50,256")
    for n, B in enumerate(int(b) for b in batches.split(",")):
        if n:  # a fresh network per batch size, initialised from the generator as it is
            net, reparam, _ = build(cfg, shape)
        ips = timed(Step(cfg, net, reparam, pixels), x, B, a.seconds)
        print(f"pytorch batch={B} images_per_s={ips:.0f} gemm_gflops={ips * flops_per_image * 1e-9:.2f} "
              f"threads={torch.get_num_threads()} torch={torch.__version__}", flush=True)
        if a.gemm:
            time_gemms(net, B)


if __name__ == "__main__":
    main()
