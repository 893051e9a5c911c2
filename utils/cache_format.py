"""The file format of `utils.cache` entries: data only, nothing that runs when it loads (instructor's kit).

A pickle runs code when it loads, and a checksum beside it needs no secret, so whoever can write
to a shared cache folder could run code in everyone who reads it. An entry is instead one
``torch.save`` file of a plain dict, read back with ``torch.load(weights_only=True)`` (tensors,
strings, numbers, dicts and lists only), holding

- ``skeleton``: the value's structure as JSON text: None, booleans, numbers, strings; lists,
  tuples, dicts, sets; NumPy arrays and scalars, tensors (by reference into ``tensors``); enums,
  dataclasses, `torch.nn.Module` trees and other plain objects *of the course library or of
  ``torch.nn``* by class name and their attributes (a model: its submodules, parameters,
  buffers and settings). Shared objects are stored once and come back shared;
- ``tensors``: every array and tensor (NumPy arrays as raw bytes with their dtype and shape).

Loading never calls a constructor or ``__setstate__``: an object is made with ``object.__new__``
and its attributes are set one by one, and only classes defined in ``utils.*`` or ``torch.nn.*``
(found by module and name, never by anything else) may be made. Anything else in the file is
damage (`FormatError`), and the cache recomputes the entry.
"""

from __future__ import annotations

import collections
import dataclasses
import enum
import importlib
import io
import json
import warnings

import numpy as np

__all__ = ["FormatError", "dumps", "loads", "ALLOWED_MODULES"]

ALLOWED_MODULES = ("utils.", "torch.nn.")  # where the classes of stored objects may come from
_MODULE_STATE = ("_parameters", "_buffers", "_modules", "_non_persistent_buffers_set")


class FormatError(ValueError):
    """An entry that is not a well-formed cache file (damaged, truncated, foreign or hostile)."""


def _class_name(cls) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def _allowed(cls) -> bool:
    return any(cls.__module__.startswith(p) for p in ALLOWED_MODULES) and "<locals>" not in cls.__qualname__


def _find_class(name):
    if not isinstance(name, str) or ":" not in name:
        raise FormatError(f"not a class name: {name!r}")
    module, qualname = name.split(":", 1)
    if not any(module.startswith(p) for p in ALLOWED_MODULES):
        raise FormatError(f"class {name} is outside the course library and torch.nn")
    try:
        value = importlib.import_module(module)
        for part in qualname.split("."):
            value = getattr(value, part)
    except (ImportError, AttributeError) as exc:
        raise FormatError(f"class {name} does not exist ({exc})") from None
    if not isinstance(value, type):
        raise FormatError(f"{name} is not a class")
    return value


def _module_internals() -> set:
    """The attributes torch.nn.Module.__init__ makes, except the parameters, buffers, submodules and mode."""
    import torch

    return set(vars(torch.nn.Module())) - {*_MODULE_STATE, "training"}


class _Encoder:
    def __init__(self):
        self.tensors, self.memo = {}, {}

    def tensor(self, value) -> str:
        key = f"t{len(self.tensors)}"
        self.tensors[key] = value
        return key

    def encode(self, value):
        import torch

        if isinstance(value, enum.Enum):
            if not _allowed(type(value)):
                raise TypeError(f"the enum {_class_name(type(value))} is not from the course library")
            return {"t": "enum", "class": _class_name(type(value)), "name": value.name}
        if value is None or type(value) in (bool, str):
            return value
        if type(value) is int:
            return value if -2**53 < value < 2**53 else {"t": "bigint", "v": str(value)}
        if type(value) is float:
            return {"t": "float", "v": value.hex()}
        if isinstance(value, complex):
            return {"t": "complex", "v": [value.real.hex(), value.imag.hex()]}
        if isinstance(value, bytes):
            return {"t": "bytes", "v": value.hex()}
        if id(value) in self.memo:
            return {"t": "ref", "id": self.memo[id(value)][0]}
        self.memo[id(value)] = (len(self.memo), value)  # value kept alive: ids stay unique while encoding
        ref = self.memo[id(value)][0]
        if isinstance(value, (np.ndarray, np.generic)):
            array = np.asarray(value)
            if array.dtype.hasobject:
                raise TypeError("a NumPy array of Python objects cannot be stored")
            raw = torch.from_numpy(np.frombuffer(np.ascontiguousarray(array).tobytes(), dtype=np.uint8).copy())
            return {"t": "ndarray" if isinstance(value, np.ndarray) else "npscalar", "id": ref,
                    "dtype": array.dtype.str, "shape": list(array.shape), "ref": self.tensor(raw)}
        if isinstance(value, torch.Tensor) and value.is_meta:  # a shape-only template (torch.func model batches)
            return {"t": "meta", "id": ref, "shape": list(value.shape), "dtype": str(value.dtype).split(".")[-1],
                    "parameter": isinstance(value, torch.nn.Parameter), "grad": bool(value.requires_grad)}
        if isinstance(value, torch.Tensor):
            if isinstance(value, torch.nn.Parameter):
                return {"t": "parameter", "id": ref, "ref": self.tensor(value.detach().cpu().clone()),
                        "grad": bool(value.requires_grad)}
            return {"t": "tensor", "id": ref, "ref": self.tensor(value.detach().cpu().clone()),
                    "grad": bool(value.requires_grad)}
        if isinstance(value, (list, tuple, set, frozenset)):
            kind = type(value).__name__ if type(value) in (list, tuple, set, frozenset) else None
            if kind is None:  # a named tuple or another subclass: an object of its own
                return self.obj(value, ref)
            return {"t": kind, "id": ref, "items": [self.encode(v) for v in value]}
        if type(value) in (dict, collections.OrderedDict):
            return {"t": "dict" if type(value) is dict else "odict", "id": ref,
                    "items": [[self.encode(k), self.encode(v)] for k, v in value.items()]}
        return self.obj(value, ref)

    def obj(self, value, ref):
        import torch

        cls = type(value)
        if not _allowed(cls):
            raise TypeError(f"a {_class_name(cls)} (not a class of the course library or torch.nn) cannot be stored")
        if isinstance(value, tuple):  # a named tuple of the library
            return {"t": "namedtuple", "id": ref, "class": _class_name(cls), "items": [self.encode(v) for v in value]}
        if isinstance(value, dict):
            return {"t": "dictobj", "id": ref, "class": _class_name(cls),
                    "items": [[self.encode(k), self.encode(v)] for k, v in value.items()]}
        if not hasattr(value, "__dict__") or getattr(cls, "__slots__", None):
            raise TypeError(f"a {_class_name(cls)} has no plain attributes to store")
        state = {}
        remade = _module_internals() if isinstance(value, torch.nn.Module) else set()
        for name, item in vars(value).items():
            if name in remade:  # hook tables, made again by torch.nn.Module.__init__ when the entry loads
                # hooks are functions: a model with hooks cannot be stored. A flag such as
                # _is_full_backward_hook stays set after its hooks are removed (Opacus's DP-SGD does so).
                if isinstance(item, dict) and item:
                    raise TypeError(f"a {_class_name(cls)} with hooks ({name}) cannot be stored")
                continue
            if callable(item) and not isinstance(item, (torch.nn.Module, type)):
                raise TypeError(f"{_class_name(cls)}.{name} is a function, which cannot be stored")
            state[name] = self.encode(item)
        return {"t": "module" if isinstance(value, torch.nn.Module) else "object", "id": ref,
                "class": _class_name(cls), "state": state}


class _Decoder:
    def __init__(self, tensors: dict):
        self.tensors, self.memo = tensors, {}

    def tensor(self, key):
        import torch

        value = self.tensors.get(key) if isinstance(key, str) else None
        if not isinstance(value, torch.Tensor):
            raise FormatError(f"missing tensor {key!r}")
        return value

    def decode(self, node):
        import torch

        if node is None or isinstance(node, (bool, str, int)) and not isinstance(node, float):
            return node
        if isinstance(node, float):  # JSON floats are never written (floats are stored exactly, as hex)
            raise FormatError("a bare float")
        if not isinstance(node, dict) or not isinstance(node.get("t"), str):
            raise FormatError(f"not a stored value: {type(node).__name__}")
        kind = node["t"]
        if kind == "float":
            return float.fromhex(node["v"])
        if kind == "bigint":
            return int(node["v"])
        if kind == "complex":
            return complex(float.fromhex(node["v"][0]), float.fromhex(node["v"][1]))
        if kind == "bytes":
            return bytes.fromhex(node["v"])
        if kind == "enum":
            cls = _find_class(node["class"])
            if not issubclass(cls, enum.Enum):
                raise FormatError(f"{node['class']} is not an enum")
            return cls[node["name"]]
        if kind == "ref":
            if node.get("id") not in self.memo:
                raise FormatError("a reference to nothing")
            return self.memo[node["id"]]
        ident = node.get("id")
        if kind in ("ndarray", "npscalar"):
            dtype = np.dtype(str(node["dtype"]))
            if dtype.hasobject:
                raise FormatError("an array of objects")
            raw = self.tensor(node["ref"])
            if raw.dtype != torch.uint8 or raw.dim() != 1:
                raise FormatError("array bytes of the wrong kind")
            shape = tuple(int(s) for s in node["shape"])
            array = np.frombuffer(raw.numpy().tobytes(), dtype=dtype).reshape(shape).copy()
            value = array if kind == "ndarray" else array[()]
            return self._keep(ident, value)
        if kind == "meta":
            dtype = getattr(torch, str(node["dtype"]), None)
            if not isinstance(dtype, torch.dtype):
                raise FormatError(f"unknown dtype {node['dtype']!r}")
            value = torch.empty(tuple(int(s) for s in node["shape"]), dtype=dtype, device="meta")
            if node.get("parameter"):
                value = torch.nn.Parameter(value, requires_grad=bool(node.get("grad")))
            return self._keep(ident, value)
        if kind in ("tensor", "parameter"):
            value = self.tensor(node["ref"]).clone()
            if kind == "parameter":
                value = torch.nn.Parameter(value, requires_grad=bool(node.get("grad")))
            elif node.get("grad"):
                value.requires_grad_(True)
            return self._keep(ident, value)
        if kind in ("list", "set", "frozenset", "tuple"):
            if kind == "list":  # made first, so that a list that holds itself comes back that way
                value = self._keep(ident, [])
                value.extend(self.decode(v) for v in self._items(node))
                return value
            items = [self.decode(v) for v in self._items(node)]
            return self._keep(ident, {"set": set, "frozenset": frozenset, "tuple": tuple}[kind](items))
        if kind in ("dict", "odict"):
            value = self._keep(ident, {} if kind == "dict" else collections.OrderedDict())
            for pair in self._items(node):
                key, item = self._pair(pair)
                value[self.decode(key)] = self.decode(item)
            return value
        if kind == "namedtuple":
            cls = _find_class(node["class"])
            if not issubclass(cls, tuple):
                raise FormatError(f"{node['class']} is not a tuple")
            return self._keep(ident, tuple.__new__(cls, [self.decode(v) for v in self._items(node)]))
        if kind == "dictobj":
            cls = _find_class(node["class"])
            if not issubclass(cls, dict):
                raise FormatError(f"{node['class']} is not a dict")
            value = self._keep(ident, dict.__new__(cls))
            for pair in self._items(node):
                key, item = self._pair(pair)
                dict.__setitem__(value, self.decode(key), self.decode(item))
            return value
        if kind in ("object", "module"):
            return self._object(node, kind, ident)
        raise FormatError(f"unknown kind {kind!r}")

    def _object(self, node, kind, ident):
        import torch

        cls = _find_class(node["class"])
        if (kind == "module") != issubclass(cls, torch.nn.Module) or cls.__new__ is not object.__new__ \
                and not issubclass(cls, torch.nn.Module):
            raise FormatError(f"{node['class']} cannot be made here")
        value = self._keep(ident, object.__new__(cls))
        state = node.get("state")
        if not isinstance(state, dict):
            raise FormatError("an object without attributes")
        if kind == "module":
            torch.nn.Module.__init__(value)  # the hook dictionaries and the rest of a module's inner state
        for name, item in state.items():
            if not isinstance(name, str):
                raise FormatError("an attribute name that is not text")
            object.__setattr__(value, name, self.decode(item))
        if kind == "module":
            for name in _MODULE_STATE:
                expected = set if name == "_non_persistent_buffers_set" else dict
                if not isinstance(vars(value).get(name), expected):
                    raise FormatError(f"a module whose {name} is not a {expected.__name__}")
        elif dataclasses.is_dataclass(cls):
            missing = [f.name for f in dataclasses.fields(cls) if f.name not in state]
            if missing:
                raise FormatError(f"{node['class']} lacks the fields {missing}")
        return value

    @staticmethod
    def _items(node) -> list:
        items = node.get("items")
        if not isinstance(items, list):
            raise FormatError("a container without items")
        return items

    @staticmethod
    def _pair(pair):
        if not isinstance(pair, list) or len(pair) != 2:
            raise FormatError("a dict item that is not a pair")
        return pair

    def _keep(self, ident, value):
        if ident is not None:
            if not isinstance(ident, int) or ident in self.memo:
                raise FormatError("a bad or repeated object id")
            self.memo[ident] = value
        return value


def dumps(value) -> bytes:
    """The bytes of an entry holding `value`; TypeError naming what cannot be stored."""
    import torch

    encoder = _Encoder()
    skeleton = json.dumps(encoder.encode(value), allow_nan=False, separators=(",", ":"))
    buffer = io.BytesIO()
    torch.save({"format": 2, "skeleton": skeleton, "tensors": encoder.tensors}, buffer)
    return buffer.getvalue()


def loads(data: bytes):
    """The value of an entry; `FormatError` for anything but a well-formed entry (never runs stored code)."""
    import torch

    try:
        with warnings.catch_warnings():  # a foreign pickle protocol is refused below anyway
            warnings.simplefilter("ignore")
            stored = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as exc:  # truncated, not a torch file, or a pickle asking for anything but data
        raise FormatError(f"not a cache file ({type(exc).__name__}: {str(exc)[:200]})") from None
    if not isinstance(stored, dict) or stored.get("format") != 2 or not isinstance(stored.get("skeleton"), str) \
            or not isinstance(stored.get("tensors"), dict):
        raise FormatError("not a cache file of this format")
    try:
        skeleton = json.loads(stored["skeleton"])
        return _Decoder(stored["tensors"]).decode(skeleton)
    except FormatError:
        raise
    except (ValueError, TypeError, KeyError, AttributeError, IndexError, RecursionError, OverflowError) as exc:
        raise FormatError(f"a damaged entry ({type(exc).__name__}: {str(exc)[:200]})") from None
