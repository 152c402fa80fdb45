"""Regression guard for the op_db coverage measurement (corelib.testing.op_db).

A small fixed list of core entries of PyTorch's OpInfo database runs against corelib; each
entry must pass at least as many float32 samples (forward and gradients) as were passing when
the floor was recorded, and the list as a whole must not drop below the recorded rate. Raise a
floor when a fix makes more samples pass. Skipped without PyTorch (fails under CI=true).
"""
import os

import pytest

# op_db entry (name[.variant]) -> float32 samples passing when measured (torch 2.13.0+cpu).
FLOOR = {
    "add": 11, "mul": 9, "exp": 3, "tanh": 1, "sum": 20, "mean": 20, "amax": 20,
    "matmul": 15, "softmax": 7, "softmax.with_dtype": 7, "log_softmax": 7,
    "log_softmax.with_dtype": 7, "reshape": 7, "permute": 4, "cat": 9, "index_select": 3,
    "gather": 7, "nn.functional.linear": 18, "nn.functional.cross_entropy": 21,
    "flip": 10, "scatter": 9, "nn.functional.group_norm": 21, "nn.functional.batch_norm": 12,
    "nn.functional.pad.reflect": 12, "nn.functional.pad.replicate": 12,
    "nn.functional.pad.replicate_negative": 6, "nn.functional.pad.circular": 8,
}
FLOOR_PCT = 97.9


def test_core_entries_keep_their_pass_rate(torch):
    if os.environ.get("CI", "").lower() in ("true", "1"):
        from corelib.testing import op_db
    else:
        op_db = pytest.importorskip("corelib.testing.op_db")
    # op names: an entry's name, or the name before its variant (nn.functional.pad.reflect)
    result = op_db.measure(sorted(set(FLOOR) | {e.rsplit(".", 1)[0] for e in FLOOR}))
    got = {e["entry"]: e for e in result["entries"]}
    regressed = {name: (got[name]["pass"], floor, got[name]["reasons"])
                 for name, floor in FLOOR.items()
                 if name not in got or got[name]["pass"] < floor}
    assert not regressed, f"entries passing fewer samples than recorded: {regressed}"
    assert result["core"]["pass_pct"] >= FLOOR_PCT, result["reasons"]
