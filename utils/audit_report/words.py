"""The words of an audit report for a reader who is not an engineer: attack names and a glossary (Lesson 08).

`PLAIN_NAMES` gives each attack of the capstone (keys: `utils.attacks.registry` names) the name
the report prints, and `ATTACK_GLOSSARY` one sentence on what it does; `TERMS` explains the
measures. The report's tables and text use these, never code identifiers.
"""

from __future__ import annotations

__all__ = ["PLAIN_NAMES", "ATTACK_GLOSSARY", "TERMS", "plain_name"]

PLAIN_NAMES = {
    "gap": "Right-or-wrong test",
    "boundary-distance": "Noise-to-flip test",
    "label-robustness": "Noisy-copies test",
    "loss": "Loss threshold",
    "confidence": "Confidence threshold",
    "entropy": "Uncertainty threshold",
    "modified-entropy": "Corrected uncertainty threshold",
    "shokri": "Shadow-model classifier (Shokri)",
    "lira-offline": "Likelihood-ratio attack, offline (LiRA)",
    "lira-online": "Likelihood-ratio attack, online (LiRA)",
    "rmia-offline": "Relative-membership attack, offline (RMIA)",
    "rmia-online": "Relative-membership attack, online (RMIA)",
}

ATTACK_GLOSSARY = {
    "gap": "Guesses \"member\" whenever the model's answer is right: training records are answered right more often.",
    "boundary-distance": "Adds growing noise to a record until the model's answer changes: training records "
    "resist more noise.",
    "label-robustness": "Asks about many noisy copies of a record and compares how often the answer survives with "
    "shadow models that did and did not train on it.",
    "loss": "Flags records on which the model's error (its loss) is unusually small.",
    "confidence": "Flags records for which the model is unusually confident of the right answer.",
    "entropy": "Flags records on which the model is unusually certain, whatever the answer.",
    "modified-entropy": "Like the uncertainty threshold, but a confident wrong answer counts against membership.",
    "shokri": "Trains a classifier on shadow models' answers to tell members from non-members (Shokri et al., 2017).",
    "lira-offline": "Compares the model's confidence on a record with shadow models that never trained on it "
    "(Carlini et al., 2022).",
    "lira-online": "Compares the model's confidence on a record with shadow models that did and did not train on "
    "it (Carlini et al., 2022).",
    "rmia-offline": "Compares a record with population records, through shadow models that never trained on it "
    "(Zarifzadeh et al., 2024).",
    "rmia-online": "Compares a record with population records, through shadow models that did and did not train "
    "on it (Zarifzadeh et al., 2024).",
}

TERMS = {
    "Member": "A person whose record was in the model's training data.",
    "Shadow model": "A copy of the model that the attacker trains itself, with the published recipe, on records "
    "it chose, so that it knows which records each copy saw.",
    "True positive rate (TPR)": "The share of members an attack identifies.",
    "False positive rate (FPR)": "The share of non-members an attack wrongly accuses. The report reads attacks at "
    "1% and 0.1%: an attacker who names people must make few false accusations.",
    "95% interval": "The range in which the true rate lies with 95% confidence (Clopper-Pearson), given how many "
    "records were tested.",
    "AUC": "How well an attack ranks members above non-members overall: 0.5 is a coin toss, 1.0 is perfect. It "
    "averages over every false positive rate, so it can hide a leak at the low rates that matter.",
    "Differential privacy (epsilon)": "A training method with a proven bound on every attack; a smaller epsilon is "
    "a stronger bound.",
}


def plain_name(attack: str) -> str:
    """The report's name for `attack` (a registry name); the name itself where none is defined."""
    return PLAIN_NAMES.get(attack, attack)
