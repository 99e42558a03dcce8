"""The snapshot extension's rules: dataset names by order, numbers to a relative 1e-4."""

from tests.conftest import CentralSnapshots


def matches(new: str, old: str) -> bool:
    return CentralSnapshots.matches(CentralSnapshots, serialized_data=new, snapshot_data=old)


def test_numbers_match_within_a_relative_1e_4_and_text_exactly():
    assert matches("'clv': 116.16738780487975,", "'clv': 116.16665485246405,")
    assert matches("'share': 0.12440396424092258", "'share': 0.12440396424092254")
    assert not matches("'clv': 116.2,", "'clv': 116.16665485246405,")
    assert not matches("'clv': 116.2,", "'cltv': 116.2,")
    assert not matches("'a': 1, 'b': 2", "'a': 1")


def test_dataset_hashes_are_named_by_order():
    text = CentralSnapshots().serialize(
        {"x": "data-847d4ce72534c7a1a2bddb85e7e40b81", "y": "data-dde926538fd2d04fed51649b6bc918b9"}
    )
    assert "data-0" in text and "data-1" in text and "847d4" not in text
