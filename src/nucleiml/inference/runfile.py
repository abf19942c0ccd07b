"""Run files of ``nucleiml infer``: one TOML file fixes the data, the likelihood, the prior, the model and
the sampler; :func:`load_run_config` turns it into a frozen, validated :class:`RunConfig`.

The default run file ships with the package (``nucleiml/data/default_run.toml``, commented); every key of
it is optional in a user's file and takes the default when missing. Layout::

    [data]        nuclei = ["40Ca", "208Pb"]; observables = ["binding_energy", "charge_radius"]
    [likelihood]  shape = "gaussian" | "box"; tolerance = 0.02 (fraction of the experimental value)
    [prior]       file = "default" | "path/to/prior.toml"  (or inline [prior.masses], [prior.nmp.<name>])
    [model]       name = "nml" | "rmf"; emulator = "default" | path; workers = 0; scheduler = "";
                  max_iterations = 0
    [sampler]     backend = "ultranest" | "dynesty"; live_points; dlogz; frac_remain; min_ess;
                  max_ncalls; batch_min; batch_max; seed
    [constraints] use = ["PSR_J0740_mass", "NICER_J0030", ...] (shipped names; default none);
                  derived = false (Mmax, R1.4, ... at the posterior samples; always with constraints)

Every error names the file, the field and the allowed values or range (:class:`RunConfigError`, a
``ValueError``).
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from numbers import Integral
from pathlib import Path
from types import MappingProxyType
from typing import Any

from .._paths import as_path
from .._toml import read_toml
from ..datasets.prior import Prior, PriorError, default_prior, load_prior
from ..parameters import ParameterError, _is_finite_real, shown

__all__ = [
    "BACKENDS",
    "MODELS",
    "NEUTRON_SKIN",
    "OBSERVABLES",
    "OBSERVABLE_UNITS",
    "SHAPES",
    "ConstraintsConfig",
    "DataConfig",
    "LikelihoodConfig",
    "ModelConfig",
    "RunConfig",
    "RunConfigError",
    "SamplerConfig",
    "default_run_config",
    "load_run_config",
]

OBSERVABLE_UNITS = MappingProxyType({"binding_energy": "MeV", "charge_radius": "fm", "neutron_skin": "fm"})
"""Observables a run can be conditioned on, with their units, in the order the likelihood and the summaries
use."""
OBSERVABLES = ("binding_energy", "charge_radius")
"""Those of ``[data] observables``: taken for every nucleus of the run, with widths ``tolerance`` times the
experimental value."""
NEUTRON_SKIN = "neutron_skin"
"""Rn - Rp (fm), taken for the nuclei of ``[data] neutron_skin`` only, against their measurement (PREX-II,
CREX), with the measurement's uncertainty as the width: a relative tolerance means nothing for a small
difference of radii (2 % of 0.28 fm is 0.006 fm, against PREX-II's 0.071 fm)."""
SHAPES = ("gaussian", "box")
MODELS = ("nml", "rmf")
BACKENDS = ("ultranest", "dynesty")
CONSTRAINT_METHODS = ("reweight", "nested")
TOLERANCE_RANGE = (0.001, 0.5)
"""Allowed tolerance (a fraction of the experimental value)."""

DEFAULT_FILE = "default_run.toml"


class RunConfigError(ParameterError):
    """A run file or run setting is invalid (names the file, the field and what is allowed)."""


def _fail(where: str, message: str) -> RunConfigError:
    return RunConfigError(f"{where} {message}")


def _is_int(v: object) -> bool:
    return isinstance(v, Integral) and not isinstance(v, bool)


def _is_real(v: object) -> bool:
    return _is_finite_real(v)


def _int_in(where: str, v: object, lo: int, hi: int) -> int:
    if not _is_int(v) or not lo <= v <= hi:
        raise _fail(where, f"must be an integer in [{lo}, {hi}], got {shown(v)}")
    return int(v)


def _real_in(where: str, v: object, lo: float, hi: float, *, lo_open: bool = False) -> float:
    if not _is_real(v) or (v <= lo if lo_open else v < lo) or v > hi:
        raise _fail(where, f"must be a number in {'(' if lo_open else '['}{lo:g}, {hi:g}], got {shown(v)}")
    return float(v)


def _choice(where: str, v: object, allowed: tuple[str, ...]) -> str:
    if not isinstance(v, str) or v not in allowed:
        raise _fail(where, f"must be one of {', '.join(map(repr, allowed))}, got {v!r}")
    return v


# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DataConfig:
    """What the posterior is conditioned on.

    Attributes
    ----------
    nuclei : tuple of str
        Nucleus names (canonical, e.g. ``"208Pb"``), each with shipped experimental data.
    observables : tuple of str
        Subset of ``OBSERVABLES``, in that order, taken for every nucleus.
    neutron_skin : tuple of str
        Nuclei of ``nuclei`` whose measured neutron skin (``nucleiml.experiment``: 208Pb PREX-II, 48Ca CREX)
        is also in the likelihood (default none); needs the ``rmf`` model or an ``nml`` emulator with the
        skin regressor (the shipped one).
    """

    nuclei: tuple[str, ...] = ("40Ca", "208Pb")
    observables: tuple[str, ...] = OBSERVABLES
    neutron_skin: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        from ..experiment import MissingExperimentError, experiment
        from ..nuclei import NucleusError, parse_nucleus

        if not isinstance(self.nuclei, list | tuple) or not self.nuclei:
            raise _fail(
                "[data] nuclei", f"must be a non-empty list of nucleus names, got {shown(self.nuclei)}"
            )
        names: list[str] = []
        for item in self.nuclei:
            try:
                nuc = parse_nucleus(item)
            except NucleusError as exc:
                raise _fail("[data] nuclei:", str(exc)) from None
            if nuc.name in names:
                raise _fail("[data] nuclei", f"lists {nuc.name} twice")
            names.append(nuc.name)
        if not isinstance(self.observables, list | tuple) or not self.observables:
            raise _fail(
                "[data] observables",
                f"must be a non-empty list drawn from {', '.join(map(repr, OBSERVABLES))}, got {shown(self.observables)}",
            )
        for obs in self.observables:
            _choice("[data] observables entry", obs, OBSERVABLES)
        if len(set(self.observables)) != len(self.observables):
            raise _fail("[data] observables", f"has duplicates: {list(self.observables)!r}")
        observables = tuple(o for o in OBSERVABLES if o in self.observables)
        for name in names:
            try:
                exp = experiment(name)
            except MissingExperimentError as exc:
                raise _fail("[data] nuclei:", str(exc)) from None
            if "charge_radius" in observables and exp.charge_radius is None:
                raise _fail(
                    "[data] nuclei:",
                    f"{name} has no measured charge radius; drop it or use observables = ['binding_energy']",
                )
        object.__setattr__(self, "nuclei", tuple(names))
        object.__setattr__(self, "observables", observables)
        object.__setattr__(self, "neutron_skin", self._skin_nuclei(names))

    def _skin_nuclei(self, names: list[str]) -> tuple[str, ...]:
        from ..experiment import experiment
        from ..nuclei import NucleusError, parse_nucleus

        where = "[data] neutron_skin"
        if not isinstance(self.neutron_skin, list | tuple):
            raise _fail(where, f"must be a list of nucleus names, got {shown(self.neutron_skin)}")
        chosen = []
        for item in self.neutron_skin:
            try:
                name = parse_nucleus(item).name
            except NucleusError as exc:
                raise _fail(where + ":", str(exc)) from None
            if name not in names:
                raise _fail(where, f"lists {name}, which is not in [data] nuclei {names}")
            if name in chosen:
                raise _fail(where, f"lists {name} twice")
            if experiment(name).neutron_skin is None:
                measured = [n.name for n in _measured_skins()]
                raise _fail(
                    where + ":", f"{name} has no measured neutron skin; measured: {', '.join(measured)}"
                )
            chosen.append(name)
        return tuple(n for n in names if n in chosen)

    @property
    def likelihood_observables(self) -> tuple[str, ...]:
        """The likelihood's observables: ``observables``, and ``neutron_skin`` if any nucleus has one."""
        return self.observables + ((NEUTRON_SKIN,) if self.neutron_skin else ())


def _measured_skins():
    from ..experiment import available_nuclei, experiment

    return [n for n in available_nuclei() if experiment(n).neutron_skin is not None]


@dataclass(frozen=True)
class LikelihoodConfig:
    """Likelihood shape and width.

    Attributes
    ----------
    shape : {"gaussian", "box"}
        "gaussian": exp(-z^2 / 2) per observable, z = (model - experiment) / (tolerance * experiment);
        "box": 1 if every abs(z) <= 1, else 0.
    tolerance : float
        Gaussian width, or box half-width, as a fraction of each experimental value (0.02 = 2 %).
    """

    shape: str = "gaussian"
    tolerance: float = 0.02

    def __post_init__(self) -> None:
        _choice("[likelihood] shape", self.shape, SHAPES)
        object.__setattr__(
            self, "tolerance", _real_in("[likelihood] tolerance", self.tolerance, *TOLERANCE_RANGE)
        )


@dataclass(frozen=True)
class ModelConfig:
    """The model that maps NMPs to observables.

    Attributes
    ----------
    name : {"nml", "rmf"}
        "nml" (the emulator) or "rmf" (couplings inversion + the spherical RMF solver).
    emulator : str or None
        nml: path of a saved emulator (None: the shipped default).
    workers : int or None
        Local worker processes (None: all cores): rmf solves the nuclei on them; a joint run (any model)
        also evaluates its constraint terms and derived quantities (the star chains) there.
    scheduler : str or None
        Address of an existing Dask scheduler (e.g. ``"tcp://host:8786"``) used instead of local workers.
    max_iterations : int or None
        rmf: iteration budget of the solver (None: the solver's default).
    """

    name: str = "nml"
    emulator: str | None = None
    workers: int | None = None
    scheduler: str | None = None
    max_iterations: int | None = None

    def __post_init__(self) -> None:
        _choice("[model] name", self.name, MODELS)
        if self.emulator is not None and (not isinstance(self.emulator, str) or not self.emulator.strip()):
            raise _fail("[model] emulator", f"must be 'default' or a path, got {self.emulator!r}")
        if self.workers is not None:
            _int_in("[model] workers", self.workers, 1, 1024)
        if self.scheduler is not None and (
            not isinstance(self.scheduler, str) or "://" not in self.scheduler
        ):
            raise _fail(
                "[model] scheduler",
                f"must be a Dask scheduler address such as 'tcp://host:8786', got {self.scheduler!r}",
            )
        if self.max_iterations is not None:
            _int_in("[model] max_iterations", self.max_iterations, 1, 100000)


@dataclass(frozen=True)
class SamplerConfig:
    """Nested-sampling settings (see the default run file for their meaning).

    Attributes
    ----------
    backend : {"ultranest", "dynesty"}
        "ultranest" (ReactiveNestedSampler, resumable) or "dynesty" (static nested sampling, a cross-check).
    live_points : int in [10, 100000]
        Minimum number of live points.
    dlogz : float in (0, 100]
        Stop when the remaining evidence uncertainty (log units) is below ``dlogz`` ...
    frac_remain : float in (0, 1)
        ... and (ultranest) the live points hold less than this fraction of the evidence; 0.5 suits the
        broad, flat-topped default posterior, lower it for sharply peaked ones.
    min_ess : int in [0, 10**7]
        Minimum effective number of posterior samples (ultranest).
    max_ncalls : int or None
        Stop after this many likelihood calls (None, 0 in a run file: no limit); a stopped ultranest run
        can be resumed.
    batch_min, batch_max : int
        Points per vectorised likelihood call, 1 <= batch_min <= batch_max <= 10**6.
    seed : int in [0, 2**32 - 1]
        Seed of the sampler's random numbers.
    """

    backend: str = "ultranest"
    live_points: int = 400
    dlogz: float = 0.5
    frac_remain: float = 0.5
    min_ess: int = 400
    max_ncalls: int | None = None
    batch_min: int = 128
    batch_max: int = 4096
    seed: int = 1

    def __post_init__(self) -> None:
        _choice("[sampler] backend", self.backend, BACKENDS)
        _int_in("[sampler] live_points", self.live_points, 10, 100000)
        object.__setattr__(self, "dlogz", _real_in("[sampler] dlogz", self.dlogz, 0.0, 100.0, lo_open=True))
        object.__setattr__(
            self, "frac_remain", _real_in("[sampler] frac_remain", self.frac_remain, 0.0, 0.999, lo_open=True)
        )
        _int_in("[sampler] min_ess", self.min_ess, 0, 10**7)
        if self.max_ncalls is not None:
            _int_in("[sampler] max_ncalls", self.max_ncalls, 1, 10**12)
        _int_in("[sampler] batch_min", self.batch_min, 1, 10**6)
        _int_in("[sampler] batch_max", self.batch_max, 1, 10**6)
        if self.batch_max < self.batch_min:
            raise _fail(
                "[sampler] batch_max",
                f"= {self.batch_max} must be >= batch_min = {self.batch_min}",
            )
        _int_in("[sampler] seed", self.seed, 0, 2**32 - 1)


@dataclass(frozen=True)
class ConstraintsConfig:
    """Constraints beyond finite nuclei (``nucleiml constraints`` lists the shipped ones).

    Attributes
    ----------
    use : tuple of str
        Names of shipped constraints (``data/constraints.toml``) whose likelihood terms join the
        finite-nucleus likelihood (default none: the finite-nucleus run of the seed paper).
    derived : bool
        Compute the derived quantities (Mmax, R1.4, Lambda1.4, ...; :mod:`nucleiml.inference.derived`) at
        the posterior samples; always done when ``use`` is not empty.
    method : {"reweight", "nested"}
        "reweight": sample the finite-nucleus posterior and reweight it by the constraint terms
        (:mod:`nucleiml.inference.reweight`; seconds with nml); "nested": nested sampling of the joint
        likelihood (every likelihood call runs the star chain: exact, but minutes to hours).
    extra : mapping of str to table
        A run file's own constraint tables, ``[constraints.extra.<name>]`` in the layout of
        ``data/constraints.toml`` (a ``kind`` and its values; a relative ``file`` is read beside the run
        file); their names may then be listed in ``use``.
    """

    use: tuple[str, ...] = ()
    derived: bool = False
    method: str = "reweight"
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        from .constraints import ConstraintError

        if isinstance(self.use, str) or not all(isinstance(x, str) for x in self.use):
            raise _fail("[constraints] use", f"must be a list of constraint names, got {self.use!r}")
        object.__setattr__(self, "use", tuple(self.use))
        if not isinstance(self.extra, Mapping):
            raise _fail("[constraints] extra", f"must be a table of constraint tables, got {self.extra!r}")
        object.__setattr__(self, "extra", MappingProxyType({k: dict(v) for k, v in self.extra.items()}))
        try:
            self.terms()
        except ConstraintError as exc:
            raise _fail("[constraints] use", str(exc)) from None
        if not isinstance(self.derived, bool):
            raise _fail("[constraints] derived", f"must be true or false, got {self.derived!r}")
        _choice("[constraints] method", self.method, CONSTRAINT_METHODS)

    @property
    def wants_derived(self) -> bool:
        return self.derived or bool(self.use)

    def terms(self) -> tuple:
        """The likelihood terms of ``use``, from the shipped constraints and ``extra``."""
        from .constraints import ConstraintError, get_constraints, parse_constraints

        for name, table in self.extra.items():
            if not isinstance(table, Mapping):
                raise ConstraintError(f"[constraints.extra.{name}] must be a table")
        return get_constraints(self.use, extra=parse_constraints(dict(self.extra), "[constraints.extra]"))


@dataclass(frozen=True)
class RunConfig:
    """A complete, validated inference run.

    Attributes
    ----------
    data : DataConfig
    likelihood : LikelihoodConfig
    prior : Prior
        The prior over the seven NMPs (and the fixed meson and nucleon masses).
    prior_file : str or None
        Where the prior came from (None: the shipped default or an inline table).
    model : ModelConfig
    sampler : SamplerConfig
    constraints : ConstraintsConfig
    source : str
        The run file (path, or ``"nucleiml/data/default_run.toml"``).
    text : str
        The run file's text as read (recorded in summary.json).
    """

    data: DataConfig = field(default_factory=DataConfig)
    likelihood: LikelihoodConfig = field(default_factory=LikelihoodConfig)
    prior: Prior = field(default_factory=default_prior)
    prior_file: str | None = None
    model: ModelConfig = field(default_factory=ModelConfig)
    sampler: SamplerConfig = field(default_factory=SamplerConfig)
    constraints: ConstraintsConfig = field(default_factory=ConstraintsConfig)
    source: str = f"nucleiml/data/{DEFAULT_FILE}"
    text: str = ""

    def __post_init__(self) -> None:
        for name, cls in (
            ("data", DataConfig),
            ("likelihood", LikelihoodConfig),
            ("prior", Prior),
            ("model", ModelConfig),
            ("sampler", SamplerConfig),
            ("constraints", ConstraintsConfig),
        ):
            if not isinstance(getattr(self, name), cls):
                raise RunConfigError(
                    f"RunConfig.{name} must be a {cls.__name__}, got {type(getattr(self, name)).__name__}"
                )

    def replace(self, **sections: Mapping[str, Any]) -> RunConfig:
        """A copy with some fields of some sections replaced, e.g. ``replace(model={"name": "rmf"})``.

        Raises
        ------
        RunConfigError
            For an unknown section or field, or an invalid value (named as in a run file).
        """
        changes: dict[str, Any] = {}
        for section, values in sections.items():
            if section not in ("data", "likelihood", "model", "sampler", "constraints"):
                raise RunConfigError(
                    f"cannot replace section {section!r}; allowed: data, likelihood, model, sampler, constraints"
                )
            current = getattr(self, section)
            allowed = {f.name for f in dataclasses.fields(current)}
            unknown = sorted(set(values) - allowed)
            if unknown:
                raise RunConfigError(
                    f"[{section}] unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}"
                )
            changes[section] = dataclasses.replace(current, **values)
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Plain data in the run-file layout, with the prior inline (what summary.json records)."""
        return {
            "data": {
                "nuclei": list(self.data.nuclei),
                "observables": list(self.data.observables),
                "neutron_skin": list(self.data.neutron_skin),
            },
            "likelihood": {"shape": self.likelihood.shape, "tolerance": self.likelihood.tolerance},
            "prior": {**self.prior.to_dict(), "file": self.prior_file or "default"},
            "model": {
                "name": self.model.name,
                "emulator": self.model.emulator or "default",
                "workers": self.model.workers or 0,
                "scheduler": self.model.scheduler or "",
                "max_iterations": self.model.max_iterations or 0,
            },
            "sampler": {
                **{f.name: getattr(self.sampler, f.name) for f in dataclasses.fields(self.sampler)},
                "max_ncalls": self.sampler.max_ncalls or 0,
            },
            **self._constraints_record(),
        }

    def _constraints_record(self) -> dict[str, Any]:
        """The [constraints] section, only when it differs from the default (so that records of runs made
        before it existed compare equal)."""
        c = self.constraints
        if c == ConstraintsConfig():
            return {}
        record = {"use": list(c.use), "derived": c.derived, "method": c.method}
        if c.extra:
            record["extra"] = {k: dict(v) for k, v in c.extra.items()}
        return {"constraints": record}

    @classmethod
    def from_record(cls, run: Mapping, *, source: str = "summary.json") -> RunConfig:
        """The run recorded by :meth:`to_dict` (``run`` in a run directory's summary.json and run.json):
        its inline prior, with the prior's file name kept as a label.

        Raises
        ------
        RunConfigError
            If the record is not a valid run (naming ``source``, the section and key).
        """
        data = {k: dict(v) if isinstance(v, Mapping) else v for k, v in run.items()}
        prior_file = data.get("prior", {}).pop("file", None)
        config = cls.from_dict(data, source=source)
        if prior_file and prior_file != "default":
            config = dataclasses.replace(config, prior_file=prior_file)
        return config

    @classmethod
    def from_dict(cls, data: Mapping, *, source: str = "run file", base: Path | None = None) -> RunConfig:
        """Build from parsed TOML (missing keys take their defaults); ``base`` resolves relative prior paths.

        Raises
        ------
        RunConfigError
            Naming ``source``, the section and key, and the allowed values or range.
        """
        try:
            return _from_dict(cls, data, source=source, base=base)
        except (RunConfigError, PriorError) as exc:
            msg = str(exc)
            raise RunConfigError(msg if msg.startswith(source) else f"{source}: {msg}") from None


_SECTION_KEYS = {
    "data": ("nuclei", "observables", "neutron_skin"),
    "likelihood": ("shape", "tolerance"),
    "prior": ("file", "masses", "nmp"),
    "model": ("name", "emulator", "workers", "scheduler", "max_iterations"),
    "sampler": tuple(f.name for f in dataclasses.fields(SamplerConfig)),
    "constraints": ("use", "derived", "method", "extra"),
}


def _from_dict(cls, data: Mapping, *, source: str, base: Path | None) -> RunConfig:
    if not isinstance(data, Mapping):
        raise RunConfigError("expected a table of sections " + ", ".join(f"[{s}]" for s in _SECTION_KEYS))
    unknown = [k for k in data if k not in _SECTION_KEYS]
    if unknown:
        raise RunConfigError(
            f"unknown section(s) {', '.join(map(repr, unknown))}; allowed: "
            + ", ".join(f"[{s}]" for s in _SECTION_KEYS)
        )
    sections: dict[str, dict] = {}
    for name, keys in _SECTION_KEYS.items():
        raw = data.get(name, {})
        if not isinstance(raw, Mapping):
            raise RunConfigError(f"[{name}] must be a table with keys {', '.join(keys)}")
        bad = [k for k in raw if k not in keys]
        if bad:
            raise RunConfigError(f"[{name}] unknown key(s) {', '.join(bad)}; allowed: {', '.join(keys)}")
        sections[name] = dict(raw)

    d = sections["data"]
    for key in ("nuclei", "observables", "neutron_skin"):
        if key in d:
            if not isinstance(d[key], list) or not all(isinstance(x, str) for x in d[key]):
                raise _fail(f"[data] {key}", f"must be a list of strings, got {d[key]!r}")
            d[key] = tuple(d[key])
    data_cfg = DataConfig(**d)
    like_cfg = LikelihoodConfig(**sections["likelihood"])

    m = sections["model"]
    if "emulator" in m:
        if not isinstance(m["emulator"], str) or not m["emulator"].strip():
            raise _fail("[model] emulator", f"must be 'default' or a path, got {m['emulator']!r}")
        m["emulator"] = None if m["emulator"].strip() == "default" else _resolve(m["emulator"], base)
    if "workers" in m:
        m["workers"] = _int_in("[model] workers", m["workers"], 0, 1024) or None
    if "scheduler" in m:
        if not isinstance(m["scheduler"], str):
            raise _fail("[model] scheduler", f"must be a string ('' = local workers), got {m['scheduler']!r}")
        m["scheduler"] = m["scheduler"].strip() or None
    if "max_iterations" in m:
        m["max_iterations"] = _int_in("[model] max_iterations", m["max_iterations"], 0, 100000) or None
    model_cfg = ModelConfig(**m)

    s = sections["sampler"]
    if "max_ncalls" in s:
        s["max_ncalls"] = _int_in("[sampler] max_ncalls", s["max_ncalls"], 0, 10**12) or None
    sampler_cfg = SamplerConfig(**s)
    c = sections["constraints"]
    if "use" in c and (not isinstance(c["use"], list) or not all(isinstance(x, str) for x in c["use"])):
        raise _fail("[constraints] use", f"must be a list of constraint names, got {c['use']!r}")
    if isinstance(c.get("extra"), Mapping):
        c["extra"] = {
            name: {**t, "file": _resolve(t["file"], base)}
            if isinstance(t, Mapping) and isinstance(t.get("file"), str)
            else t
            for name, t in c["extra"].items()
        }
    constraints_cfg = ConstraintsConfig(**{k: tuple(v) if k == "use" else v for k, v in c.items()})

    p = sections["prior"]
    prior_file = None
    if "file" in p:
        if "masses" in p or "nmp" in p:
            raise RunConfigError(
                "[prior] give either file or an inline prior ([prior.masses], [prior.nmp.<name>]), not both"
            )
        if not isinstance(p["file"], str) or not p["file"].strip():
            raise _fail(
                "[prior] file", f"must be 'default' or the path of a prior TOML file, got {p['file']!r}"
            )
        if p["file"].strip() == "default":
            prior = default_prior()
        else:
            prior_file = _resolve(p["file"], base)
            prior = load_prior(prior_file)
    elif p:
        prior = Prior.from_dict(p, source="[prior]")
    else:
        prior = default_prior()
    return cls(
        data=data_cfg,
        likelihood=like_cfg,
        prior=prior,
        prior_file=prior_file,
        model=model_cfg,
        sampler=sampler_cfg,
        constraints=constraints_cfg,
        source=source,
    )


def _resolve(path: str, base: Path | None) -> str:
    p = Path(path.strip()).expanduser()
    if not p.is_absolute() and base is not None:
        p = base / p
    return str(p)


def load_run_config(path: str | Path | None = None) -> RunConfig:
    """Read and validate a run file (None: the default run file shipped with the package; ``"joint"``: the
    shipped joint run, unless a file of that name exists).

    Raises
    ------
    RunConfigError
        If the file cannot be read, is not TOML, or any field is invalid; the message names the file,
        the field and the allowed values or range.
    """
    if path is None:
        return default_run_config()
    if isinstance(path, str) and path in SHIPPED_RUNS and not Path(path).exists():
        return shipped_run_config(path)
    p = as_path(path, "run file", RunConfigError)
    text, data = read_toml(p, "run", RunConfigError)
    cfg = RunConfig.from_dict(data, source=f"run file {str(p)!r}", base=p.resolve().parent)
    return dataclasses.replace(cfg, text=text)


def default_run_config() -> RunConfig:
    """The run file shipped with the package (``nucleiml/data/default_run.toml``)."""
    return shipped_run_config("default")


SHIPPED_RUNS = MappingProxyType({"default": DEFAULT_FILE, "joint": "joint_run.toml"})
"""Run files shipped with the package, by the name ``load_run_config`` (and ``--config``) accepts: the
finite-nucleus run of the seed paper, and the joint run (finite nuclei + heavy-ion collisions + neutron
stars)."""


def shipped_run_config(name: str) -> RunConfig:
    """A run file shipped with the package by name (:data:`SHIPPED_RUNS`)."""
    filename = SHIPPED_RUNS[name]
    text = resources.files("nucleiml").joinpath("data", filename).read_text(encoding="utf-8")
    cfg = RunConfig.from_dict(tomllib.loads(text), source=f"nucleiml/data/{filename}")
    return dataclasses.replace(cfg, text=text)
