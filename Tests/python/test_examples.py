"""Every example an operator copies from the docs and the bindings is run here, so none can rot:

* docs/workflow-language.md: each complete `yaml` document validates;
* docs/cli.md and docs/rehearse.md: their `sh` sessions run against the emulator (blocks marked `<!-- run -->`);
* docs/c-abi.md: its C snippets compile against ferry.h;
* docs/errors.md and docs/operations.md are exactly what `ferry errors --markdown` / `ferry ops --markdown` print;
* bindings/python/examples: drive_run.py and the Airflow-style operator run to success;
* bindings/c/examples/run_workflow.c builds and drives the DCS runbook to success;
* bindings/shell: the driving script runs a runbook to success through `ferry start` / `ferry advance`;
* `ferry demo` finishes green in under a minute.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, Iterator, List, Tuple

import pytest

import ferry

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"
CLI = os.environ.get("FERRY_CLI") or str(REPO / ".build" / "debug" / "ferry-cli")


def clean_env(**extra: str) -> Dict[str, str]:
    env = dict(os.environ)
    for k in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        env.pop(k, None)
    env["PATH"] = str(REPO / "bin") + os.pathsep + env.get("PATH", "")
    env.update(extra)
    return env


def fenced(path: Path, lang: str) -> List[Tuple[int, str, bool]]:
    """(line, text, marked) of each ```lang block; marked when the line before the fence is `<!-- run -->`."""
    lines = path.read_text().splitlines()
    out, i = [], 0
    while i < len(lines):
        if lines[i].strip() == f"```{lang}":
            start, body = i + 1, []
            i += 1
            while i < len(lines) and lines[i].strip() != "```":
                body.append(lines[i])
                i += 1
            marked = start >= 2 and lines[start - 2].strip() == "<!-- run -->"
            out.append((start + 1, "\n".join(body) + "\n", marked))
        i += 1
    return out


# ---- docs/workflow-language.md ---------------------------------------------------------------------------------

def language_documents() -> List[Tuple[int, str]]:
    return [(line, text) for line, text, _ in fenced(DOCS / "workflow-language.md", "yaml") if text.startswith("ferry: 1")]


def test_workflow_language_has_examples() -> None:
    assert len(language_documents()) >= 10


@pytest.mark.parametrize("line,text", language_documents(), ids=lambda v: f"line{v}" if isinstance(v, int) else "")
def test_workflow_language_example_validates(line: int, text: str) -> None:
    with ferry.Engine() as engine:
        try:
            info = engine.validate(json.dumps(text))
        except ferry.FerryError as e:
            raise AssertionError(f"docs/workflow-language.md line {line}: {e.message} {e.details}") from None
    assert info["valid"] is True


# ---- Generated reference pages ---------------------------------------------------------------------------------

@pytest.mark.parametrize("page,command", [("errors.md", ["errors", "--markdown"]), ("operations.md", ["ops", "--markdown"])])
def test_generated_reference_is_current(page: str, command: List[str]) -> None:
    p = subprocess.run([CLI, *command], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert (DOCS / page).exists(), f"docs/{page} is missing: generate it with `ferry {' '.join(command)} > docs/{page}`"
    assert (DOCS / page).read_text() == p.stdout, f"docs/{page} is stale: regenerate it with `ferry {' '.join(command)}`"


# ---- bindings/python/examples ----------------------------------------------------------------------------------

PY_EXAMPLES = REPO / "bindings" / "python" / "examples"


def run_python(script: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True, timeout=timeout,
                          cwd=str(REPO), env=clean_env())


def test_python_drive_run_example(tmp_path: Path) -> None:
    p = run_python(PY_EXAMPLES / "drive_run.py", "--store", str(tmp_path / "runs.db"))
    assert p.returncode == 0, p.stdout + p.stderr
    assert "approving gate 'cutover'" in p.stdout
    assert re.search(r"run \S+ succeeded; outputs: .*'final_status': 'TERMINATED'", p.stdout), p.stdout
    # The run is in the store file, listed by any engine that opens it.
    with ferry.Engine({"store": str(tmp_path / "runs.db")}) as engine:
        runs = engine.list_runs()
    assert runs["count"] == 1 and runs["runs"][0]["status"] == "succeeded"


def test_python_airflow_operator_example() -> None:
    p = run_python(PY_EXAMPLES / "airflow_operator.py")
    assert p.returncode == 0, p.stdout + p.stderr
    assert "deferred (1)" in p.stdout, "the operator defers while the run waits"
    outputs = json.loads(p.stdout.split("outputs:", 1)[1])
    assert outputs["final_status"] == "TERMINATED" and outputs["approved_by"] == "approver thread"


def test_airflow_operator_fails_the_task_when_the_run_fails(tmp_path: Path) -> None:
    sys.path.insert(0, str(PY_EXAMPLES))
    try:
        import airflow_operator as af  # noqa: E402
        from drive_run import EMULATOR_CONFIG, RUNBOOK, engine_config  # noqa: E402
    finally:
        sys.path.pop(0)
    config = dict(EMULATOR_CONFIG, faults=[{"operation": "huawei.dcs.SetOnlineMigrationTask",
                                             "kind": "terminal_failure", "after_seconds": 2}])
    with ferry.Emulator(config) as emulator:
        op = af.FerryRunOperator(
            task_id="redis_cutover", workflow_path=str(RUNBOOK),
            engine_config=engine_config(emulator, str(tmp_path / "runs.db")),
            inputs={"task_name": "airflow-fail-1", "vpc_id": "v", "subnet_id": "s", "security_group_id": "g",
                    "source_addrs": "10.0.0.12:6379", "target_instance_id": "dcs-1"},
            secret_names=["source_password", "target_password"], budget_seconds=2,
            secret_source=lambda name: f"pw-for-{name}")
        context = {"dag_id": "dag", "run_id": "scheduled__1"}
        with pytest.raises(af.AirflowException, match="failed"):
            af.run_locally(op, context)
        # A retried task instance finds the same (failed) run instead of starting a second migration.
        with pytest.raises(af.AirflowException, match="failed"):
            op.execute(context)
        with ferry.Engine(op.engine_config) as engine:
            assert engine.list_runs()["count"] == 1


# ---- bindings/c/examples/run_workflow.c ------------------------------------------------------------------------

def test_c_host_drives_a_run() -> None:
    p = subprocess.run(["make", "-s", "-C", str(REPO / "bindings" / "c"), "run-workflow"], capture_output=True,
                       text=True, timeout=300, env=clean_env())
    assert p.returncode == 0, p.stdout + p.stderr
    assert "approving gate 'cutover'" in p.stdout
    assert re.search(r"run \S+ succeeded; outputs: .*\"final_status\": \"TERMINATED\"", p.stdout), p.stdout


# ---- ferry demo --------------------------------------------------------------------------------------------------

def test_ferry_demo_finishes_green(tmp_path: Path) -> None:
    # The demo's pace is set by the emulator's time scale (about 15 s on an idle machine, measured in the notes);
    # the bound here only catches a hang, because a wall-clock limit near the real figure flakes on a busy host.
    t0 = time.monotonic()
    p = subprocess.run([CLI, "demo", "--work-dir", str(tmp_path)], capture_output=True, text=True, timeout=240,
                       cwd=str(REPO), env=clean_env())
    elapsed = time.monotonic() - t0
    assert p.returncode == 0, p.stdout + p.stderr
    assert elapsed < 180, f"ferry demo took {elapsed:.1f}s"
    out = p.stdout
    assert "retries        2 absorbed (2× throttled)" in out, out
    assert "TERMINATED" in out
    assert "SIGKILL pid" in out and "each mutating call happened exactly once" in out, out
    assert "\x1b[" not in out, "no terminal escapes when stdout is not a terminal"
    logs = [p.read_text() for p in tmp_path.glob("child-*.log")]
    assert logs, "the child processes' logs are kept in the work dir"
    for secret in ("demo-source-Redis-pw", "demo-target-Redis-pw"):
        assert secret not in out and secret.encode() not in (tmp_path / "runs.db").read_bytes()
        assert all(secret not in log for log in logs)


# ---- docs/c-abi.md ------------------------------------------------------------------------------------------------

def test_c_abi_doc_covers_every_function() -> None:
    header = (REPO / "Include" / "ferry.h").read_text()
    functions = set(re.findall(r"^\s*(?:const\s+)?(?:int|void|char)\s*\*?\s*(ferry_[a-z_0-9]+)\s*\(", header, re.M))
    assert len(functions) >= 20, functions
    doc = (DOCS / "c-abi.md").read_text()
    missing = sorted(f for f in functions if f"{f}(" not in doc)
    assert not missing, f"docs/c-abi.md does not document: {missing}"


@pytest.mark.parametrize("line,code", [(line, code) for line, code, _ in fenced(DOCS / "c-abi.md", "c")],
                         ids=lambda v: f"line{v}" if isinstance(v, int) else "")
def test_c_abi_doc_snippet_compiles(tmp_path: Path, line: int, code: str) -> None:
    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    assert cc, "a C compiler is needed (build-essential)"
    src = tmp_path / "snippet.c"
    src.write_text('#include "ferry_jansson.h"\n#include <stdio.h>\n' + code)
    p = subprocess.run([cc, "-std=c11", "-Wall", "-Wextra", "-Werror", "-Wno-unused-function", "-fsyntax-only",
                        f"-I{REPO / 'Include'}", str(src)], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, f"docs/c-abi.md line {line}:\n{p.stderr}"


# ---- docs/rehearse.md and docs/cli.md: the shell sessions -----------------------------------------------------

def session(doc: str) -> str:
    blocks = [code for _, code, marked in fenced(DOCS / doc, "sh") if marked]
    assert blocks, f"docs/{doc} has no <!-- run --> sh blocks"
    # Background jobs (the emulator) are killed whatever happens, so nothing outlives the session.
    return "set -euo pipefail\ntrap 'kill $(jobs -p) 2>/dev/null || true' EXIT\n" + "\n".join(blocks)


def run_session(doc: str, tmp_path: Path, timeout: float = 240) -> subprocess.CompletedProcess:
    (tmp_path / "examples").symlink_to(REPO / "examples")
    script = tmp_path / "session.sh"
    script.write_text(session(doc))
    return subprocess.run(["bash", str(script)], stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=timeout, cwd=str(tmp_path), env=clean_env())


def test_rehearse_session_runs(tmp_path: Path) -> None:
    p = run_session("rehearse.md", tmp_path)
    assert p.returncode == 0, p.stdout + p.stderr
    lines = p.stdout.splitlines()
    assert lines.count("drive exited 4") == 1 and lines.count("drive exited 0") == 1 and "drive exited 1" in lines
    assert '"TERMINATED"' in lines
    assert '["huawei.dcs.CreateOnlineMigrationTask","huawei.dcs.SetOnlineMigrationTask","huawei.dcs.StopMigrationTask"]' in lines
    assert '{"status":"failed","failed_step":"wait_incremental","compensation":"succeeded"}' in lines
    assert lines[-1] == "1", "the compensation's delete is in the audit log"


def test_cli_session_runs(tmp_path: Path) -> None:
    p = run_session("cli.md", tmp_path)
    assert p.returncode == 0, p.stdout + p.stderr
    lines = p.stdout.splitlines()
    expected = ["start: 3", "advance: 3", '{"gate":"cutover"}', "drive: 4", '"cutover"', '"TERMINATED"', "drive: 0",
                '"succeeded"', '[["redis-1","succeeded"]]', '"TERMINATED"', '["t2"]']
    at = 0
    for x in expected:  # in this order
        assert x in lines[at:], f"{x!r} missing after line {at}:\n{p.stdout}"
        at = lines.index(x, at) + 1
    for secret in ("s3cret-src", "s3cret-dst"):
        assert secret.encode() not in (tmp_path / "runs.db").read_bytes()


# ---- bindings/shell ----------------------------------------------------------------------------------------------

@pytest.fixture
def cli_emulator(tmp_path: Path) -> Iterator[Dict]:
    """`ferry emulator` as a subprocess (fast clock), and an engine config file pointing at it."""
    cfg = tmp_path / "emulator.json"
    cfg.write_text(json.dumps({"time_scale": 40, "timings": {"dcs_vm_create_s": 20, "dcs_full_s": 60, "dcs_stop_s": 10}}))
    proc = subprocess.Popen([CLI, "emulator", "--port", "0", "--config", str(cfg)], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, env=clean_env())
    try:
        info = json.loads(proc.stdout.readline())
        engine = tmp_path / "engine.json"
        engine.write_text(json.dumps({
            "store": str(tmp_path / "runs.db"), "endpoints": info["endpoints"],
            "credentials": {"huawei": {"ak": "FERRYTESTKEY", "sk": "ferry-test-secret",
                                       "project_id": info["huawei_project_id"]}}}))
        yield {"info": info, "config": str(engine), "tmp": tmp_path}
    finally:
        proc.terminate()
        proc.wait(timeout=10)


SHELL = REPO / "bindings" / "shell"
DCS_INPUTS = {"task_name": "shell-redis-1", "vpc_id": "vpc-1", "subnet_id": "subnet-1", "security_group_id": "sg-1",
              "source_addrs": "10.0.0.12:6379", "target_instance_id": "dcs-1"}


def shell_env(config: str, **extra: str) -> Dict[str, str]:
    return clean_env(FERRY=CLI, FERRY_CONFIG=config, FERRY_SECRET_SOURCE_PASSWORD="shell-src-pw",
                     FERRY_SECRET_TARGET_PASSWORD="shell-dst-pw", **extra)


def test_shell_run_runbook_drives_to_success(cli_emulator: Dict) -> None:
    inputs = cli_emulator["tmp"] / "inputs.json"
    inputs.write_text(json.dumps(DCS_INPUTS))
    p = subprocess.run([str(SHELL / "run-runbook.sh"), str(REPO / "examples/workflows/dcs-online-redis-migration.yaml"),
                        str(inputs), "--approve", 'cutover={"approved_by": "shell"}'],
                       capture_output=True, text=True, timeout=180, env=shell_env(cli_emulator["config"], FERRY_BUDGET="5"))
    assert p.returncode == 0, p.stdout + p.stderr
    status = json.loads(p.stdout.strip().splitlines()[-1])
    assert status["status"] == "succeeded" and status["outputs"]["approved_by"] == "shell"
    assert "approving gate 'cutover'" in p.stderr and "succeeded" in p.stderr
    assert "shell-src-pw" not in p.stdout + p.stderr


def test_shell_run_runbook_stops_at_an_unapproved_gate(cli_emulator: Dict) -> None:
    inputs = cli_emulator["tmp"] / "inputs.json"
    inputs.write_text(json.dumps(DCS_INPUTS))
    p = subprocess.run([str(SHELL / "run-runbook.sh"), str(REPO / "examples/workflows/dcs-online-redis-migration.yaml"),
                        str(inputs)], capture_output=True, text=True, timeout=180,
                       env=shell_env(cli_emulator["config"]))
    assert p.returncode == 4, p.stdout + p.stderr
    status = json.loads(p.stdout.strip().splitlines()[-1])
    assert status["waiting_on"] == {"gate": "cutover"}
    assert "waiting at gate 'cutover'" in p.stderr


def test_ferry_step_exit_codes(cli_emulator: Dict) -> None:
    env = shell_env(cli_emulator["config"], FERRY_MODE="advance")
    inputs = cli_emulator["tmp"] / "inputs.json"
    inputs.write_text(json.dumps(DCS_INPUTS))
    start = subprocess.run([CLI, "start", str(REPO / "examples/workflows/dcs-online-redis-migration.yaml"),
                            "--config", cli_emulator["config"], "--inputs", str(inputs), "--run-id", "step-1",
                            "--secret", "source_password=shell-src-pw", "--secret", "target_password=shell-dst-pw"],
                           capture_output=True, text=True, timeout=60, env=env)
    assert start.returncode == 3, start.stdout + start.stderr
    # In advance mode each step does one unit and hands back: 3 (come back at next_wake_at) until the gate.
    codes = []
    for _ in range(100):
        p = subprocess.run([str(SHELL / "ferry-step"), "step-1"], capture_output=True, text=True, timeout=60, env=env)
        codes.append(p.returncode)
        if p.returncode != 3:
            break
        wake = json.loads(p.stdout).get("next_wake_at") or 0
        time.sleep(max(0.0, min(2.0, wake - time.time())))
    assert codes[0] == 3 and codes[-1] == 4, codes
    assert "ferry signal step-1 cutover" in p.stderr
    sig = subprocess.run([CLI, "signal", "step-1", "cutover", "--config", cli_emulator["config"]], capture_output=True,
                         text=True, timeout=60, env=env)
    assert sig.returncode == 4, sig.stdout + sig.stderr  # the signal waits for the next step to consume it
    done = subprocess.run([str(SHELL / "ferry-step"), "step-1"], capture_output=True, text=True, timeout=120,
                          env=dict(env, FERRY_MODE="drive", FERRY_BUDGET="60"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["status"] == "succeeded" and "succeeded" in done.stderr
    p = subprocess.run([str(SHELL / "ferry-step")], capture_output=True, text=True, timeout=60, env=env)
    assert p.returncode != 0 and "usage" in p.stderr


def test_workflow_language_documents_every_field() -> None:
    """Every key the parser accepts (Document.swift) is documented, so a new field cannot go unmentioned."""
    source = (REPO / "Sources" / "FerryRuntime" / "Workflow" / "Document.swift").read_text()
    keys = set()
    for name in ("topKeys", "stepKinds", "commonStepKeys", "kindKeys", "retryKeys"):
        m = re.search(rf"static let {name}[^=]*=\s*(\[.*?\])\n", source, re.S)
        assert m, f"Document.swift: {name} not found"
        keys |= set(re.findall(r'"([a-z_]+)"', m.group(1)))
    keys |= {"type", "default", "required", "description", "secret", "for", "until", "signal", "step", "attempt"}
    doc = (DOCS / "workflow-language.md").read_text()
    missing = sorted(k for k in keys if f"`{k}`" not in doc and f"`{k}:" not in doc and f"{{{k}:" not in doc)
    assert not missing, f"docs/workflow-language.md does not mention: {missing}"


def test_orchestrator_snippets_parse() -> None:
    """The Airflow and Argo snippets of bindings/shell/README.md are at least valid Python and YAML."""
    import yaml  # a dependency of the Huawei SDK core, installed with the test requirements

    readme = REPO / "bindings" / "shell" / "README.md"
    python = fenced(readme, "python")
    assert python
    for line, code, _ in python:
        compile(code, f"bindings/shell/README.md:{line}", "exec")
    argo = fenced(readme, "yaml")
    assert argo
    for line, code, _ in argo:
        assert isinstance(yaml.safe_load(code), list), f"bindings/shell/README.md:{line}"
    for line, code, _ in fenced(readme, "sh"):
        p = subprocess.run(["bash", "-n"], input=code, capture_output=True, text=True, timeout=30)
        assert p.returncode == 0, f"bindings/shell/README.md:{line}: {p.stderr}"


def test_relative_links_resolve() -> None:
    """Links between the docs, the runbooks and the bindings point at files that exist (anchors not checked)."""
    pages = [*DOCS.glob("*.md"), REPO / "examples" / "workflows" / "README.md", REPO / "bindings" / "shell" / "README.md",
             REPO / "bindings" / "python" / "examples" / "README.md"]
    broken = []
    for page in pages:
        for target in re.findall(r"\]\(([^)\s]+)\)", page.read_text()):
            if re.match(r"[a-z]+:", target) or target.startswith("#"):
                continue
            path = (page.parent / target.split("#", 1)[0]).resolve()
            if not path.exists():
                broken.append(f"{page.relative_to(REPO)} -> {target}")
    assert not broken, broken


# ---- secret inputs from a file or the environment (not argv) -----------------------------------------------------

# The expected values are spelled backwards so that the workflow (which the store keeps) does not hold the secrets.
SECRET_WORKFLOW = """ferry: 1
name: secret-sources
inputs:
  token: {type: string, secret: true}
  api_key: {type: string, secret: true}
steps:
  - id: check_token
    assert: "reverse(inputs.token) == 'eulav-terc3s-elif'"
  - id: check_key
    assert: "reverse(inputs.api_key) == 'eulav-terc3s-vne'"
"""


def test_secret_inputs_from_file_and_environment(tmp_path: Path) -> None:
    wf = tmp_path / "secret.yaml"
    wf.write_text(SECRET_WORKFLOW)
    secret_file = tmp_path / "token"
    secret_file.write_text("file-s3cret-value\n")  # the trailing newline an editor or `echo` leaves is dropped
    store = tmp_path / "runs.db"
    env = clean_env(FERRY_TEST_API_KEY="env-s3cret-value")
    common = ["--store", str(store), "--secret-file", f"token={secret_file}", "--secret-env", "api_key=FERRY_TEST_API_KEY"]
    start = subprocess.run([CLI, "start", str(wf), "--run-id", "s-1"] + common, capture_output=True, text=True,
                           timeout=60, env=env)
    assert start.returncode == 3, start.stdout + start.stderr
    drive = subprocess.run([CLI, "drive", "s-1", "--budget", "30"] + common, capture_output=True, text=True,
                           timeout=60, env=env)
    assert drive.returncode == 0, drive.stdout + drive.stderr
    assert json.loads(drive.stdout)["status"] == "succeeded"
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("runs.db*"))
    for text in (start.stdout + start.stderr, drive.stdout + drive.stderr):
        assert "s3cret-value" not in text
    assert b"s3cret-value" not in stored

    # A wrong value reaches the run as given: the assert fails (the check is real, not a pass-through).
    secret_file.write_text("other-value")
    subprocess.run([CLI, "start", str(wf), "--run-id", "s-2"] + common, capture_output=True, timeout=60, env=env)
    wrong = subprocess.run([CLI, "drive", "s-2", "--budget", "30"] + common, capture_output=True, text=True,
                           timeout=60, env=env)
    assert json.loads(wrong.stdout)["status"] == "failed", wrong.stdout + wrong.stderr

    # Usage errors name the flag and what is wrong; they never echo a value.
    unset = subprocess.run([CLI, "start", str(wf), "--store", str(store), "--secret-env", "api_key=FERRY_NOT_SET_X",
                            "--secret-file", f"token={secret_file}"], capture_output=True, text=True, timeout=60,
                           env=env)
    assert unset.returncode != 0 and "FERRY_NOT_SET_X is not set" in unset.stderr
    missing = subprocess.run([CLI, "start", str(wf), "--store", str(store), "--secret-file",
                              f"token={tmp_path / 'nope'}"], capture_output=True, text=True, timeout=60, env=env)
    assert missing.returncode != 0 and "--secret-file: cannot read" in missing.stderr
    twice = subprocess.run([CLI, "start", str(wf), "--store", str(store), "--secret", "token=a", "--secret-file",
                            f"token={secret_file}"], capture_output=True, text=True, timeout=60, env=env)
    assert twice.returncode != 0 and "'token' is given twice" in twice.stderr
