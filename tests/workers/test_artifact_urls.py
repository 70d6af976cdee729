"""Which artifact-store URLs a worker opens: only the stores its settings name.

A training job names its store (`artifacts`) and a query its adapter (`adapter`), and whoever
can publish a job chooses both. A worker opens a URL only when it lies under its `artifacts`
setting (WM_ARTIFACTS) or a store listed in `artifact_stores` (WM_ARTIFACT_STORES), and never
one with a `..` path part (written out or percent-encoded, once or twice). Every refusal names
the URL and the setting that allows stores. Runs on `file://` stores: no server needed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from workers.artifacts import ArtifactError, ArtifactStore, local_adapter
from workers.settings import load_settings
from worldmodel.errors import ConfigError

GOOD = {"WM_BROKER_URL": "redis://:secret@10.0.0.5:6379/0"}


def allowed(**env: str) -> list[str]:
    return load_settings(GOOD | env).allowed_stores()


def refusal(call, url: str) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(ArtifactError) as caught:
        call()
    message = str(caught.value)
    assert url in message
    assert "WM_ARTIFACT_STORES" in message and "WM_ARTIFACTS" in message
    return message


@pytest.mark.parametrize(
    "url",
    [
        "s3://theirs/store/job1/adapter",  # another bucket
        "gcs://ours/store/job1/adapter",  # another scheme, same name
        "sftp://evil.example/store/job1/adapter",  # a host of its choosing
        "s3://ours/store-evil/job1/adapter",  # a prefix of the store's path is not the store
        "s3://ours/job1/adapter",  # above the store's folder
        "file:///etc/job1/adapter",  # this box's own files
        "simplecache::s3://ours/store/job1/adapter",  # fsspec chaining
        "s3://ours/store/job1/adapter?versionId=1",  # options the store does not name
    ],
)
def test_a_url_outside_the_listed_stores_is_refused(url: str) -> None:
    stores = allowed(WM_ARTIFACTS="s3://ours/store")
    refusal(lambda: local_adapter(url, stores=stores), url)
    refusal(lambda: ArtifactStore(url, stores=stores), url)


@pytest.mark.parametrize(
    "url",
    [
        "s3://ours/store/../theirs/job1/adapter",
        "s3://ours/store/job1/..",
        "s3://ours/store/%2e%2e/theirs/adapter",
        "s3://ours/store/%2E%2e/theirs/adapter",
        "s3://ours/store/%252e%252e/theirs/adapter",  # encoded twice
        "s3://ours/store/./job1/adapter",
    ],
)
def test_a_dot_dot_path_part_is_refused_even_under_a_listed_store(url: str) -> None:
    stores = allowed(WM_ARTIFACTS="s3://ours/store")
    message = refusal(lambda: local_adapter(url, stores=stores), url)
    assert "'..' or '.' path part" in message


def test_a_job_id_that_climbs_out_of_the_store_is_refused(tmp_path: Path) -> None:
    for url in (f"file://{tmp_path}/store", str(tmp_path / "store")):
        store = ArtifactStore(url, stores=[url], staging=tmp_path / "staging")
        for job_id in ("..", "../elsewhere", "a/../../b", "%2e%2e", ""):
            with pytest.raises(ArtifactError, match="job id"):
                store.run_dir(job_id)


def test_a_listed_store_still_serves_adapters_and_checkpoints(
    tmp_path: Path, wm_home: Path
) -> None:
    ours, extra = tmp_path / "ours", tmp_path / "extra"
    stores = allowed(WM_ARTIFACTS=f"file://{ours}", WM_ARTIFACT_STORES=f"file://{extra}/")
    assert stores == [f"file://{ours}", f"file://{extra}/"]
    for root in (ours, extra):
        (root / "job1" / "adapter").mkdir(parents=True)
        (root / "job1" / "adapter" / "adapter_config.json").write_text(f'{{"in": "{root.name}"}}')
        fetched = local_adapter(f"file://{root}/job1/adapter", stores=stores)
        assert (fetched / "adapter_config.json").read_text() == f'{{"in": "{root.name}"}}'
    store = ArtifactStore(f"file://{ours}", stores=stores, staging=tmp_path / "staging")
    checkpoint = store.run_dir("job2") / "checkpoints" / "step-0000002"
    checkpoint.mkdir(parents=True)
    (checkpoint / "state.json").write_text('{"step": 2}')
    store.push("job2")
    assert (ours / "job2" / "checkpoints" / "step-0000002" / "state.json").is_file()
    # A plain path (the box's own folder, as `wm submit-query --adapter DIR` sends) is no URL.
    assert local_adapter(str(ours / "job1" / "adapter"), stores=stores) == ours / "job1/adapter"


def test_a_listed_store_that_is_no_url_is_a_settings_error() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(GOOD | {"WM_ARTIFACT_STORES": "s3://fine/store, not-a-url, s3://b/../x"})
    message = str(caught.value)
    assert "artifact_stores: 'not-a-url' is not a store URL" in message
    assert "artifact_stores: 's3://b/../x' has a '..' or '.' path part" in message
