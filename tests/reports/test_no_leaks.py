"""Reports read by a whole desk or channel quote no internal comment, whoever asks for them."""

from __future__ import annotations

from tests.conftest import Api, ManualClock

SECRET = "xylophonist"


def test_status_post_agendas_and_handoff_never_quote_internal_notes(
    api: Api, clock: ManualClock
) -> None:
    keys = []
    for title, extra in (("Crash on login", {"kind": "bug"}), ("Ask about push", {})):
        key = api.file("rita", desk="set", title=title, **extra)["key"]
        keys.append(key)
        note = {"body": f"internal: the {SECRET} account is involved", "public": False}
        assert api.post("finn", f"/api/v1/tickets/{key}/comments", note).status_code == 201
    infra = api.file("rita", title="Builder is slow")["key"]
    note = {"body": f"{SECRET} again", "public": False}
    assert api.post("ana", f"/api/v1/tickets/{infra}/comments", note).status_code == 201
    r = api.post("eva", f"/api/v1/tickets/{keys[0]}/triage", {"priority": "P1", "assignee": "finn"})
    assert r.status_code == 200, r.text
    assert (
        api.post("finn", f"/api/v1/tickets/{keys[0]}/move", {"to": "In progress"}).status_code
        == 200
    )
    clock.advance(hours=2)

    reads = {
        "status post": ("/api/v1/desks/set/status-post", {}),
        "triage agenda": ("/api/v1/desks/set/agenda", {"meeting": "triage"}),
        "status agenda": ("/api/v1/desks/set/agenda", {"meeting": "status"}),
        "infra agenda": ("/api/v1/desks/infra/agenda", {"meeting": "weekly-triage"}),
        "set handoff": ("/api/v1/desks/set/handoff", {"format": "markdown"}),
        "infra handoff": ("/api/v1/desks/infra/handoff", {"format": "markdown"}),
        "infra handoff json": ("/api/v1/desks/infra/handoff", {}),
        "on-call triage": ("/api/v1/desks/infra/triage", {}),
    }
    seen_keys = ""
    for what, (path, params) in reads.items():
        for user in ("rita", "eva", "admin"):
            r = api.req(user, "GET", path, params=params)
            assert r.status_code == 200, (what, r.text)
            assert SECRET not in r.text, what
            seen_keys += r.text
    # The reports did list these tickets: the absence of the note is not an empty report.
    assert all(k in seen_keys for k in (*keys, infra))
