"""Several nodes, as the scaling-out guide gives the commands: two local processes act as two
nodes of one CPU process each, over gloo on 127.0.0.1, once with the variables of Lightning's
own cluster environment and once with SLURM's (as Lightning's tests give them)."""

from __future__ import annotations

import re
import shutil
import socket
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

TINY = ["fit", "--model", "cnn_mnist", "--trainer.strategy", "ddp", "--trainer.accelerator", "cpu",
        "--trainer.devices", "1", "--trainer.num_nodes", "2", "--trainer.max_epochs", "1",
        "--trainer.limit_train_batches", "2", "--trainer.enable_progress_bar", "false",
        "--trainer.enable_model_summary", "false"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def lightning_node(rank: int, port: int) -> dict[str, str]:
    """What a user exports on node `rank` of two (Lightning's LightningEnvironment)."""
    return {"MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port), "NODE_RANK": str(rank), "WORLD_SIZE": "2"}


def slurm_task(rank: int, port: int) -> dict[str, str]:
    """What `srun` sets for task `rank` of a job of two nodes with one task each."""
    return {"SLURM_NTASKS": "2", "SLURM_NTASKS_PER_NODE": "1", "SLURM_NNODES": "2", "SLURM_JOB_NUM_NODES": "2",
            "SLURM_PROCID": str(rank), "SLURM_LOCALID": "0", "SLURM_NODEID": str(rank),
            "SLURM_JOB_ID": "4242", "SLURM_JOB_NAME": "zoo", "SLURM_NODELIST": "127.0.0.1",
            "MASTER_PORT": str(port)}


def run_two_nodes(run_zoo, node_env) -> list:
    port = free_port()
    with ThreadPoolExecutor(2) as pool:
        runs = [pool.submit(run_zoo, *TINY, timeout=600, extra_env=node_env(rank, port)) for rank in (0, 1)]
        return [run.result() for run in runs]


@pytest.mark.slow
@pytest.mark.parametrize("node_env", [lightning_node, slurm_task], ids=["lightning-env", "slurm-env"])
def test_two_nodes_train_one_model_and_rank_zero_writes(run_zoo, tmp_path: Path, node_env) -> None:
    """Tried twice: in 2 of the 14 runs here (both in clean-clone CI runs) one node lost its gloo
    peer around the closing test (an abort at exit once, a closed connection at the test's first
    barrier once), not yet explained; both nodes' output is shown when the second try fails too."""
    for attempt in (1, 2):
        first, second = run_two_nodes(run_zoo, node_env)
        if first.returncode == 0 and second.returncode == 0:
            break
        assert attempt == 1, f"node 0:\n{first.stderr}\nnode 1:\n{second.stderr}"
        for folder in (tmp_path / "runs", tmp_path / "data"):
            shutil.rmtree(folder, ignore_errors=True)
    assert "zoo: 2 processes on cpu (DDPStrategy)" in first.stdout
    assert "zoo:" not in second.stdout, "only global rank 0 speaks"
    assert len(re.findall(r"zoo: test of the best checkpoint: test/acc", first.stdout)) == 1
    checkpoints = sorted(p.name for p in tmp_path.glob("runs/**/*.ckpt"))
    assert checkpoints == ["best.ckpt", "last.ckpt"], "written once, by global rank 0"
