from __future__ import annotations

import pytest

from tasks.errors import InvalidRequest
from tasks.requests import HistoryQuery, check_text, text_problem
from tasks.store.history import check_history_query


@pytest.mark.parametrize("text", ["a\x00b", "\ud800", "x\udfffy", "\udbff\udc00"])
def test_nul_and_surrogates_are_bad_text(text: str) -> None:
    problem = text_problem(text, "input.description")
    assert problem is not None
    assert (problem.field, problem.reason) == ("input.description", "BAD_TEXT")
    problem.message.encode()  # the message itself must be encodable


@pytest.mark.parametrize("text", [None, "", "make it night", "🌙 é 中文", "\U0010ffff"])
def test_ordinary_text_passes(text: str | None) -> None:
    assert text_problem(text, "search") is None
    check_text(text, "search")


def test_a_history_search_with_a_nul_is_refused() -> None:
    with pytest.raises(InvalidRequest) as caught:
        check_history_query(HistoryQuery(owner="o", search="a\x00"))
    assert caught.value.extensions["reason"] == "BAD_TEXT"
