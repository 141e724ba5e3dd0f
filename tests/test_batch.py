"""The batch layer: inline, local processes and a real Dask LocalCluster give the same files;
a killed job resumes losing nothing written; bad files are reported; a missing extra is said."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from onnx_models import realistic_model

from workbench.batch import (
    MANIFEST,
    Task,
    finished_outputs,
    make_out_dir,
    run_batch,
    tasks_for,
)
from workbench.colorize.batch import ColorizeJob, colorize_files
from workbench.errors import InputError
from workbench.imaging.io import read_image, write_image

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return str(realistic_model(tmp_path_factory.mktemp("m") / "bins.onnx", size=64, width=8))


def _photos(folder: Path, n: int, size=(48, 64)) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    paths = []
    for i in range(n):
        image = rng.integers(0, 256, (size[0] // 8, size[1] // 8, 3), dtype=np.uint8)
        image = np.kron(image, np.ones((8, 8, 1), np.uint8))
        paths.append(folder / f"p{i:03d}.png")
        write_image(paths[-1], image)
    return paths


def _outputs(folder: Path) -> dict[str, np.ndarray]:
    return {p.name: read_image(p) for p in sorted(folder.glob("*.png"))}


def test_inline_processes_and_a_dask_local_cluster_write_the_same_files(model, tmp_path):
    pytest.importorskip("dask.distributed")
    photos = _photos(tmp_path / "in", 6)
    runs = {"inline": {}, "processes": {"workers": 2},
            "dask": {"workers": 2, "scheduler": "local"}}
    results = {}
    for name, options in runs.items():
        report = colorize_files(None, [tmp_path / "in"], tmp_path / name, model=model,
                                provider="cpu", **options)
        assert not report.failed and len(report.written) == 6, (name, report.failed)
        results[name] = _outputs(tmp_path / name)
        if name == "dask":
            assert report.where.startswith("Dask at") and report.dashboard
    assert list(results["inline"]) == [p.with_suffix(".png").name for p in photos]
    for name in ("processes", "dask"):
        for key, image in results["inline"].items():
            diff = np.abs(image.astype(int) - results[name][key].astype(int)).max()
            assert diff <= 1, (name, key, diff)  # the same model in another process


class _Fails:
    """A job that fails on one input and records which process did what."""

    name = "test"

    def setup(self):
        return os.getpid()

    def run(self, state, task):
        if "bad" in task.source:
            raise InputError(f"Cannot read image '{task.source}': corrupt")
        Path(task.output).write_text(str(state))

    def __repr__(self):
        return "_Fails()"


@pytest.mark.parametrize("workers", [0, 2])
def test_a_failing_task_is_reported_and_the_others_are_done(tmp_path, workers):
    tasks = [Task(f"in/{name}", str(tmp_path / f"{name}.txt"))
             for name in ("a", "b", "bad", "c", "d")]
    report = run_batch(_Fails(), tasks, workers=workers)
    assert [p.name for p, _ in report.failed] == ["bad"]
    assert "corrupt" in report.failed[0][1]
    assert sorted(p.name for p in report.written) == ["a.txt", "b.txt", "c.txt", "d.txt"]
    pids = {Path(t.output).read_text() for t in tasks if "bad" not in t.source}
    if workers:  # the state was loaded once per worker process, not per task
        assert str(os.getpid()) not in pids and len(pids) <= 2
    manifest = [json.loads(line) for line in (tmp_path / MANIFEST).read_text().splitlines()]
    assert sorted(e["status"] for e in manifest) == ["done"] * 4 + ["failed"]


def test_resume_skips_what_the_manifest_says_is_written(tmp_path):
    tasks = [Task(f"in/{c}", str(tmp_path / f"{c}.txt")) for c in "abcd"]
    run_batch(_Fails(), tasks[:2])
    (tmp_path / MANIFEST).open("a").write('{"output": "torn')  # killed mid-line
    stamp = (tmp_path / "a.txt").stat().st_mtime_ns
    (tmp_path / ".c.txt.0badf00d.tmp").write_text("half")  # a write the kill interrupted
    (tmp_path / ".notes.txt.0badf00d.tmp").write_text("someone else's")
    report = run_batch(_Fails(), tasks, resume=True)
    assert not (tmp_path / ".c.txt.0badf00d.tmp").exists()
    assert (tmp_path / ".notes.txt.0badf00d.tmp").exists()  # not one of this job's outputs
    assert sorted(p.name for p in report.skipped) == ["a.txt", "b.txt"]
    assert sorted(p.name for p in report.written) == ["c.txt", "d.txt"]
    assert (tmp_path / "a.txt").stat().st_mtime_ns == stamp
    assert finished_outputs(tmp_path / MANIFEST) == {t.output for t in tasks}
    # an output listed as done but deleted since is done again
    (tmp_path / "b.txt").unlink()
    report = run_batch(_Fails(), tasks, resume=True)
    assert [p.name for p in report.written] == ["b.txt"]


@pytest.mark.parametrize("where", [[], ["--scheduler", "local", "--workers", "2"]],
                         ids=["inline", "dask"])
def test_a_killed_colorize_job_resumes_and_loses_nothing_written(model, tmp_path, where):
    """The driver and (on Dask) its LocalCluster's workers are killed mid-job (SIGKILL to the
    whole process group), then the same command with --resume finishes the job."""
    if where:
        pytest.importorskip("dask.distributed")
    photos = _photos(tmp_path / "in", 80, size=(256, 320))
    out = tmp_path / "out"
    command = [sys.executable, "-m", "workbench", "colorize", str(tmp_path / "in"),
               "--out-dir", str(out), "--model", model, "--provider", "cpu", *where]
    job = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, start_new_session=True)
    # killed once the driver has recorded a few finished tasks (files on disk are not enough:
    # under load a Dask worker can write its file before the driver records it, and a job
    # killed then has nothing to skip on --resume)
    deadline = time.monotonic() + 120
    while (len(finished_outputs(out / MANIFEST)) < 3 if (out / MANIFEST).exists() else True) \
            and time.monotonic() < deadline and job.poll() is None:
        time.sleep(0.02)
    os.killpg(job.pid, signal.SIGKILL)
    job.wait()
    before = {p.name: p.stat().st_mtime_ns for p in out.glob("*.png")}
    if len(before) == len(photos):
        pytest.skip("the job finished before it could be killed")
    done = finished_outputs(out / MANIFEST)
    assert done, "the driver recorded nothing within 120 s"
    resumed = subprocess.run(command + ["--resume", "--json"], cwd=REPO, capture_output=True,
                             text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    doc = json.loads(resumed.stdout)
    assert len(doc["results"]) == len(photos) - len(done)
    assert "already done" in resumed.stderr
    after = {p.name: p.stat().st_mtime_ns for p in out.glob("*.png")}
    assert sorted(after) == sorted(t.output.split("/")[-1] for t in tasks_for(photos, out))
    for name in done:  # what the killed run finished was not redone
        assert after[Path(name).name] == before[Path(name).name]
    for path in out.glob("*.png"):
        assert read_image(path).shape == (256, 320, 3)  # every file whole
    assert not list(out.glob(".*.tmp"))  # what a kill left half-written is cleared


def test_colorize_cli_on_a_local_dask_cluster_with_a_bad_file(model, tmp_path, capsys):
    pytest.importorskip("dask.distributed")
    from workbench.cli import main

    _photos(tmp_path / "in", 4)
    (tmp_path / "in" / "p001_bad.png").write_bytes(b"not a png")
    code = main(["colorize", str(tmp_path / "in"), "--out-dir", str(tmp_path / "out"),
                 "--model", model, "--provider", "cpu", "--scheduler", "local", "--workers", "2",
                 "--json"])
    captured = capsys.readouterr()
    assert code == 2
    doc = json.loads(captured.out)
    assert len(doc["results"]) == 4 and len(doc["failed"]) == 1
    assert "p001_bad.png" in doc["failed"][0]["error"]
    assert "dashboard" in captured.err


def test_without_dask_the_scheduler_option_says_how_to_get_it(model, tmp_path, monkeypatch,
                                                              capsys):
    from workbench.cli import main

    monkeypatch.setitem(sys.modules, "dask.distributed", None)  # as if not installed
    _photos(tmp_path / "in", 1)
    code = main(["colorize", str(tmp_path / "in"), "--out-dir", str(tmp_path / "out"),
                 "--model", model, "--scheduler", "local"])
    assert code == 2
    assert "pip install 'workbench[cluster]'" in capsys.readouterr().err


def test_colorize_job_pickles_small():
    import pickle

    job = ColorizeJob("model.onnx", "cpu", 0.5, 1.2)
    assert pickle.loads(pickle.dumps(job)) == job and len(pickle.dumps(job)) < 400


def test_pyramid_over_a_folder_is_byte_identical_inline_on_processes_and_on_dask(
        tmp_path, capsys):
    pytest.importorskip("dask.distributed")
    from workbench.cli import main

    _photos(tmp_path / "in", 5, size=(64, 80))
    runs = {"inline": [], "processes": ["--workers", "2"],
            "dask": ["--scheduler", "local", "--workers", "2"]}
    files = {}
    for name, extra in runs.items():
        code = main(["pyramid", str(tmp_path / "in"), "--levels", "3", "--kind", "laplacian",
                     "--out-dir", str(tmp_path / name), *extra])
        assert code == 0
        files[name] = {p.name: p.read_bytes() for p in sorted((tmp_path / name).glob("*_*"))}
    assert len(files["inline"]) == 5 * 3
    assert files["processes"] == files["inline"] and files["dask"] == files["inline"]
    capsys.readouterr()
    assert main(["pyramid", str(tmp_path / "in"), "--levels", "3", "--kind", "laplacian",
                 "--out-dir", str(tmp_path / "inline"), "--resume", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["skipped"]) == 5


def test_make_out_dir_creates_parents_and_names_a_folder_it_cannot_make(tmp_path):
    made = make_out_dir(tmp_path / "a" / "b")
    assert made.is_dir() and made == tmp_path / "a" / "b"
    assert make_out_dir(made) == made  # already there: fine
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError, match="Cannot create output folder .*file"):
        make_out_dir(tmp_path / "file" / "out")


def test_outputs_of_inputs_that_share_a_stem_or_a_made_up_name_never_collide(tmp_path):
    # a/x and b/x share a stem; the second becomes x_2 — and an input really named x_2 must
    # then not write over it (it did: both went to x_2.png)
    inputs = [Path("a/x.jpg"), Path("b/x.png"), Path("c/x_2.png"), Path("d/X.png")]
    outputs = [Path(t.output).name for t in tasks_for(inputs, tmp_path)]
    assert outputs == ["x.png", "x_2.png", "x_2_2.png", "X_3.png"]
    assert len({o.casefold() for o in outputs}) == len(inputs)


def test_compare_variants_of_one_input_never_take_another_inputs_name(tmp_path):
    from workbench.colorize.compare import COMPARE_VARIANTS, compare_outputs

    # x's side-by-side is x_A_vs_B.png, which is also what B of an input named x_A_vs writes
    inputs = [Path("x.png"), Path("x_A_vs.png"), Path("x_A.png")]
    tasks = tasks_for(inputs, tmp_path, variants=COMPARE_VARIANTS)
    written = [p.name for t in tasks for p in compare_outputs(Path(t.output))]
    assert len(set(written)) == 3 * len(inputs)
    assert written[:3] == ["x_A.png", "x_B.png", "x_A_vs_B.png"]  # the first keeps its names


def test_pyramids_of_photos_that_share_a_name_each_keep_their_levels(tmp_path, capsys):
    from workbench.cli import main

    # two "x.png" from different folders and an "x_1.png": before, the second x wrote over the
    # first's levels; now it gets the stem x_2 (x_1 is an input's own name)
    rng = np.random.default_rng(5)
    sources = {}
    for folder, name in (("a", "x"), ("b", "x"), ("c", "x_1")):
        path = tmp_path / folder / f"{name}.png"
        path.parent.mkdir()
        sources[path] = rng.integers(0, 255, (40, 48), dtype=np.uint8)
        write_image(path, sources[path])
    out = tmp_path / "out"
    assert main(["pyramid", *map(str, sources), "--levels", "2", "--out-dir", str(out)]) == 0
    names = {p.name for p in out.glob("*.png")}
    assert names == {"x_0.png", "x_1.png", "x_2_0.png", "x_2_1.png", "x_1_0.png", "x_1_1.png"}
    level0 = {name: read_image(out / name) for name in ("x_0.png", "x_2_0.png", "x_1_0.png")}
    for (path, pixels), name in zip(sources.items(), level0, strict=True):
        assert np.array_equal(level0[name], pixels), (path, name)  # level 0 is the photo
