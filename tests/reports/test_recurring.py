"""Recurring requests read as a person asking "would I automate this?" would: clusters of
requests that are really alike, named by words that say what they are about."""

from __future__ import annotations

from datetime import UTC, datetime

from dutydesk.policy.models import DeskPolicy, Prompt
from dutydesk.reports.recurring import Doc, cluster, defining_words, template_stems, title_stems

T0 = datetime(2026, 11, 23, tzinfo=UTC)


def docs(*titles: str, boilerplate: frozenset[str] = frozenset()) -> list[Doc]:
    out = []
    for i, t in enumerate(titles):
        st, spelled = title_stems(t, boilerplate)
        out.append(Doc(i, i + 1, t, "New", None, T0, None, st, spelled))
    return out


def clustered_titles(ds: list[Doc]) -> list[set[str]]:
    return [{ds[i].title for i in g} for g in cluster(ds)]


def test_near_identical_requests_with_different_ids_cluster_together() -> None:
    ds = docs(
        "Rotate the uploader key for bot mac-14 (build 8f3a9c1e, v10.2)",
        "Rotate the uploader key for bot linux-arm-3 (build 8f3a9c1e)",
        "Rotate the uploader key for bot pixel-7-2, ticket 48213",
        "Rotate the uploader key for bot win-9 (v10.2, ticket 48213)",
        "Grant the docs team access to the signing bucket",
    )
    (group,) = cluster(ds)
    assert sorted(group) == [0, 1, 2, 3]
    _, words, core = defining_words(ds, group)
    assert set(core) == {"rotate", "uploader", "key", "bot"}
    # ids, hashes, versions and numbers never name a cluster
    assert not {"8f3a9c1e", "48213", "v10", "14"} & set(words)


def test_requests_sharing_two_words_but_not_the_request_stay_apart() -> None:
    ds = docs(
        "Add a LUCI builder for mac web engine",
        "Add a LUCI builder for linux web engine",
        "Add a LUCI builder for android web engine",
        "Increase the disk quota for the web release builders",
        "Increase the disk quota for the mac web release builders",
        "Increase the disk quota for the linux web release builders",
    )
    groups = clustered_titles(ds)
    assert len(groups) == 2
    assert {ds[i].title for i in (0, 1, 2)} in groups
    assert {ds[i].title for i in (3, 4, 5)} in groups


def test_a_shared_prefix_does_not_make_different_escalations_one_cluster() -> None:
    ds = docs(
        "Customer escalation: SSO login loop for Hooli",
        "Customer escalation: SSO login loop for Acme Corp",
        "Customer escalation: SSO login loop for Initech",
        "Customer escalation: bulk import fails for Umbrella",
        "Customer escalation: bulk import fails for Hooli",
        "Customer escalation: bulk import fails for Initech",
        "Customer escalation: push notifications arrive twice for Acme Corp",
        "Emoji picker freezes with many custom emoji",
        "Playbook run timeline shows times in the wrong zone",
        "Remove the deprecated plugin API shims",
    )
    groups = clustered_titles(ds)
    assert {ds[i].title for i in (0, 1, 2)} in groups
    assert {ds[i].title for i in (3, 4, 5)} in groups
    assert len(groups) == 2


def test_generic_words_alone_do_not_define_a_cluster() -> None:
    ds = docs(
        "Parquet schema evolution doesn't work",
        "Lineage doesn't work with dynamic partitions",
        "Alter table rename doesn't work",
        "Fix issue with the metrics sink",
        "Fix issue in the block scanner",
        "Fix issue with zkfc hang",
    )
    assert cluster(ds) == []


def test_class_names_count_without_their_package_path() -> None:
    _, spelled = title_stems("java.lang.RuntimeException in org.apache.storm.kafka.KafkaSpout")
    assert set(spelled.values()) == {"runtimeexception", "kafkaspout"}
    ds = docs(
        "java.lang.ClassCastException while removing a subscriber",
        "java.lang.IllegalArgumentException: comparison method violates its contract",
        "java.lang.OutOfMemoryError in the history server",
    )
    assert cluster(ds) == []  # "java lang" is where the class lives, not a topic


def test_the_desk_template_does_not_define_clusters() -> None:
    spec = DeskPolicy(
        columns=["To do", "Done"],
        prompts=[
            Prompt(heading="Steps to reproduce", hint="numbered steps"),
            Prompt(heading="Expected"),
            Prompt(heading="Actual"),
        ],
    )
    boilerplate = template_stems(spec)
    titles = (
        "Steps to reproduce expected actual: emoji picker freezes",
        "Steps to reproduce expected actual: search misses quoted phrases",
        "Steps to reproduce expected actual: push notifications arrive twice",
        "Steps to reproduce expected actual: timeline shows wrong zone",
    )
    assert cluster(docs(*titles, boilerplate=boilerplate)) == []
    st, _ = title_stems(titles[0], boilerplate)
    assert not {"step", "reproduc", "expect", "actual"} & st
