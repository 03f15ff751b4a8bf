#!/usr/bin/env python3
"""Converts scikit-learn's bundled 8x8 digits set into www/data/digits.bin, once.

Run: pip install scikit-learn && python3 scripts/make_digits.py
Layout: 1797 images x 64 uint8 pixels (values 0..16, row-major), then 1797 uint8 labels.
Source: the UCI "Optical Recognition of Handwritten Digits" test set as shipped inside
scikit-learn (sklearn/datasets/data/digits.csv.gz); see www/data/README.md.
"""
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits

digits = load_digits()
images = digits.data.astype(np.uint8)          # (1797, 64), 0..16
labels = digits.target.astype(np.uint8)        # (1797,)
assert images.shape == (1797, 64) and images.max() <= 16
out = Path(__file__).resolve().parent.parent / "www" / "data" / "digits.bin"
out.write_bytes(images.tobytes() + labels.tobytes())
print(f"wrote {out} ({out.stat().st_size} bytes)")
