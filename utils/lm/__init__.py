"""What language models remember about people (Lesson 09): a small byte-level transformer trained on
invented patient records with planted canaries, and the ways to find what it kept.

- `records` : Faker people as intake notes; canaries ("John Doe's PIN is ...") repeated 1-16 times.
- `model`   : `ByteTransformer`, about 286k weights; texts as padded bytes.
- `train`   : `train_lm`, `train_lm_dp` (Opacus DP-SGD), `cached_lm`, bits per byte.
- `exposure`: rank and exposure in bits (exact, skew-normal/normal estimate, sampled); greedy and beam extraction.
- `attacks` : loss, zlib, Min-K%, Min-K%++, reference and blind scores on text (registered in `utils.attacks`).
- `settings`: the overfit, one-pass and shifted evaluations; every attack on one of them.

Importing this package imports torch but no Faker and no Opacus (they load when first used).
"""

from . import attacks, exposure, model, records, settings, train  # noqa: F401

__all__ = ["attacks", "exposure", "model", "records", "settings", "train"]
