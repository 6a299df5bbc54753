import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# One torch thread per test process (and per app server the browser tests start, which inherits this).
# The test machine has 2 cores shared with the browser, the app server and often a training; torch's
# default of one thread per core oversubscribes them (issue 17: unit + app ~170 s as they were, ~63 s
# like this). Set before torch is first imported, so every thread (Streamlit runs each script in its
# own) starts with it; torch.set_num_threads covers the case where torch is already loaded.
# An explicit OMP_NUM_THREADS / MKL_NUM_THREADS in the environment wins.
for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
if "torch" in sys.modules:
    sys.modules["torch"].set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
