"""Pure helpers of the pages: a form's refusal reads in plain words beside the field
(web.present.in_words), never in the validator's ("String should have at least 3
characters"); ticket keys in a rendered report link to their tickets."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import BaseModel, Field, ValidationError

from dutydesk.web.present import in_words, link_ticket_keys
from tests.web.conftest import Web


class Form(BaseModel):
    title: str = Field(min_length=3, max_length=10)
    name: str = Field(min_length=1)
    on: date
    count: int = 0


def _first(**data: object) -> dict[str, object]:
    with pytest.raises(ValidationError) as caught:
        Form.model_validate({"title": "abc", "name": "x", "on": "2026-12-08", **data})
    return dict(caught.value.errors()[0])


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"title": "ab"}, "write at least 3 characters"),
        ({"title": "a" * 11}, "write at most 10 characters"),
        ({"name": ""}, "required"),
        ({"on": "someday"}, "give a date, e.g. 2026-12-08"),
        ({"count": "many"}, "give a whole number"),
    ],
)
def test_schema_refusals_in_words(data: dict[str, object], words: str) -> None:
    assert in_words(_first(**data)) == words


def test_a_missing_field_is_required() -> None:
    with pytest.raises(ValidationError) as caught:
        Form.model_validate({"title": "abc", "name": "x"})
    assert in_words(dict(caught.value.errors()[0])) == "required"


def test_the_filing_form_names_the_field_in_words(web: Web) -> None:
    rita = web.as_("rita")
    r = rita.post("/desks/infra/new", {"title": "ab"})
    assert r.status_code == 422
    assert "write at least 3 characters" in r.text
    assert "String should" not in r.text


def test_ticket_keys_in_rendered_markdown_become_links() -> None:
    html = (
        '<li>INFRA-75 Presubmit (P0)</li><li><a href="https://x/INFRA-9">INFRA-9</a></li>'
        "<li>SET-4 and INFRA-7x stay</li>"
    )
    assert link_ticket_keys(html, "infra") == (
        '<li><a href="/tickets/INFRA-75">INFRA-75</a> Presubmit (P0)</li>'
        '<li><a href="https://x/INFRA-9">INFRA-9</a></li>'
        "<li>SET-4 and INFRA-7x stay</li>"
    )
