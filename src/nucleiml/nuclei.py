"""Nuclei: the ``Nucleus`` value type, parsing of names like ``"208Pb"``, and named sets of nuclei.

A nucleus is identified by its proton number Z and neutron number N (mass number A = Z + N).
Accepted spellings of a single nucleus (case-insensitive element symbols)::

    "208Pb", "Pb208", "208pb", "pb-208", "Pb_208", (82, 126), Nucleus(82, 126)
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from numbers import Integral
from types import MappingProxyType

__all__ = [
    "ELEMENT_SYMBOLS",
    "NUCLEUS_SETS",
    "Nucleus",
    "NucleusError",
    "element_symbol",
    "parse_nuclei",
    "parse_nucleus",
    "proton_number",
]


class NucleusError(ValueError):
    """A nucleus specification cannot be interpreted (unknown element, bad mass number, bad Z or N)."""


# Element symbols indexed by Z - 1 (IUPAC, Z = 1 .. 118).
# fmt: off
ELEMENT_SYMBOLS: tuple[str, ...] = (
    "H", "He", "Li", "Be", "B", "C", "N", "O", "F", "Ne",
    "Na", "Mg", "Al", "Si", "P", "S", "Cl", "Ar", "K", "Ca",
    "Sc", "Ti", "V", "Cr", "Mn", "Fe", "Co", "Ni", "Cu", "Zn",
    "Ga", "Ge", "As", "Se", "Br", "Kr", "Rb", "Sr", "Y", "Zr",
    "Nb", "Mo", "Tc", "Ru", "Rh", "Pd", "Ag", "Cd", "In", "Sn",
    "Sb", "Te", "I", "Xe", "Cs", "Ba", "La", "Ce", "Pr", "Nd",
    "Pm", "Sm", "Eu", "Gd", "Tb", "Dy", "Ho", "Er", "Tm", "Yb",
    "Lu", "Hf", "Ta", "W", "Re", "Os", "Ir", "Pt", "Au", "Hg",
    "Tl", "Pb", "Bi", "Po", "At", "Rn", "Fr", "Ra", "Ac", "Th",
    "Pa", "U", "Np", "Pu", "Am", "Cm", "Bk", "Cf", "Es", "Fm",
    "Md", "No", "Lr", "Rf", "Db", "Sg", "Bh", "Hs", "Mt", "Ds",
    "Rg", "Cn", "Nh", "Fl", "Mc", "Lv", "Ts", "Og",
)
# fmt: on

Z_MAX = len(ELEMENT_SYMBOLS)  # 118
N_MAX = 300
"""Largest neutron number accepted (well beyond any drip line)."""

_Z_OF_SYMBOL = MappingProxyType({s.lower(): z for z, s in enumerate(ELEMENT_SYMBOLS, start=1)})

_MASS_FIRST = re.compile(r"^(\d+)\s*[-_]?\s*([A-Za-z]{1,3})$")  # "208Pb", "208-pb"
_SYMBOL_FIRST = re.compile(r"^([A-Za-z]{1,3})\s*[-_]?\s*(\d+)$")  # "Pb208", "pb-208"

_ACCEPTED = "'208Pb', 'Pb208', 'pb-208', a (Z, N) tuple of integers or a Nucleus"


def _check_int(name: str, value: object, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise NucleusError(
            f"{name} must be an integer in [{lo}, {hi}], got {value!r} ({type(value).__name__})"
        )
    v = int(value)
    if not lo <= v <= hi:
        raise NucleusError(f"{name} = {v} is outside the allowed range [{lo}, {hi}]")
    return v


def proton_number(symbol: str) -> int:
    """Return Z for an element symbol (case-insensitive, e.g. ``"pb"`` -> 82)."""
    if not isinstance(symbol, str):
        raise NucleusError(f"element symbol must be a string, got {symbol!r}")
    try:
        return _Z_OF_SYMBOL[symbol.strip().lower()]
    except KeyError:
        raise NucleusError(f"unknown element symbol {symbol!r} (known: H .. Og, Z = 1 .. {Z_MAX})") from None


def element_symbol(Z: int) -> str:
    """Return the element symbol for proton number ``Z`` in [1, 118]."""
    return ELEMENT_SYMBOLS[_check_int("Z", Z, 1, Z_MAX) - 1]


@dataclass(frozen=True, order=True)
class Nucleus:
    """A nucleus with ``Z`` protons and ``N`` neutrons (ordered by Z, then N).

    Attributes
    ----------
    Z : proton number, 1 .. 118.
    N : neutron number, 0 .. 300.
    """

    Z: int
    N: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "Z", _check_int("Z", self.Z, 1, Z_MAX))
        object.__setattr__(self, "N", _check_int("N", self.N, 0, N_MAX))

    @property
    def A(self) -> int:
        """Mass number Z + N."""
        return self.Z + self.N

    @property
    def symbol(self) -> str:
        """Element symbol, e.g. ``"Pb"``."""
        return ELEMENT_SYMBOLS[self.Z - 1]

    @property
    def name(self) -> str:
        """Conventional name, mass number first, e.g. ``"208Pb"``."""
        return f"{self.A}{self.symbol}"

    def __str__(self) -> str:
        return self.name

    @classmethod
    def from_symbol(cls, symbol: str, A: int) -> Nucleus:
        """Build from an element symbol and a mass number, e.g. ``Nucleus.from_symbol("Pb", 208)``."""
        Z = proton_number(symbol)
        sym = ELEMENT_SYMBOLS[Z - 1]
        if isinstance(A, bool) or not isinstance(A, Integral):
            raise NucleusError(
                f"mass number A must be an integer in [{Z}, {Z + N_MAX}] for {sym}, got {A!r} ({type(A).__name__})"
            )
        A = int(A)
        if A < Z:
            raise NucleusError(
                f"mass number A = {A} is smaller than Z = {Z} for {sym}; need A in [{Z}, {Z + N_MAX}]"
            )
        if A > Z + N_MAX:
            raise NucleusError(
                f"mass number A = {A} is outside the allowed range [{Z}, {Z + N_MAX}] for {sym} (N <= {N_MAX})"
            )
        return cls(Z, A - Z)


def parse_nucleus(x: object) -> Nucleus:
    """Interpret ``x`` as a nucleus.

    Accepts a ``Nucleus``, a ``(Z, N)`` pair of integers, or a string with the mass number before or after
    a case-insensitive element symbol, optionally separated by ``-`` or ``_``: ``"208Pb"``, ``"Pb208"``,
    ``"208pb"``, ``"pb-208"``. Raises ``NucleusError`` (a ``ValueError``) otherwise.
    """
    if isinstance(x, Nucleus):
        return x
    if isinstance(x, str):
        text = x.strip()
        m = _MASS_FIRST.match(text)
        if m:
            mass, symbol = m.groups()
        else:
            m = _SYMBOL_FIRST.match(text)
            if not m:
                raise NucleusError(f"cannot interpret {x!r} as a nucleus; expected {_ACCEPTED}")
            symbol, mass = m.groups()
        try:
            return Nucleus.from_symbol(symbol, int(mass))
        except NucleusError as exc:
            raise NucleusError(f"nucleus {text!r}: {exc}") from None
    if isinstance(x, tuple | list) and len(x) == 2:
        return Nucleus(*x)
    raise NucleusError(f"cannot interpret {x!r} as a nucleus; expected {_ACCEPTED}")


def _nuclei(*names: str) -> tuple[Nucleus, ...]:
    return tuple(parse_nucleus(n) for n in names)


_PAPER = _nuclei("16O", "40Ca", "48Ca", "132Sn", "208Pb")
_SET1 = (*_PAPER, *_nuclei("24O", "58Ca", "78Ni"))
_SET2 = (*_SET1, *_nuclei("68Ni", "90Zr"))

NUCLEUS_SETS: MappingProxyType[str, tuple[Nucleus, ...]] = MappingProxyType(
    {
        # The five closed-shell nuclei used for training in the seed paper (Veneti et al., NucleiML).
        "paper": _PAPER,
        # Paper set plus neutron-rich doubly-magic candidates.
        "set1": _SET1,
        # set1 plus two further (sub)shell closures.
        "set2": _SET2,
    }
)
"""Named sets of nuclei, resolvable by name (case-insensitive) through ``parse_nuclei``."""

_SEPARATORS = re.compile(r"[,;\s]+")


def parse_nuclei(spec: object) -> tuple[Nucleus, ...]:
    """Interpret ``spec`` as an ordered tuple of distinct nuclei.

    ``spec`` may be a string of items separated by commas, semicolons or whitespace
    (``"16O,40Ca,208Pb"``), or an iterable of items. Each item is a set name from ``NUCLEUS_SETS``
    (``"paper"``, ``"set1"``, ``"set2"``; case-insensitive) or anything ``parse_nucleus`` accepts. A single
    ``Nucleus`` or ``(Z, N)`` pair of integers is one nucleus. Duplicates are dropped, keeping the first
    occurrence, so ``"paper,90Zr,208Pb"`` is the paper set plus 90Zr.
    """
    if isinstance(spec, Nucleus) or (
        isinstance(spec, tuple)
        and len(spec) == 2
        and all(isinstance(v, Integral) and not isinstance(v, bool) for v in spec)
    ):
        return (parse_nucleus(spec),)
    if isinstance(spec, str):
        items: list[object] = [t for t in _SEPARATORS.split(spec.strip()) if t]
    elif isinstance(spec, Iterable):
        items = list(spec)
    else:
        raise NucleusError(
            f"cannot interpret {spec!r} as a list of nuclei; expected e.g. '16O,40Ca,208Pb' or 'paper'"
        )
    result: dict[Nucleus, None] = {}
    for item in items:
        key = item.strip().lower() if isinstance(item, str) else None
        if key is not None and key in NUCLEUS_SETS:
            result.update(dict.fromkeys(NUCLEUS_SETS[key]))
        else:
            try:
                result[parse_nucleus(item)] = None
            except NucleusError as exc:
                if isinstance(item, str) and item.strip().isalpha():
                    raise NucleusError(
                        f"{item!r} is neither a nucleus nor a known set of nuclei (sets: {', '.join(NUCLEUS_SETS)})"
                    ) from None
                raise exc from None
    if not result:
        raise NucleusError(f"no nuclei given in {spec!r}; expected e.g. '16O,40Ca,208Pb' or 'paper'")
    return tuple(result)
