"""Every membership attack by name, with one call shape (Lessons 02-08, capstone).

An attack is a function

    score(target, X, y, *, shadows=None, **options) -> ndarray of float64, shape (n_records,)

- `target`: the released model (an ``nn.Module`` in eval mode);
- `X`, `y`: the candidate records and their labels, shapes (n_records, ...) and (n_records,);
- `shadows`: what the attacker prepared beforehand (shadow/reference models, a fitted attack),
  ignored by attacks that need nothing;
- options as keywords (e.g. ``population=`` for RMIA, ``global_variance=`` for LiRA);
- returns one score per record, **higher = more likely member**.

so a lesson (or `utils.attacks.pooled`) can run any of them alike::

    from utils.attacks import registry
    scores = registry.get("lira-online")(target, X, y, shadows=shadows)

Adding an attack is one line: decorate its score function with ``@register("name")`` in its
module, and make sure the module is imported by ``utils/attacks/__init__.py`` (add it to the
import line there). Use the name under which `utils.plots.base.ATTACK_STYLES` styles it.

>>> "lira-online" in ATTACKS and "rmia-offline" in ATTACKS
True
>>> try:
...     get("lira")
... except KeyError as error:
...     print(str(error)[:40], "lira-online" in str(error))
"no attack named 'lira'; known attacks: True
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["ATTACKS", "register", "get", "names"]

ATTACKS: dict[str, Callable] = {}


def register(name: str, fn: Callable | None = None):
    """Add attack `fn` under `name` (as a decorator: ``@register("gap")``); returns `fn` unchanged.

    Raises ValueError for an empty name, a name already taken by another function, or a non-callable.
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"an attack's name must be a non-empty string, got {name!r}.")

    def add(f):
        if not callable(f):
            raise ValueError(f"attack {name!r} must be a function, got {type(f).__name__}.")
        known = ATTACKS.get(name)
        if known is not None and getattr(known, "__qualname__", None) != getattr(f, "__qualname__", None):
            where = f"{known.__module__}.{known.__qualname__}"
            raise ValueError(f"an attack named {name!r} is already registered ({where}).")
        ATTACKS[name] = f
        return f

    return add if fn is None else add(fn)


def names() -> list[str]:
    """The registered attack names, sorted."""
    return sorted(ATTACKS)


def get(name: str) -> Callable:
    """The attack registered as `name`; a KeyError that lists the known names otherwise."""
    if name not in ATTACKS:
        raise KeyError(
            f"no attack named {name!r}; known attacks: {', '.join(names())}. "
            "Register a new one with @utils.attacks.registry.register(name)."
        )
    return ATTACKS[name]
