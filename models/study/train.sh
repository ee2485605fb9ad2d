#!/bin/sh
# Training-technique variants of the shipped CNNs for the precision study (docs/study/).
# Same recipe as the shipped model; only the named knob changes. Run from the repository root after `npx tsc`.
#   wd0     weight decay off (the shipped recipes use a mild 5e-5)
#   wd5e-4  strong weight decay (10x the shipped value; Zhang et al. 2024: regularisation hurts low-precision PANNs)
#   mixup   weight decay off plus Mixup (alpha 0.2): the remedy of Zhang et al. 2024
set -e
for act in relu ulu; do
  node bin/pann.js train mnist-cnn-$act --weight-decay 0 --name mnist-cnn-$act-wd0 --out models/study/mnist-cnn-$act-wd0.json -q
  node bin/pann.js train mnist-cnn-$act --weight-decay 5e-4 --name mnist-cnn-$act-wd5e-4 --out models/study/mnist-cnn-$act-wd5e-4.json -q
  node bin/pann.js train mnist-cnn-$act --weight-decay 0 --mixup 0.2 --name mnist-cnn-$act-mixup --out models/study/mnist-cnn-$act-mixup.json -q
done
