"""bench_pytorch.py: the seed experiment's training step in PyTorch, for
scripts/bench-vs-pytorch.sh. A benchmark dependency only: clae never imports it.

Same network (784-500-300-2-300-500-784, tanh hidden layers, linear latent and
output, weights N(0, 0.1^2), biases 0), same loss (mean squared error per
pixel), same optimizer (Adam, lr 1e-4), same data (the MNIST training images of
the chosen digits, pixels / 255) and the same per-epoch shuffle-and-slice
batching as clae. Prints one line per batch size:
    pytorch batch=B images_per_s=X gemm_gflops=G threads=T
and, with --gemm, the GFLOP/s of each product shape of the step."""
import argparse
import gzip
import os
import time

import numpy as np
import torch


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
    raise SystemExit(f"bench_pytorch: {d}: no {stem}(.gz)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--digits", default="1,5,6")
    ap.add_argument("--batch", default="50,256")
    ap.add_argument("--seconds", type=float, default=10.0, help="timed seconds per batch size")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--gemm", action="store_true", help="also time each product shape alone")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    x = read_idx(find(a.data, "train-images-idx3-ubyte"))
    y = read_idx(find(a.data, "train-labels-idx1-ubyte"))
    keep = np.isin(y, [int(d) for d in a.digits.split(",")])
    x = torch.from_numpy(x[keep].reshape(-1, 784).astype(np.float32) / 255.0)
    n = x.shape[0]
    dims = [784, 500, 300, 2, 300, 500, 784]
    flops_per_image = sum(2 * i * o * (2 if l == 0 else 3) for l, (i, o) in enumerate(zip(dims, dims[1:])))
    for B in [int(b) for b in a.batch.split(",")]:
        layers = []
        for l, (i, o) in enumerate(zip(dims, dims[1:])):
            lin = torch.nn.Linear(i, o)
            torch.nn.init.normal_(lin.weight, 0.0, 0.1)
            torch.nn.init.zeros_(lin.bias)
            layers.append(lin)
            if l + 1 not in (3, len(dims) - 1):  # latent and output are linear
                layers.append(torch.nn.Tanh())
        net = torch.nn.Sequential(*layers)
        opt = torch.optim.Adam(net.parameters(), lr=1e-4)
        loss_fn = torch.nn.MSELoss()

        def steps(count, pos):
            images = 0
            for _ in range(count):
                s = pos % ((n + B - 1) // B)
                if s == 0:
                    steps.perm = torch.randperm(n)
                xb = x[steps.perm[s * B:(s + 1) * B]]
                opt.zero_grad(set_to_none=True)
                loss = loss_fn(net(xb), xb)
                loss.backward()
                opt.step()
                images += xb.shape[0]
                pos += 1
            return images, pos

        _, pos = steps(20, 0)  # warm-up
        images, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < a.seconds:
            done, pos = steps(20, pos)
            images += done
        secs = time.perf_counter() - t0
        ips = images / secs
        print(f"pytorch batch={B} images_per_s={ips:.0f} gemm_gflops={ips * flops_per_image * 1e-9:.2f} "
              f"threads={torch.get_num_threads()} torch={torch.__version__}", flush=True)
        if a.gemm:
            for l, (i, o) in enumerate(zip(dims, dims[1:])):
                shapes = [("fwd", B, o, i), ("dW", i, o, B)] + ([("dX", B, i, o)] if l > 0 else [])
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


if __name__ == "__main__":
    main()
