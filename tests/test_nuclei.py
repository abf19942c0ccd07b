"""Nucleus value type, name parsing and named sets."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nucleiml import NUCLEUS_SETS, Nucleus, NucleusError, parse_nuclei, parse_nucleus
from nucleiml.nuclei import ELEMENT_SYMBOLS, element_symbol, proton_number

PB208 = Nucleus(82, 126)


def test_nucleus_properties():
    assert PB208.A == 208
    assert PB208.symbol == "Pb"
    assert PB208.name == "208Pb"
    assert str(PB208) == "208Pb"
    assert Nucleus(1, 0).name == "1H"
    assert Nucleus(118, 176).symbol == "Og"


def test_nucleus_is_frozen_hashable_and_ordered():
    with pytest.raises(AttributeError):
        PB208.Z = 1  # type: ignore[misc]
    assert len({PB208, Nucleus(82, 126)}) == 1
    assert sorted([PB208, Nucleus(8, 8), Nucleus(20, 28), Nucleus(20, 20)]) == [
        Nucleus(8, 8),
        Nucleus(20, 20),
        Nucleus(20, 28),
        PB208,
    ]


@pytest.mark.parametrize(
    "spec",
    [
        "208Pb",
        "Pb208",
        "208pb",
        "pb-208",
        "PB208",
        " 208Pb ",
        "Pb_208",
        "208-Pb",
        (82, 126),
        [82, 126],
        PB208,
    ],
)
def test_parse_nucleus_spellings(spec):
    assert parse_nucleus(spec) == PB208


def test_parse_nucleus_accepts_numpy_integers():
    np = pytest.importorskip("numpy")
    assert parse_nucleus((np.int64(82), np.int32(126))) == PB208


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ("208Xx", "unknown element symbol 'Xx'"),
        ("Pb", "cannot interpret"),
        ("208", "cannot interpret"),
        ("", "cannot interpret"),
        ("20Pb", "A = 20 is smaller than Z = 82"),
        ("0O", "A = 0"),
        ("999Pb", "nucleus '999Pb': mass number A = 999 is outside the allowed range [82, 382] for Pb"),
        ((82, 301), "N = 301 is outside the allowed range [0, 300]"),
        ((0, 8), "Z = 0 is outside the allowed range [1, 118]"),
        ((119, 180), "Z = 119"),
        ((8, -1), "N = -1"),
        ((8.0, 8), "Z must be an integer"),
        ((True, 8), "Z must be an integer"),
        (3.5, "cannot interpret"),
        (None, "cannot interpret"),
        ((8, 8, 8), "cannot interpret"),
    ],
)
def test_parse_nucleus_errors(spec, fragment):
    with pytest.raises(NucleusError) as info:
        parse_nucleus(spec)
    assert fragment in str(info.value)
    assert isinstance(info.value, ValueError)


def test_element_table():
    assert len(ELEMENT_SYMBOLS) == 118
    assert len({s.lower() for s in ELEMENT_SYMBOLS}) == 118  # case-insensitive lookup is unambiguous
    for symbol, z in [
        ("H", 1),
        ("O", 8),
        ("Ca", 20),
        ("Ni", 28),
        ("Zr", 40),
        ("Sn", 50),
        ("Pb", 82),
        ("U", 92),
    ]:
        assert proton_number(symbol) == z
        assert proton_number(symbol.upper()) == z
        assert element_symbol(z) == symbol
    with pytest.raises(NucleusError, match="Z = 0"):
        element_symbol(0)


@given(st.integers(1, 118), st.integers(0, 300))
def test_name_round_trip(Z, N):
    nuc = Nucleus(Z, N)
    assert parse_nucleus(nuc.name) == nuc
    assert parse_nucleus(f"{nuc.symbol.lower()}-{nuc.A}") == nuc


def test_parse_nuclei_list():
    assert parse_nuclei("16O,40Ca,208Pb") == (Nucleus(8, 8), Nucleus(20, 20), PB208)
    assert parse_nuclei("16O; 40Ca  208Pb") == parse_nuclei(["16O", (20, 20), PB208])
    assert parse_nuclei(PB208) == (PB208,)
    assert parse_nuclei((82, 126)) == (PB208,)


def test_named_sets():
    paper = parse_nuclei("paper")
    assert [n.name for n in paper] == ["16O", "40Ca", "48Ca", "132Sn", "208Pb"]
    assert [n.name for n in parse_nuclei("set1")] == [n.name for n in paper] + ["24O", "58Ca", "78Ni"]
    assert [n.name for n in parse_nuclei("SET2")][-2:] == ["68Ni", "90Zr"]
    assert len(NUCLEUS_SETS["set2"]) == 10
    assert parse_nuclei("paper,90Zr,208Pb") == (*paper, Nucleus(40, 50))  # duplicates dropped
    with pytest.raises(TypeError):
        NUCLEUS_SETS["mine"] = ()  # type: ignore[index]


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ("", "no nuclei given"),
        (" , ", "no nuclei given"),
        ([], "no nuclei given"),
        ("papers", "neither a nucleus nor a known set of nuclei (sets: paper, set1, set2)"),
        ("16O,208Xx", "unknown element symbol 'Xx'"),
        (42, "cannot interpret 42 as a list of nuclei"),
    ],
)
def test_parse_nuclei_errors(spec, fragment):
    with pytest.raises(NucleusError) as info:
        parse_nuclei(spec)
    assert fragment in str(info.value)
