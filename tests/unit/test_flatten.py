from __future__ import annotations

import pytest

from cbslocal.gateway.flatten import FlattenError, unflatten


def test_rebuilds_lists_and_objects():
    pairs = [("DiskIds.0", "d1"), ("DiskIds.1", "d2"), ("Filters.0.Name", "zone"),
             ("Filters.0.Values.0", "ap-guangzhou-3"), ("Filters.0.Values.1", "ap-guangzhou-4"),
             ("Placement.Zone", "z"), ("Limit", "20")]
    assert unflatten(pairs) == {
        "DiskIds": ["d1", "d2"],
        "Filters": [{"Name": "zone", "Values": ["ap-guangzhou-3", "ap-guangzhou-4"]}],
        "Placement": {"Zone": "z"}, "Limit": "20"}


def test_indices_in_any_order_become_an_ordered_list():
    assert unflatten([("A.1", "b"), ("A.0", "a"), ("A.10", "k")] + [(f"A.{i}", str(i)) for i in range(2, 10)]) == {
        "A": ["a", "b", "2", "3", "4", "5", "6", "7", "8", "9", "k"]}


@pytest.mark.parametrize("pairs", [
    [("A.0", "x"), ("A.2", "y")],            # sparse
    [("A.0", "x"), ("A.00", "y")],           # the same index twice
    [("A", "x"), ("A.0", "y")],              # a value and a list
    [("A.0", "x"), ("A", "y")],
    [("A.0", "x"), ("A.b", "y")],            # list and object at once
    [("A..b", "x")], [(".A", "x")], [("A.", "x")], [("0", "x")],
    [("A.b.c.d.e.f.g.h.i", "x")],            # too deep
    [("A.99999999", "x")],                   # huge index
    [("A", "x"), ("A", "y")],
])
def test_malformed_names_are_refused(pairs):
    with pytest.raises(FlattenError):
        unflatten(pairs)


def test_values_stay_strings():
    assert unflatten([("Shareable", "True"), ("DiskSize", "10")]) == {"Shareable": "True", "DiskSize": "10"}


def test_only_ascii_digits_are_indices():
    # "²" and "٣" are digits to str.isdigit(), but no client writes them: they are field names,
    # which the action's schema then refuses.
    assert unflatten([("A.\u00b2", "x"), ("B.\u0663", "y")]) == {"A": {"\u00b2": "x"}, "B": {"\u0663": "y"}}


def test_an_index_of_thousands_of_digits_is_refused():
    with pytest.raises(FlattenError):
        unflatten([("A." + "9" * 5000, "x")])
