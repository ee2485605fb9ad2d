#!/usr/bin/python3
"""Train a CIFAR-style ResNet on Fashion-MNIST with PyTorch and export it to ONNX for `pann import` (issue 13).

Needs Debian's python3-torch (and python3-onnx to check the export); pann's tests and CI do not: the trained models
are committed. Run from the repository root, e.g.

    /usr/bin/python3 tools/train/resnet.py --depth 8 --epochs 6 --seed 1 --out models/fashion-resnet8

Writes <out>.onnx and <out>.train.json (the command, seed, recipe, per-epoch loss and accuracy, the final test
accuracy, the torch version). Then `pann import <out>.onnx --out <out>.json` gives the pann model and
`pann eval <out>.json --dataset fashion-mnist-full` reproduces the test accuracy.

Data: the official Fashion-MNIST files (Debian's dataset-fashion-mnist, /usr/share/datasets/fashion-mnist, or
--data-dir), pixel values scaled to 0-1 exactly as pann reads them (no mean/std normalisation, so pann's inputs need
no preprocessing layer). Training uses the 60,000 training images; the accuracy reported is on the official 10,000
test images (pann's `--dataset fashion-mnist-full --split test`). No model selection on the test set: the last
epoch is kept.

The network (He et al. 2016, the CIFAR variant): a 3x3 stem, three stages of n basic blocks (depth = 6n + 2, so
ResNet-8 is n = 1 and ResNet-20 is n = 3), widths 16/32/64 by default, the second and third stages starting with a
stride-2 block whose shortcut is a strided 1x1 convolution with BatchNorm, a global average pool and a linear layer.
"""
import argparse
import gzip
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

DEBIAN_DIR = '/usr/share/datasets/fashion-mnist'
DATA_NOTE = 'Fashion-MNIST official 60,000 train (random crop ±2, horizontal flip) / 10,000 test, values 0-1'


def read_idx(path):
    """An IDX file (gzip or raw) as a numpy array."""
    opener = gzip.open if path.endswith('.gz') else open
    with opener(path, 'rb') as f:
        data = f.read()
    if data[0] != 0 or data[1] != 0 or data[2] != 8:
        raise SystemExit(f'{path}: not an IDX file of unsigned bytes')
    rank = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], 'big') for i in range(rank)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * rank).reshape(dims)


def load(data_dir, part):
    stem = 'train' if part == 'train' else 't10k'
    find = lambda name: next((p for p in (os.path.join(data_dir, name + '.gz'), os.path.join(data_dir, name))
                              if os.path.exists(p)), None)
    images, labels = find(f'{stem}-images-idx3-ubyte'), find(f'{stem}-labels-idx1-ubyte')
    if not images or not labels:
        raise SystemExit(f'{data_dir}: the Fashion-MNIST {stem} files are missing (apt install dataset-fashion-mnist)')
    x = torch.tensor(read_idx(images), dtype=torch.float32).unsqueeze(1) / 255
    y = torch.tensor(read_idx(labels), dtype=torch.int64)
    return x, y


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.short = nn.Sequential()
        if stride != 1 or cin != cout:
            self.short = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.short(x))


class ResNet(nn.Module):
    def __init__(self, depth, widths):
        super().__init__()
        if (depth - 2) % 6:
            raise SystemExit(f'--depth {depth}: a CIFAR-style ResNet has depth 6n + 2 (8, 14, 20, 32, …)')
        n = (depth - 2) // 6
        self.stem = nn.Sequential(nn.Conv2d(1, widths[0], 3, 1, 1, bias=False), nn.BatchNorm2d(widths[0]), nn.ReLU())
        blocks, cin = [], widths[0]
        for stage, w in enumerate(widths):
            for b in range(n):
                blocks.append(BasicBlock(cin, w, 2 if stage > 0 and b == 0 else 1))
                cin = w
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(cin, 10)

    def forward(self, x):
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(self.blocks(self.stem(x)), 1), 1))


def augment(x, gen):
    """Random crops (2-pixel zero padding) and horizontal flips, seeded."""
    n = x.shape[0]
    padded = F.pad(x, (2, 2, 2, 2))
    dx = torch.randint(0, 5, (n,), generator=gen)
    dy = torch.randint(0, 5, (n,), generator=gen)
    out = torch.stack([padded[i, :, dy[i]:dy[i] + 28, dx[i]:dx[i] + 28] for i in range(n)])
    flip = torch.rand(n, generator=gen) < 0.5
    out[flip] = out[flip].flip(3)
    return out


def train_epoch(model, opt, sched, x, y, batch, gen):
    """One seeded pass over (x, y) in shuffled batches with augmentation; returns the summed loss."""
    model.train()
    order = torch.randperm(len(x), generator=gen)
    total = 0.0
    for i in range(0, len(x), batch):
        idx = order[i:i + batch]
        loss = F.cross_entropy(model(augment(x[idx], gen)), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        total += loss.item() * len(idx)
    return total


def write_record(path, record):
    """A training record as indented JSON, written atomically."""
    with open(path + '.tmp', 'w') as f:
        json.dump(record, f, indent=2)
        f.write('\n')
    os.replace(path + '.tmp', path)


def accuracy(model, x, y, batch=1000):
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(x), batch):
            correct += (model(x[i:i + batch]).argmax(1) == y[i:i + batch]).sum().item()
    return correct / len(x)


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--depth', type=int, default=20, help='6n + 2: 8 (ResNet-8), 20 (ResNet-20), …')
    p.add_argument('--widths', default='16,32,64', help='channels of the three stages')
    p.add_argument('--epochs', type=int, default=30)
    p.add_argument('--batch', type=int, default=128)
    p.add_argument('--lr', type=float, default=0.1, help='SGD with momentum 0.9, cosine schedule')
    p.add_argument('--weight-decay', type=float, default=5e-4)
    p.add_argument('--seed', type=int, default=1)
    p.add_argument('--threads', type=int, default=os.cpu_count())
    p.add_argument('--data-dir', default=DEBIAN_DIR)
    p.add_argument('--limit', type=int, default=0, help='train on the first n training images only (tests)')
    p.add_argument('--test-limit', type=int, default=0, help='report the accuracy on the first n test images only (tests)')
    p.add_argument('--out', required=True, help='path without extension: writes <out>.onnx and <out>.train.json')
    a = p.parse_args()
    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    gen = torch.Generator().manual_seed(a.seed)
    widths = [int(w) for w in a.widths.split(',')]
    xtr, ytr = load(a.data_dir, 'train')
    xte, yte = load(a.data_dir, 'test')
    if a.limit:
        xtr, ytr = xtr[:a.limit], ytr[:a.limit]
    if a.test_limit:
        xte, yte = xte[:a.test_limit], yte[:a.test_limit]
    model = ResNet(a.depth, widths)
    opt = torch.optim.SGD(model.parameters(), lr=a.lr, momentum=0.9, weight_decay=a.weight_decay, nesterov=True)
    steps = a.epochs * ((len(xtr) + a.batch - 1) // a.batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=a.lr, total_steps=steps, pct_start=0.15)
    history = []
    t0 = time.time()
    for epoch in range(a.epochs):
        total = train_epoch(model, opt, sched, xtr, ytr, a.batch, gen)
        acc = accuracy(model, xte, yte)
        history.append({'epoch': epoch + 1, 'loss': total / len(xtr), 'testAccuracy': acc, 'seconds': time.time() - t0})
        print(f'epoch {epoch + 1}/{a.epochs}: loss {total / len(xtr):.4f}, test {100 * acc:.2f}% ({time.time() - t0:.0f} s)',
              file=sys.stderr, flush=True)
    model.eval()
    torch.onnx.export(model, torch.zeros(1, 1, 28, 28), a.out + '.onnx', opset_version=13, input_names=['input'],
                      output_names=['output'], dynamic_axes={'input': {0: 'batch'}, 'output': {0: 'batch'}})
    record = {
        'command': ' '.join(['/usr/bin/python3', 'tools/train/resnet.py'] + sys.argv[1:]),
        'torch': torch.__version__,
        'network': f'ResNet-{a.depth}', 'widths': widths, 'epochs': a.epochs, 'batch': a.batch, 'lr': a.lr,
        'weightDecay': a.weight_decay, 'seed': a.seed, 'threads': a.threads,
        'data': DATA_NOTE,
        'testAccuracy': history[-1]['testAccuracy'], 'history': history,
    }
    write_record(a.out + '.train.json', record)
    print(f'wrote {a.out}.onnx and {a.out}.train.json: test accuracy {100 * history[-1]["testAccuracy"]:.2f}%', file=sys.stderr)


if __name__ == '__main__':
    main()
