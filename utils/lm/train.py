"""Training the byte-level language model, plainly or with DP-SGD (Lesson 09).

`train_lm` trains `ByteTransformer` on a list of texts with Adam on the mean next-byte
cross-entropy (shuffled mini-batches, each padded to its longest text). `train_lm_dp` trains the
same model with DP-SGD through Opacus (per-record clipping and Gaussian noise, an RDP accountant
that calibrates the noise to a target epsilon).

Both return a `TrainedLM`: the weights as a state dict plus plain numbers, which is what
`utils.cache.cached` stores (no pickled model objects); `TrainedLM.model()` rebuilds the network.
Training is seeded and deterministic on the CPU.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import time
import warnings
from dataclasses import dataclass

import numpy as np
import torch
from torch.nn import functional as F

from ..progress import progress_bar
from ..validation import check_positive_int, check_real, check_seed
from .model import ByteTransformer, encode_texts

PHYSICAL_BATCH = 32  # DP-SGD's records per forward pass (the logical batch is Poisson, 64 on average)

__all__ = ["TrainedLM", "train_lm", "train_lm_dp", "fit_lm", "cached_lm", "bits_per_byte", "length_groups",
           "release_memory"]


def release_memory() -> None:
    """Collect garbage and hand freed heap memory back to the system (glibc's ``malloc_trim``; elsewhere a no-op).

    A training's autograd buffers are freed when it ends, but glibc keeps the pages for reuse, so a
    kernel that trains six models in turn would start each from the last one's high-water mark.
    """
    gc.collect()
    name = ctypes.util.find_library("c")
    try:
        trim = ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):  # not glibc (macOS, musl): nothing to trim
        trim = None
    if trim is not None:
        trim(0)


@dataclass(frozen=True)
class TrainedLM:
    """A trained language model as plain data.

    Attributes
    ----------
    state_dict : dict of str -> Tensor
        The weights of a default `ByteTransformer`.
    losses : ndarray of float64, shape (n_steps,)
        Training loss of each step, in nats per byte.
    seconds : float
        Wall time of the training.
    epsilon : float
        The DP guarantee (``inf`` for non-private training), at the delta it was trained for (1e-5 by default).
    """

    state_dict: dict
    losses: np.ndarray
    seconds: float
    epsilon: float = float("inf")

    @property
    def steps(self) -> int:
        return len(self.losses)

    def as_dict(self) -> dict:
        """Plain data for `utils.cache.cached`: tensors, an array and floats."""
        return {"state_dict": self.state_dict, "losses": self.losses, "seconds": self.seconds,
                "epsilon": self.epsilon}

    @classmethod
    def from_dict(cls, data: dict) -> TrainedLM:
        return cls(data["state_dict"], np.asarray(data["losses"]), float(data["seconds"]), float(data["epsilon"]))

    def model(self) -> ByteTransformer:
        """The network, in eval mode."""
        model = ByteTransformer()
        model.load_state_dict(self.state_dict)
        return model.eval()


def _batches(n_texts: int, batch_size: int, rng: np.random.Generator):
    order = rng.permutation(n_texts)
    return [order[i:i + batch_size] for i in range(0, n_texts, batch_size)]


def length_groups(lengths: np.ndarray) -> list[np.ndarray]:
    """Split a batch's rows into (at most) two groups that waste the least padding.

    A batch pads every text to its longest; the lesson's canaries are a quarter the length of its
    records, so a mixed batch computes mostly padding for them. The rows sorted by length are cut
    where ``len(short) * longest_short + len(long) * longest`` is smallest, if that saves a tenth of the
    padded positions (a smaller saving is not worth a second, smaller pass).

    Parameters
    ----------
    lengths : ndarray of int, shape (n_rows,)

    Returns
    -------
    list of ndarray of int64
        Positions into `lengths`, one array per group.
    """
    order = np.argsort(lengths, kind="stable")
    ranked = np.asarray(lengths)[order]
    n = len(ranked)
    costs = [k * ranked[k - 1] + (n - k) * ranked[-1] for k in range(1, n)]
    if not costs or min(costs) > 0.9 * n * ranked[-1]:
        return [order]
    k = 1 + int(np.argmin(costs))
    return [order[:k], order[k:]]


def _step_loss(model, inputs, targets, mask, rows):
    """The batch's mean loss per real byte, each length group padded to its own longest text only.

    The same loss and gradient (to float rounding) as one forward pass over the whole padded batch:
    the model is causal and per-text (no batch statistics), so padding at the end changes nothing.
    """
    lengths = mask[rows].sum(axis=1)
    total, count = 0.0, 0
    for group in length_groups(lengths):
        chosen, length = rows[group], int(lengths[group].max())
        x = torch.from_numpy(inputs[chosen, :length])
        t = torch.from_numpy(targets[chosen, :length])
        m = torch.from_numpy(mask[chosen, :length])
        logits = model(x)
        per_byte = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), t.reshape(-1), reduction="none")
        total = total + (per_byte.view_as(t) * m).sum()
        count += int(m.sum())
    return total / count


def train_lm(texts, *, epochs: int = 30, batch_size: int = 32, lr: float = 3e-3, seed: int = 0,
             max_steps: int | None = None, progress: bool = False) -> TrainedLM:
    """Train a fresh `ByteTransformer` on `texts` (Lesson 09).

    Parameters
    ----------
    texts : list of str
        The training corpus, one record per text (repeated canaries appear several times).
    epochs : int, default=30
    batch_size : int, default=32
    lr : float, default=3e-3
        Adam's learning rate (gradients clipped to norm 1).
    seed : int, default=0
        Seeds the initial weights and the batch order.
    max_steps : int, optional
        Stop after this many steps (a step budget, for comparisons with DP-SGD).
    progress : bool, default=False
        A progress bar counting training steps.

    Returns
    -------
    TrainedLM
    """
    epochs = check_positive_int(epochs, "epochs")
    batch_size = check_positive_int(batch_size, "batch_size")
    lr = check_real(lr, "lr", positive=True)
    seed = check_seed(seed)
    inputs, targets, mask = encode_texts(texts)
    torch.manual_seed(seed)
    model = ByteTransformer()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    rng = np.random.default_rng(seed)
    total = epochs * -(-len(texts) // batch_size)
    total = total if max_steps is None else min(total, check_positive_int(max_steps, "max_steps"))
    losses = []
    start = time.perf_counter()
    model.train()
    with progress_bar(total=total, desc="training steps", disable=not progress, leave=False) as bar:
        for _ in range(epochs):
            for rows in _batches(len(texts), batch_size, rng):
                if len(losses) == total:
                    break
                loss = _step_loss(model, inputs, targets, mask, rows)
                optimizer.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                optimizer.step()
                losses.append(float(loss.detach()))
                bar.update(1)
    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    seconds = time.perf_counter() - start
    del model, optimizer
    release_memory()  # free the autograd graph's buffers now: a lesson trains six models in one kernel
    return TrainedLM(state, np.array(losses), seconds)


def train_lm_dp(texts, *, epsilon: float = 8.0, delta: float = 1e-5, epochs: int = 30, batch_size: int = 64,
                lr: float = 3e-3, max_grad_norm: float = 1.0, seed: int = 0, progress: bool = False) -> TrainedLM:
    """Train a fresh `ByteTransformer` on `texts` with DP-SGD (Opacus), at record-level `epsilon` (Lesson 09).

    Each *text* is one privacy unit: a canary repeated 16 times is 16 units, a group that the
    guarantee covers only with 16 times the epsilon (group privacy).

    Parameters
    ----------
    texts : list of str
    epsilon : float, default=8.0
        Target epsilon; Opacus calibrates the noise to reach it after `epochs`.
    delta : float, default=1e-5
        Below 1 / len(texts), as lesson 06 requires (a delta of 1/n would allow publishing one text outright).
    epochs, batch_size, lr, seed, progress
        As in `train_lm` (batches are Poisson-sampled, of `batch_size` records on average).
    max_grad_norm : float, default=1.0
        Per-record gradient clipping norm.

    Returns
    -------
    TrainedLM
        With ``epsilon`` the accountant's value after training.
    """
    from opacus import PrivacyEngine

    from ..defenses.dp import check_privacy_target

    epochs = check_positive_int(epochs, "epochs")
    epsilon, delta = check_privacy_target(epsilon, delta, len(texts))
    seed = check_seed(seed)
    inputs, targets, mask = encode_texts(texts)
    # Poisson sampling draws records in index order, so with the records sorted by length each physical
    # batch below holds texts of similar length and is padded to its own longest only (the canaries are a
    # quarter of a record's length). The order of the records changes nothing in the privacy accounting.
    by_length = np.argsort(mask.sum(axis=1), kind="stable")
    inputs, targets, mask = inputs[by_length], targets[by_length], mask[by_length]
    torch.manual_seed(seed)
    model = ByteTransformer()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    data = torch.utils.data.TensorDataset(*(torch.from_numpy(a) for a in (inputs, targets, mask)))
    generator = torch.Generator().manual_seed(seed)
    loader = torch.utils.data.DataLoader(data, batch_size=batch_size, shuffle=True, generator=generator)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "secure RNG turned off": fine for teaching, as in lesson 06
        engine = PrivacyEngine(accountant="rdp")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model, optimizer, loader = engine.make_private_with_epsilon(
            module=model, optimizer=optimizer, data_loader=loader, target_epsilon=epsilon, target_delta=delta,
            epochs=epochs, max_grad_norm=max_grad_norm, noise_generator=torch.Generator().manual_seed(seed + 1))
    from opacus.utils.batch_memory_manager import BatchMemoryManager

    losses, step_loss, step_rows = [], 0.0, 0
    start = time.perf_counter()
    model.train()
    bar = progress_bar(total=epochs * len(loader), desc="DP-SGD steps", disable=not progress, leave=False)
    # Physical batches of at most PHYSICAL_BATCH records (one logical Poisson batch is one step): per-record
    # gradients of 64 records at once held the lesson's peak memory; the step is the same.
    with bar, BatchMemoryManager(data_loader=loader, max_physical_batch_size=PHYSICAL_BATCH,
                                 optimizer=optimizer) as physical:
        for _ in range(epochs):
            for x, t, m in physical:
                optimizer.zero_grad()
                if len(x):  # Poisson sampling can draw an empty batch
                    length = int(m.sum(1).max())  # pad to this batch's longest text only
                    x, t, m = x[:, :length], t[:, :length], m[:, :length]
                    logits = model(x)
                    per_byte = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), t.reshape(-1), reduction="none")
                    # one mean per record, then the batch mean: each record's gradient is clipped as one unit
                    per_record = (per_byte.view_as(t) * m).sum(1) / m.sum(1).clamp(min=1)
                    loss = per_record.mean()
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")  # Opacus's "full backward hook" notice, every step
                        loss.backward()
                    step_loss, step_rows = step_loss + float(loss.detach()) * len(x), step_rows + len(x)
                optimizer.step()
                if not optimizer._is_last_step_skipped:  # the logical batch is complete: one DP-SGD step
                    if step_rows:
                        losses.append(step_loss / step_rows)
                    step_loss, step_rows = 0.0, 0
                    bar.update(1)
    spent = float(engine.get_epsilon(delta))
    state = {k.removeprefix("_module."): v.detach().clone() for k, v in model.state_dict().items()}
    seconds = time.perf_counter() - start
    del model, optimizer, loader, engine
    release_memory()  # Opacus's hooks form reference cycles that hold per-sample activations until collected
    return TrainedLM(state, np.array(losses), seconds, spent)


def fit_lm(texts, *, dp: bool = False, **options) -> dict:
    """`train_lm` (or `train_lm_dp` when `dp`) as plain data (`TrainedLM.as_dict`), the form the cache stores."""
    return (train_lm_dp if dp else train_lm)(list(texts), **options).as_dict()


def cached_lm(texts, *, dp: bool = False, **options) -> TrainedLM:
    """`fit_lm` through `utils.cache.cached`: trained once, loaded from ``data/cache`` afterwards (Lesson 09)."""
    from ..cache import cached

    return TrainedLM.from_dict(cached(fit_lm, list(texts), dp=dp, **options))


@torch.no_grad()
def bits_per_byte(model, texts, *, batch_size: int = 64) -> float:
    """The model's mean cross-entropy on `texts`, in bits per byte (lower = better model; 8 = knows nothing).

    Parameters
    ----------
    model : ByteTransformer
    texts : list of str

    Returns
    -------
    float
    """
    inputs, targets, mask = encode_texts(texts)
    total, count = 0.0, 0
    model.eval()
    for i in range(0, len(texts), batch_size):
        x, t, m = (torch.from_numpy(a[i:i + batch_size]) for a in (inputs, targets, mask))
        per_byte = F.cross_entropy(model(x).transpose(1, 2), t, reduction="none")
        total += float((per_byte * m).sum())
        count += int(m.sum())
    return total / count / np.log(2)
