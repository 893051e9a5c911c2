"""A disk cache for a lesson's heavy experiments, keyed by the code and the parameters (instructor's kit).

    from utils.cache import cached
    curve = cached(generalization_curve, X, y, split, sizes, n_models=4, epochs=epochs, seed=0)

``cached(fn, *args, **kwargs)`` returns exactly what ``fn(*args, **kwargs)`` returns. The first call
computes it and stores it under ``data/cache/<module.function>/<key>.pt`` with a readable
``<key>.json`` beside it (the function, the parameters, when and how long it took); later calls with
the same parameters load it in milliseconds. ``python -m utils.demo LESSON`` runs a lesson once so that
its cached experiments are on disk before class.

What the key covers, so that a stale result is rebuilt and never silently reused:

- the parameters: every argument, by value (arrays and tensors by their bytes, dtype and shape;
  dataclasses field by field; models by their weights; functions and classes by name and source);
- the code: every ``.py`` file of the course library ``utils/``, the function's own source (a function
  defined in a notebook counts too), and the versions of Python, NumPy and PyTorch; an entry written by
  other code is *stale*: recomputed and overwritten;
- the run's size switch ``COURSE_FAST`` and the compute device (CPU or GPU results differ in the last bits).

A hit also restores Python's, NumPy's and PyTorch's global random generators to where the computation
left them, so the cells after it draw the same numbers whether the result came from disk or not.

Entries hold data only, never code (`utils.cache_format`: a ``torch.save`` file of tensors and a
JSON skeleton, read with ``weights_only=True``): a cache folder that others can write (a shared
``data/cache`` on a JupyterHub) cannot run anything in whoever loads it. An entry that is damaged in
any way (truncated, foreign, of the wrong shape, with random-generator states that do not load)
is recomputed and overwritten.

Rules for a cached function: it must be a pure function of its arguments (randomness through a
``seed=`` argument, as everywhere in the course), and its result must be made of numbers, strings,
arrays, tensors, lists, tuples, dicts, sets, and dataclasses, models (`torch.nn.Module`) and other
plain objects of the course library or ``torch.nn`` (a result that is not is returned uncached,
with a warning). An argument whose value cannot be keyed (an open file, a ``np.random.Generator`` whose state
the call would consume) raises a ``TypeError`` that names it.

Environment: ``COURSE_CACHE_DIR`` moves the cache (default ``data/cache``); ``COURSE_CACHE=off``
computes every call and touches no file (tests can set it to measure the real thing).
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import functools
import hashlib
import inspect
import json
import logging
import os
import platform
import random
import struct
import time
from pathlib import Path

import numpy as np

from . import cache_format

__all__ = ["CACHE_DIR", "CacheEntry", "cache_dir", "cache_enabled", "cache_key", "cached", "code_digest", "entries"]

LIBRARY = Path(__file__).resolve().parent
CACHE_DIR = LIBRARY.parent / "data" / "cache"
ENTRY_SUFFIX = ".pt"  # `utils.cache_format`; old ``.pkl`` entries are never read (nor unpickled)
_log = logging.getLogger(__name__)


def cache_dir() -> Path:
    """The cache folder: ``$COURSE_CACHE_DIR`` if set, else ``data/cache`` of the course."""
    return Path(os.environ["COURSE_CACHE_DIR"]) if os.environ.get("COURSE_CACHE_DIR") else CACHE_DIR


def cache_enabled() -> bool:
    """False when ``COURSE_CACHE`` is ``off``, ``0`` or ``no`` (read at call time)."""
    return os.environ.get("COURSE_CACHE", "on").strip().lower() not in ("off", "0", "no", "false")


# ---------------------------------------------------------------- keying values


def _function_source(fn) -> str:
    try:
        return inspect.getsource(fn)
    except (OSError, TypeError):
        return ""  # a builtin or a C function: its name and the library versions key it


def _encode(value, out: list, where: str) -> None:
    """Append a canonical byte encoding of `value` to `out` (type-tagged, so 1, 1.0 and True differ)."""
    import torch

    def tag(name: str, payload: bytes = b"") -> None:
        out.append(name.encode() + b":" + struct.pack("<Q", len(payload)) + payload)

    if value is None or isinstance(value, (bool, str, bytes)):
        tag(type(value).__name__, value if isinstance(value, bytes) else repr(value).encode())
    elif isinstance(value, int):
        tag("int", str(int(value)).encode())
    elif isinstance(value, float):
        tag("float", float(value).hex().encode())
    elif isinstance(value, complex):
        tag("complex", f"{value.real.hex()},{value.imag.hex()}".encode())
    elif isinstance(value, enum.Enum):
        tag("enum", f"{type(value).__module__}.{type(value).__qualname__}.{value.name}".encode())
    elif isinstance(value, Path):
        tag("path", str(value).encode())
    elif isinstance(value, (np.ndarray, np.generic)):
        array = np.ascontiguousarray(value)
        if array.dtype == object:
            raise TypeError(f"{where} is a NumPy array of Python objects, which cannot be keyed; "
                            "convert it to numbers.")
        tag("ndarray", f"{array.dtype.str}{array.shape}".encode() + array.tobytes())
    elif isinstance(value, torch.Tensor):
        tag("tensor", str(value.dtype).encode())
        _encode(value.detach().cpu().numpy(), out, where)
    elif isinstance(value, torch.nn.Module):
        tag("module", f"{type(value).__module__}.{type(value).__qualname__}\n{value!r}".encode())
        _encode(dict(value.state_dict()), out, f"{where} (the model's weights)")
    elif isinstance(value, (list, tuple)):
        tag(type(value).__name__, str(len(value)).encode())
        for i, item in enumerate(value):
            _encode(item, out, f"{where}[{i}]")
    elif isinstance(value, (set, frozenset)):
        parts = []
        for item in value:
            encoded: list = []
            _encode(item, encoded, f"an element of {where}")
            parts.append(b"".join(encoded))
        tag("set", b"".join(sorted(parts)))
    elif isinstance(value, dict):
        items = []
        for key, item in value.items():
            encoded: list = []
            _encode(key, encoded, f"a key of {where}")
            _encode(item, encoded, f"{where}[{key!r}]")
            items.append(b"".join(encoded))
        tag("dict", b"".join(sorted(items)))
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        tag("dataclass", f"{type(value).__module__}.{type(value).__qualname__}".encode())
        for field in dataclasses.fields(value):
            tag("field", field.name.encode())
            _encode(getattr(value, field.name), out, f"{where}.{field.name}")
    elif isinstance(value, functools.partial):
        tag("partial")
        _encode(value.func, out, f"{where}.func")
        _encode(value.args, out, f"{where}.args")
        _encode(value.keywords, out, f"{where}.keywords")
    elif inspect.isfunction(value) or inspect.isclass(value) or inspect.isbuiltin(value):
        name = f"{getattr(value, '__module__', '')}.{getattr(value, '__qualname__', repr(value))}"
        tag("callable", name.encode() + b"\n" + _function_source(value).encode())
    else:
        raise TypeError(
            f"{where} is a {type(value).__module__}.{type(value).__qualname__}, whose value the cache cannot key. "
            "Pass numbers, strings, arrays, tensors, dataclasses, models or functions; for randomness pass an "
            "integer seed (not a np.random.Generator, whose state the call would consume)."
        )


def _digest(parts) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part)
    return h.hexdigest()


def code_digest(fn) -> str:
    """sha256 of the code behind `fn`: every ``utils/**/*.py``, `fn`'s source and the library versions."""
    import torch

    parts = []
    for path in sorted(LIBRARY.rglob("*.py")):
        parts += [path.relative_to(LIBRARY).as_posix().encode(), b"\0", path.read_bytes(), b"\0"]
    versions = f"python {platform.python_version()} numpy {np.__version__} torch {torch.__version__}"
    parts += [_function_source(fn).encode(), versions.encode()]
    return _digest(parts)


def _function_name(fn) -> str:
    name = f"{getattr(fn, '__module__', None) or 'unknown'}.{getattr(fn, '__qualname__', None) or type(fn).__name__}"
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in name)


def cache_key(fn, args=(), kwargs=None) -> str:
    """The entry's key (64 hex digits): the function's name, every argument by value, COURSE_FAST, the device.

    Raises
    ------
    TypeError
        If an argument cannot be keyed (the message names it).
    """
    from .config import default_device, is_fast

    out: list = [_function_name(fn).encode()]
    for i, arg in enumerate(args):
        _encode(arg, out, f"argument {i + 1} of {_function_name(fn)}")
    for name in sorted(kwargs or {}):
        out.append(b"kw:" + name.encode())
        _encode(kwargs[name], out, f"argument {name}= of {_function_name(fn)}")
    out.append(f"COURSE_FAST={int(is_fast())} device={default_device().type}".encode())
    return _digest(out)


# ---------------------------------------------------------------- the entries


@dataclasses.dataclass(frozen=True)
class CacheEntry:
    """One stored result: ``<folder>/<key>.pt`` and its description ``<key>.json``."""

    path: Path
    meta: dict

    @property
    def function(self) -> str:
        return self.meta.get("function", "?")

    @property
    def compute_s(self) -> float:
        """Seconds the computation took when the entry was written."""
        return float(self.meta.get("compute_s", float("nan")))


def entries(root=None) -> list[CacheEntry]:
    """Every entry under the cache folder (default `cache_dir()`), sorted by path."""
    root = cache_dir() if root is None else Path(root)
    found = []
    for meta_path in sorted(root.glob("*/*.json")):
        try:
            meta = json.loads(meta_path.read_text())
            if not isinstance(meta, dict):
                continue
            found.append(CacheEntry(meta_path.with_suffix(ENTRY_SUFFIX), meta))
        except (OSError, ValueError):
            continue  # half-written or foreign file: not an entry
    return found


def _rng_states():
    import torch

    return {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}


def _checked_rng_states(states):
    """The states, once each has been loaded into a fresh generator; FormatError when one does not load."""
    import torch

    try:
        if not isinstance(states, dict):
            raise TypeError(f"a {type(states).__name__}, not a dict")
        random.Random().setstate(states["python"])
        np.random.RandomState().set_state(states["numpy"])
        torch.Generator().set_state(states["torch"])
    except (TypeError, ValueError, KeyError, RuntimeError, OverflowError, IndexError) as exc:
        raise cache_format.FormatError(f"random-generator states that do not load ({type(exc).__name__}: "
                                       f"{str(exc)[:100]})") from None
    return states


def _restore_rng_states(states) -> None:
    import torch

    random.setstate(states["python"])
    np.random.set_state(states["numpy"])
    torch.set_rng_state(states["torch"])


def _load(entry: Path, meta_path: Path, code: str):
    """The stored (value, rng states), or None with the reason logged when missing, stale or damaged."""
    if not (entry.exists() and meta_path.exists()):
        return None
    try:
        meta = json.loads(meta_path.read_text())
        payload = entry.read_bytes()
    except (OSError, ValueError) as exc:
        _log.warning("cache entry %s cannot be read (%s); recomputing", entry, exc)
        return None
    if not isinstance(meta, dict) or meta.get("code_digest") != code:
        _log.info("cache entry %s is stale (written by other code); recomputing", entry)
        return None
    if meta.get("sha256") != hashlib.sha256(payload).hexdigest():
        _log.warning("cache entry %s is damaged (checksum mismatch); recomputing", entry)
        return None
    try:
        stored = cache_format.loads(payload)
        if not isinstance(stored, dict) or set(stored) != {"value", "rng"}:
            raise cache_format.FormatError("not a {value, rng} entry")
        return stored["value"], _checked_rng_states(stored["rng"])
    except cache_format.FormatError as exc:
        _log.warning("cache entry %s is damaged (%s); recomputing", entry, exc)
        return None


def _describe(value, limit: int = 200) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _store(pkl: Path, meta_path: Path, value, rng, meta: dict) -> None:
    try:
        payload = cache_format.dumps({"value": value, "rng": rng})
    except Exception as exc:  # any value the format cannot hold: the result is still returned, uncached
        _log.warning("the result of %s cannot be stored in the cache (%s); it is used uncached", pkl.parent.name, exc)
        return
    meta = {**meta, "sha256": hashlib.sha256(payload).hexdigest(), "bytes": len(payload)}
    try:
        pkl.parent.mkdir(parents=True, exist_ok=True)
        for path, data in ((pkl, payload), (meta_path, json.dumps(meta, indent=1).encode())):
            tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
            tmp.write_bytes(data)
            tmp.replace(path)  # atomic: a reader sees the old file or the new one, never half of one
    except OSError as exc:
        _log.warning("could not write the cache entry %s (%s); the result is used uncached", pkl, exc)


def cached(fn, /, *args, **kwargs):
    """``fn(*args, **kwargs)``, computed once and then loaded from disk while the code and arguments match.

    Parameters
    ----------
    fn : callable
        A pure function of its arguments (seeded through an argument) whose result the cache can
        store (see the module docstring).
    *args, **kwargs
        Passed to `fn`; every one is part of the key (see the module docstring).

    Returns
    -------
    Whatever `fn` returns (a fresh copy loaded from disk on a hit).

    Raises
    ------
    TypeError
        If `fn` is not callable or an argument cannot be keyed.
    """
    if not callable(fn):
        raise TypeError(f"cached needs a function as its first argument, got {type(fn).__name__}: "
                        "write cached(train_and_measure, X, y, ...), not cached(train_and_measure(X, y, ...)).")
    if not cache_enabled():
        return fn(*args, **kwargs)
    key = cache_key(fn, args, kwargs)
    code = code_digest(fn)
    folder = cache_dir() / _function_name(fn)
    pkl, meta_path = folder / f"{key[:32]}{ENTRY_SUFFIX}", folder / f"{key[:32]}.json"
    hit = _load(pkl, meta_path, code)
    if hit is not None:
        value, rng = hit
        _restore_rng_states(rng)
        return value
    start = time.perf_counter()
    value = fn(*args, **kwargs)
    compute_s = time.perf_counter() - start
    meta = {
        "function": _function_name(fn),
        "key": key,
        "code_digest": code,
        "arguments": {**{f"arg{i + 1}": _describe(a) for i, a in enumerate(args)},
                      **{k: _describe(v) for k, v in kwargs.items()}},
        "course_fast": os.environ.get("COURSE_FAST", "0"),
        "compute_s": round(compute_s, 3),
        "written": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }
    _store(pkl, meta_path, value, _rng_states(), meta)
    return value
