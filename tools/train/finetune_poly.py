#!/usr/bin/python3
"""Polynomial-aware fine-tuning of a pann residual network in PyTorch (issue 13): every ReLU replaced by pann's own
stand-in, the weights trained so the network adapts to the approximation error, written back as a pann model.

Needs Debian's python3-torch; pann's tests and CI do not (the results are committed). Run from the repository root:

    node bin/pann.js fit relu --precision 8 --range -1,1 --method remez --json > /tmp/relu-k8.json
    node bin/pann.js compile models/fashion-resnet20.json -k 8 --dataset fashion-mnist-full --json > /tmp/r20.json
    /usr/bin/python3 tools/train/finetune_poly.py --model models/fashion-resnet20.json --fit /tmp/relu-k8.json \\
        --report /tmp/r20.json --epochs 2 --out /tmp/fashion-resnet20-ft8

The stand-in is what `pann compile` evaluates: relu(x) ≈ B·p(x/B), p the Chebyshev polynomial of `pann fit` on
[-1, 1] (the fitter's coefficients, read from its JSON) and B the calibrated range of each activation layer (read
from the compile report's `activations[].B`). Inputs are clamped to [-B, B] in training (outside it the polynomial
diverges, and the circuit cannot clamp). The model file (pann-model JSON, BatchNorm already folded into the
convolutions) is read and written directly, so the layers, residual references and weights stay pann's: the output
`<out>.json` keeps ReLU activation layers and compiles like the input; `<out>.train.json` records the command,
seed, epochs, the stand-in and per-epoch loss and accuracy (float ReLU and polynomial, on the official test images).

Data as tools/train/resnet.py: the official Fashion-MNIST files, values 0-1, random crops and flips.
"""
import argparse
import base64
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from resnet import DATA_NOTE, DEBIAN_DIR, load, train_epoch, write_record  # noqa: E402


def tensor(t):
    """A pann tensor ({dtype float32|float64, shape, data base64 little-endian}) as a float32 torch tensor."""
    if t.get('dtype') not in ('float32', 'float64'):
        raise SystemExit(f'tensor dtype {t.get("dtype")!r}: expected float32 or float64')
    data = np.frombuffer(base64.b64decode(t['data']), dtype='<f4' if t['dtype'] == 'float32' else '<f8')
    return torch.tensor(data.astype(np.float32).reshape(t['shape']))


def encode(x, dtype):
    arr = x.detach().cpu().numpy().astype('<f4' if dtype == 'float32' else '<f8')
    return {'dtype': dtype, 'shape': list(arr.shape), 'data': base64.b64encode(arr.tobytes()).decode('ascii')}


def clenshaw(c, t):
    """Σ c_j T_j(t), elementwise (c_0 not halved, as pann's clenshaw)."""
    b1 = torch.zeros_like(t)
    b2 = torch.zeros_like(t)
    for cj in reversed(c[1:]):
        b1, b2 = cj + 2 * t * b1 - b2, b1
    return c[0] + t * b1 - b2


class PannNet(torch.nn.Module):
    """A pann model's layer list (conv2d, dense, activation, add, globalavgpool, flatten) as a torch module."""

    SUPPORTED = {'conv2d', 'dense', 'activation', 'add', 'globalavgpool', 'flatten'}

    def __init__(self, model):
        super().__init__()
        self.layers = model['layers']
        self.params = torch.nn.ParameterList()
        self.index = {}
        for i, l in enumerate(self.layers):
            if l['type'] not in self.SUPPORTED:
                raise SystemExit(f'layers[{i}]: type {l["type"]!r} is not supported by this script')
            if l['type'] == 'activation' and l['activation']['name'] != 'relu':
                raise SystemExit(f'layers[{i}]: activation {l["activation"]["name"]!r}; this script fine-tunes ReLU networks')
            if l['type'] in ('conv2d', 'dense'):
                self.index[i] = len(self.params)
                self.params.append(torch.nn.Parameter(tensor(l['weight'])))
                self.params.append(torch.nn.Parameter(tensor(l['bias'])))
        self.poly = None  # (coefficients, [B per activation layer]) when the stand-in is in place

    def forward(self, x):
        outs = []
        act = 0
        for i, l in enumerate(self.layers):
            h = outs[l['from']] if 'from' in l else (outs[-1] if outs else x)
            t = l['type']
            if t == 'conv2d':
                w, b = self.params[self.index[i]], self.params[self.index[i] + 1]
                h = F.conv2d(h, w, b, stride=tuple(l['stride']), padding=tuple(l['padding']))
            elif t == 'dense':
                h = F.linear(h.flatten(1), self.params[self.index[i]], self.params[self.index[i] + 1])
            elif t == 'activation':
                if self.poly is None:
                    h = F.relu(h)
                else:
                    c, bounds = self.poly
                    B = bounds[act]
                    h = B * clenshaw(c, torch.clamp(h / B, -1.0, 1.0))
                act += 1
            elif t == 'add':
                h = h + outs[l['other']]
            elif t == 'globalavgpool':
                h = h.mean(dim=(2, 3))
            elif t == 'flatten':
                h = h.flatten(1)
            outs.append(h)
        return outs[-1]

    def write(self, model):
        out = json.loads(json.dumps(model))
        for i, k in self.index.items():
            layer = out['layers'][i]
            layer['weight'] = encode(self.params[k], layer['weight']['dtype'])
            layer['bias'] = encode(self.params[k + 1], layer['bias']['dtype'])
        return out


def accuracy(net, x, y, poly, batch=500):
    saved = net.poly
    net.poly = poly
    net.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(x), batch):
            correct += (net(x[i:i + batch]).argmax(1) == y[i:i + batch]).sum().item()
    net.poly = saved
    return correct / len(x)


def read_stand_in(fit_path, report_path, bounds, activations):
    with open(fit_path) as f:
        fit = json.load(f)
    if (fit.get('activation') or {}).get('name') != 'relu':
        raise SystemExit(f'{fit_path}: a fit of {fit.get("activation")!r}, expected relu')
    if fit.get('interval') != [-1, 1] or fit.get('finish') != 'none' or fit.get('basis') != 'chebyshev':
        raise SystemExit(f'{fit_path}: expected one Chebyshev polynomial on [-1, 1] (pann fit relu --range -1,1 --method remez --json)')
    coefficients = [float(c) for c in fit['coefficients']]
    if bounds:
        Bs = [float(b) for b in bounds.split(',')]
        if len(Bs) != activations or not all(b > 0 for b in Bs):
            raise SystemExit(f'--bounds: expected {activations} positive numbers, got {bounds!r}')
        return coefficients, Bs, fit
    with open(report_path) as f:
        report = json.load(f)
    acts = report.get('report', report).get('activations')
    if not isinstance(acts, list) or len(acts) != activations:
        raise SystemExit(f'{report_path}: expected {activations} activations[] with B (pann compile --json of the same model)')
    return coefficients, [float(a['B']) for a in acts], fit


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--model', required=True, help='pann-model JSON of a ReLU network (BatchNorm folded)')
    p.add_argument('--fit', required=True, help='pann fit relu --range -1,1 --method remez --json output')
    p.add_argument('--report', help='pann compile --json output for the same model (its activations[].B)')
    p.add_argument('--bounds', help='instead of --report: B of each activation layer, comma-separated')
    p.add_argument('--epochs', type=int, default=2, help='0: only print the float and polynomial test accuracy as JSON')
    p.add_argument('--batch', type=int, default=128)
    p.add_argument('--lr', type=float, default=0.01, help='SGD with momentum 0.9, cosine decay to 0')
    p.add_argument('--weight-decay', type=float, default=0.0, help='the low-precision finding: minimal weight decay')
    p.add_argument('--seed', type=int, default=1)
    p.add_argument('--threads', type=int, default=os.cpu_count())
    p.add_argument('--data-dir', default=DEBIAN_DIR)
    p.add_argument('--limit', type=int, default=0, help='train on the first n training images only (tests)')
    p.add_argument('--test-limit', type=int, default=0, help='report the accuracy on the first n test images only (tests)')
    p.add_argument('--out', help='path without extension: writes <out>.json and <out>.train.json')
    a = p.parse_args()
    if a.epochs > 0 and not a.out:
        raise SystemExit('--out is needed to fine-tune (--epochs 0 only evaluates)')
    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    gen = torch.Generator().manual_seed(a.seed)
    with open(a.model) as f:
        model = json.load(f)
    net = PannNet(model)
    n_act = sum(1 for l in model['layers'] if l['type'] == 'activation')
    if not a.report and not a.bounds:
        raise SystemExit('give --report (pann compile --json) or --bounds')
    coeffs, bounds, fit = read_stand_in(a.fit, a.report, a.bounds, n_act)
    poly = (coeffs, bounds)
    xte, yte = load(a.data_dir, 'test')
    if a.test_limit:
        xte, yte = xte[:a.test_limit], yte[:a.test_limit]
    if a.epochs == 0:
        result = {'float': accuracy(net, xte, yte, None), 'polynomial': accuracy(net, xte, yte, poly), 'images': len(xte),
                  'precision': (fit.get('precision') or {}).get('k'), 'degree': fit.get('degree'), 'B': bounds}
        print(json.dumps(result))
        return
    xtr, ytr = load(a.data_dir, 'train')
    if a.limit:
        xtr, ytr = xtr[:a.limit], ytr[:a.limit]
    before = {'float': accuracy(net, xte, yte, None), 'polynomial': accuracy(net, xte, yte, poly)}
    print(f'before: float {100 * before["float"]:.2f}%, polynomial {100 * before["polynomial"]:.2f}%', file=sys.stderr, flush=True)
    net.poly = poly
    opt = torch.optim.SGD(net.parameters(), lr=a.lr, momentum=0.9, weight_decay=a.weight_decay, nesterov=True)
    steps = a.epochs * ((len(xtr) + a.batch - 1) // a.batch)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(1, steps))
    history = []
    t0 = time.time()
    for epoch in range(a.epochs):
        total = train_epoch(net, opt, sched, xtr, ytr, a.batch, gen)
        row = {'epoch': epoch + 1, 'loss': total / len(xtr), 'polynomialAccuracy': accuracy(net, xte, yte, poly),
               'floatAccuracy': accuracy(net, xte, yte, None), 'seconds': time.time() - t0}
        history.append(row)
        print(f'epoch {epoch + 1}/{a.epochs}: loss {row["loss"]:.4f}, test polynomial {100 * row["polynomialAccuracy"]:.2f}%, '
              f'float {100 * row["floatAccuracy"]:.2f}% ({row["seconds"]:.0f} s)', file=sys.stderr, flush=True)
    out = net.write(model)
    out['name'] = os.path.basename(a.out)
    tmp = a.out + '.json.tmp'
    with open(tmp, 'w') as f:
        json.dump(out, f)
    os.replace(tmp, a.out + '.json')
    record = {
        'command': ' '.join(['/usr/bin/python3', 'tools/train/finetune_poly.py'] + sys.argv[1:]),
        'torch': torch.__version__, 'from': a.model, 'epochs': a.epochs, 'batch': a.batch, 'lr': a.lr,
        'weightDecay': a.weight_decay, 'seed': a.seed, 'threads': a.threads,
        'standIn': {'precision': fit.get('precision'), 'degree': fit.get('degree'), 'method': fit.get('method'), 'B': bounds},
        'data': DATA_NOTE,
        'before': before, 'history': history,
    }
    write_record(a.out + '.train.json', record)
    print(f'wrote {a.out}.json and {a.out}.train.json', file=sys.stderr)


if __name__ == '__main__':
    main()
