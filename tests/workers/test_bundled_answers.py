"""The queue path is the same product as `wm query`: the real bundled model, workers on defaults.

A real redis-server, a real generation worker and a real sandbox worker, started with no model,
adapter or mode settings, so they answer with what a user gets by default: the bundled
SmolLM2 base, the bundled adapter and the mode recorded beside it. For questions from each of
the five generated families, `wm submit-query --wait --json` must give what `wm query --json`
gives in this process on the same question: the same generated text, executed answer, verdict,
mode, model and adapter; then once more with `--samples 3` (sampling is seeded, so the votes
must agree too). The greedy answers are also checked against the right answer: these are
test-split questions the bundled adapter answers correctly.

Both paths run their code in the process sandbox: what the sandbox backend changes is tested
elsewhere (`tests/sandbox`), and the generated text does not depend on it.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from harness import WM

# About 4.5 minutes on an idle 2-core machine (a real model answers 32 times on each path);
# the suite's default limit of 10 minutes is too tight on a loaded one.
pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(1800)]

CASES = [
    # (family, question, the right answer)
    (
        "arithmetic",
        "A store takes 35% off a chair priced at $130. How much does it cost now?",
        "84.5",
    ),
    (
        "advanced_math",
        "Find the scalar product of the vectors [-3, 10, -6] and [11, 13, -4].",
        "121",
    ),
    (
        "advanced_math",
        "If A is [[5, 5], [9, 5]] and B is [[-4, -1], [7, -3]], what matrix is A multiplied by B?",
        "[[15, -20], [-1, -24]]",
    ),
    (
        "text",
        'Our team project is called "hollow silver wizard". What would its capital-letter '
        "acronym be?",
        "HSW",
    ),
    (
        "text",
        'Write the sentence "The noisy valley looks at the rapid zebra" in uppercase.',
        "THE NOISY VALLEY LOOKS AT THE RAPID ZEBRA",
    ),
    ("data", "Work out the range of 217, 351, 308, 124, 770, 651, 119, 725.", "651"),
    ("system", "What is the number of days separating 1953-02-02 and 2019-11-12?", "24389"),
    ("system", 'write "Perth" to a file and check how many bytes it is', "5"),
]
QUESTIONS = [question for _, question, _ in CASES]

SAME = ("generated", "final", "claim", "mode", "model", "adapter", "verification", "vote")
"""What both paths must agree on (timings and sandbox details differ by nature)."""


def _in_process(env: dict[str, str], *options: str) -> list[dict[str, Any]]:
    """`wm query -i --json`: every question in one process, the model loaded once."""
    done = subprocess.run(
        [WM, "query", "-i", "--json", "--sandbox", "process", *options],
        input="\n".join(QUESTIONS) + "\n\n",
        env=env,
        capture_output=True,
        text=True,
        timeout=1500,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    decoder, text, answers, at = json.JSONDecoder(), done.stdout, [], 0
    while text[at:].strip():
        answer, at = decoder.raw_decode(text, len(text) - len(text[at:].lstrip()))
        answers.append(answer)
    assert [a["question"] for a in answers] == QUESTIONS
    return answers


def _through_the_queues(cluster: Any, *options: str) -> list[dict[str, Any]]:
    answers = []
    for question in QUESTIONS:
        done = subprocess.run(
            [WM, "submit-query", "--wait", "--json", "--timeout", "900", *options, question],
            env=cluster.env(),
            capture_output=True,
            text=True,
            timeout=960,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        answers.append(json.loads(done.stdout))
    return answers


def _compared(answer: dict[str, Any]) -> dict[str, Any]:
    executions = [
        {key: run[key] for key in ("stdout", "stderr", "exit_code", "timed_out")}
        for run in answer["executions"]
    ]
    return {key: answer[key] for key in SAME} | {"executions": executions}


@pytest.fixture()
def default_cluster(cluster: Any, bundled_home: Path) -> Any:
    """The cluster's Redis with workers on their defaults: no completer, model, adapter or
    mode setting (the harness's stand-in completer is taken out), the bundled model's home."""
    for stand_in in ("WM_COMPLETER", "WM_MODEL", "WM_ADAPTER", "WM_MODE"):
        cluster.settings.pop(stand_in, None)
    cluster.settings |= {
        "WM_HOME": str(bundled_home),
        "WM_GENERATE_TIME_LIMIT_S": "900",  # a loaded 2-core machine: minutes per batch
        "WM_VISIBILITY_TIMEOUT_S": "1800",
        "WM_BATCH_SIZE": "8",
    }
    cluster.start_pair()
    return cluster


def test_submit_query_answers_as_wm_query_does_with_the_bundled_model(default_cluster):
    env = default_cluster.env()
    from worldmodel.model.defaults import resolve_model

    default = resolve_model(None, None, None)
    assert default.adapter_dir is not None, "this checkout bundles no adapter"

    local = _in_process(env)
    queued = _through_the_queues(default_cluster)
    for (family, question, right), mine, theirs in zip(CASES, local, queued, strict=True):
        assert _compared(theirs) == _compared(mine), f"{family}: {question}"
        assert theirs["final"] == right, f"{family}: {question} -> {theirs['final']!r}"
        assert theirs["adapter"] == default.adapter_dir and theirs["mode"] == default.mode

    # The workers say what they answer with.
    listed = json.loads(
        subprocess.run(
            [WM, "workers", "--json"], env=env, capture_output=True, text=True, timeout=60
        ).stdout
    )
    (generation,) = [w for w in listed if w.get("kind") == "gpu"]
    assert generation["answers_with"] == default.describe()

    # Voting: three candidates, the two sampled ones seeded, so both paths vote alike.
    local = _in_process(env, "--samples", "3")
    queued = _through_the_queues(default_cluster, "--samples", "3")
    for (family, question, _), mine, theirs in zip(CASES, local, queued, strict=True):
        assert theirs["vote"] is not None and theirs["vote"]["samples"] == 3
        assert _compared(theirs) == _compared(mine), f"{family}: {question} (--samples 3)"
