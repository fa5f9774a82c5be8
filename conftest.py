"""Test-wide settings: the ``tiny`` profile (also inherited by the notebook kernels nbval starts) and no GUI backend."""

import os

os.environ.setdefault("NST_PROFILE", "tiny")
os.environ.setdefault("MPLBACKEND", "Agg")
