"""Property-based checks of flow control's pure rules: free slots, the release order, and the
weighted round-robin's shares and starvation bound."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.errors import ValidationError
from domain.flow import (
    Concurrency,
    ConcurrencyRule,
    free_slots,
    release_rank,
    starvation_bound,
    weighted_round_robin,
)
from tests.factories import T0

OWNERS = st.sampled_from(["ann", "bob", "cy", "dee"])
WEIGHTS = st.dictionaries(OWNERS, st.integers(min_value=1, max_value=5))
BACKLOGS = st.dictionaries(OWNERS, st.integers(min_value=0, max_value=40), min_size=1)


@given(limit=st.integers(1, 10), holders=st.integers(0, 20))
def test_free_slots_never_exceed_the_limit_nor_go_negative(limit: int, holders: int) -> None:
    free = free_slots(limit, holders)

    assert 0 <= free <= limit
    assert holders + free <= max(limit, holders)
    assert free == 0 or holders + free == limit


@given(
    st.lists(st.tuples(st.sampled_from(["high", "normal", "low"]), st.integers(0, 100)), min_size=2)
)
def test_release_order_is_priority_first_then_age(tasks: list[tuple[str, int]]) -> None:
    ordered = sorted(tasks, key=lambda t: release_rank(t[0], T0 + timedelta(seconds=t[1])))

    ranks = [["high", "normal", "low"].index(p) for p, _ in ordered]
    assert ranks == sorted(ranks)
    for (p1, age1), (p2, age2) in itertools.pairwise(ordered):
        assert p1 != p2 or age1 <= age2


@given(backlogs=BACKLOGS, weights=WEIGHTS, count=st.integers(0, 200))
def test_round_robin_releases_only_what_is_held_and_as_much_as_asked(
    backlogs: dict[str, int], weights: dict[str, int], count: int
) -> None:
    chosen = weighted_round_robin(backlogs, weights, count)

    assert len(chosen) == min(count, sum(backlogs.values()))
    assert all(n <= backlogs[owner] for owner, n in Counter(chosen).items())


@settings(max_examples=300)
@given(backlogs=BACKLOGS, weights=WEIGHTS)
def test_between_two_releases_of_a_waiting_owner_others_get_at_most_the_bound(
    backlogs: dict[str, int], weights: dict[str, int]
) -> None:
    chosen = weighted_round_robin(backlogs, weights, sum(backlogs.values()))

    for owner, held in backlogs.items():
        if not held:
            continue
        bound = starvation_bound(weights, owner, backlogs)
        gap = 0
        released = 0
        for picked in chosen:
            if released == held:
                break
            if picked == owner:
                released += 1
                gap = 0
            else:
                gap += 1
                assert gap <= bound, (owner, chosen)


@given(weights=WEIGHTS, rounds=st.integers(1, 10))
def test_owners_with_long_backlogs_share_in_proportion_to_their_weights(
    weights: dict[str, int], rounds: int
) -> None:
    owners = ["ann", "bob", "cy"]
    total = sum(max(1, weights.get(o, 1)) for o in owners)
    backlogs = dict.fromkeys(owners, 1000)

    chosen = Counter(weighted_round_robin(backlogs, weights, total * rounds))

    assert chosen == {o: max(1, weights.get(o, 1)) * rounds for o in owners}


def test_a_concurrency_key_from_an_argument_carries_the_scope() -> None:
    rule = ConcurrencyRule(scope="model", argument="model_id")

    assert rule.concurrency({"model_id": "m-1"}, None) == Concurrency("model:m-1", 1)
    assert rule.concurrency({}, None) is None


@pytest.mark.parametrize(
    ("rule", "explicit", "message"),
    [
        (ConcurrencyRule(scope="x"), "k", "does not take a concurrency_key"),
        (ConcurrencyRule(scope="x", explicit_key=True), "   ", "must not be blank"),
        (ConcurrencyRule(scope="x", explicit_key=True), "k" * 201, "at most 200"),
        (ConcurrencyRule(scope="x", explicit_key=True), "a\x00b", "control"),
    ],
)
def test_an_explicit_key_the_rule_refuses_names_the_field(
    rule: ConcurrencyRule, explicit: str, message: str
) -> None:
    with pytest.raises(ValidationError) as raised:
        rule.concurrency({}, explicit)

    assert raised.value.field == "concurrency_key"
    assert message in str(raised.value)
