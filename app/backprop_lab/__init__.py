"""Backprop Lab: a desktop simulator that makes backpropagation visible."""

import os as _os

__version__ = "0.1.0"

# Our matrices are small (at most 128 units a layer): spreading one product over BLAS
# threads costs more than it saves, and on a busy 2-core machine those threads contend
# with the window and the training process (measured: a 100 x 100 heatmap of the spiral
# network took 6-27 ms with OpenBLAS's threads, 2-3 ms with one). Set before numpy is
# imported; a value the user set is kept.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    _os.environ.setdefault(_var, "1")
del _var
