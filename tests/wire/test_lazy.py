"""wire.lazy.LoadingDict: a missing known key is loaded on read, enumeration loads everything first."""

import pytest

from wire.lazy import LoadingDict


def make():
    loaded = []
    source = {1: "one", 2: "two", 3: "three"}

    def load(key):
        loaded.append(key)
        dict.__setitem__(table, key, source[key])

    def load_all():
        for key in source:
            if not dict.__contains__(table, key):
                load(key)

    table = LoadingDict(source, load, load_all)
    return table, loaded


def test_reading_a_key_loads_only_it():
    table, loaded = make()
    assert 2 in table and loaded == []
    assert table[2] == "two" and table.get(1) == "one" and loaded == [2, 1]
    assert table[2] == "two" and loaded == [2, 1]  # once


def test_unknown_keys_are_missing_without_loading():
    table, loaded = make()
    assert table.get(9) is None and 9 not in table
    with pytest.raises(KeyError):
        table[9]
    assert loaded == []


def test_enumerating_loads_everything():
    table, loaded = make()
    assert len(table) == 3 and sorted(loaded) == [1, 2, 3]
    table2, _ = make()
    assert sorted(table2.items()) == [(1, "one"), (2, "two"), (3, "three")]
    table3, _ = make()
    assert sorted(table3) == [1, 2, 3] and sorted(table3.values()) == ["one", "three", "two"]
