"""The threat model of an audit: what the attacker gets, and so which attacks are fair game (Lesson 08).

An audit that runs every attack in the library answers the wrong question. The right question is
"what can *this* attacker do?", and that depends on two things:

- **outputs**: what one query returns. ``"confidences"``: the full probability vector (a typical
  prediction API). ``"labels"``: only the predicted class (confidence masking, lesson 07).
  Confidences include the label (it is their argmax), so every label-only attack is allowed too.
- **shadow_data**: whether the attacker holds records from the same population *and* knows the
  training recipe (often published in a model card), so that it can train shadow models.

    threat = ThreatModel(outputs="confidences", shadow_data=True)
    allowed_attacks(threat)          # ('gap', 'boundary-distance', 'label-robustness', 'loss', ..., 'rmia-online')
    excluded_attacks(threat)         # {} here; with labels only: {'loss': 'needs the confidences; ...', ...}

Every name is an attack of `utils.attacks.registry`, with the course's call shape.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["OUTPUTS", "ATTACK_NEEDS", "ThreatModel", "allowed_attacks", "excluded_attacks", "attack_needs",
           "check_threat"]

OUTPUTS = ("labels", "confidences")

# What each attack needs: the outputs it reads, and whether it trains shadow models. Ordered from
# the least to the most demanding, which is also roughly weakest to strongest on the course's target.
ATTACK_NEEDS = {
    # label-only attacks (lesson 07): they read the predicted label only
    "gap": {"outputs": "labels", "shadows": False},
    "boundary-distance": {"outputs": "labels", "shadows": False},
    "label-robustness": {"outputs": "labels", "shadows": True},  # calibrated per record on shadow models
    # one-threshold attacks (lesson 02)
    "loss": {"outputs": "confidences", "shadows": False},
    "confidence": {"outputs": "confidences", "shadows": False},
    "entropy": {"outputs": "confidences", "shadows": False},
    "modified-entropy": {"outputs": "confidences", "shadows": False},
    # shadow-model attacks (lesson 03); RMIA also compares with population records the attacker owns
    "shokri": {"outputs": "confidences", "shadows": True},
    "lira-offline": {"outputs": "confidences", "shadows": True},
    "rmia-offline": {"outputs": "confidences", "shadows": True},
    "lira-online": {"outputs": "confidences", "shadows": True},
    "rmia-online": {"outputs": "confidences", "shadows": True},
}


@dataclass(frozen=True)
class ThreatModel:
    """What the attacker has (Lesson 08).

    Attributes
    ----------
    outputs : {"confidences", "labels"}, default="confidences"
        What one query of the released model returns: the probability of every class, or only the
        predicted class.
    shadow_data : bool, default=True
        The attacker owns records from the same population and knows the recipe, so it can train
        shadow models (lesson 03).
    """

    outputs: str = "confidences"
    shadow_data: bool = True

    def __post_init__(self):
        if self.outputs not in OUTPUTS:
            guessed = str(self.outputs).lower().startswith(("prob", "score", "conf"))
            hint = " (did you mean 'confidences'?)" if guessed else ""
            raise ValueError(f"outputs must be one of {list(OUTPUTS)}, got {self.outputs!r}{hint}.")
        if not isinstance(self.shadow_data, bool):
            raise ValueError(
                f"shadow_data must be True or False, got {self.shadow_data!r} ({type(self.shadow_data).__name__})."
            )

    @property
    def label(self) -> str:
        """A short name for tables and titles, e.g. "full confidences and shadow data"."""
        outputs = "full confidences" if self.outputs == "confidences" else "labels only"
        return f"{outputs} and {'shadow data' if self.shadow_data else 'no shadow data'}"

    def describe(self) -> str:
        """One sentence that says what this attacker has, for reports and verdicts."""
        outputs = (
            "sees the full confidence vector of every query"
            if self.outputs == "confidences"
            else "sees only the predicted label of every query"
        )
        shadows = (
            "owns records from the same population and knows the training recipe, so it can train shadow models"
            if self.shadow_data
            else "has no data of its own and cannot train shadow models"
        )
        return f"The attacker {outputs}, and {shadows}."


def attack_needs(attack: str) -> dict:
    """``{"outputs": ..., "shadows": ...}`` for a known attack name; a clear error otherwise."""
    if attack not in ATTACK_NEEDS:
        raise ValueError(f"unknown attack {attack!r}; the capstone knows {list(ATTACK_NEEDS)}.")
    return dict(ATTACK_NEEDS[attack])


def check_threat(threat_model) -> ThreatModel:
    """`threat_model` itself if it is a `ThreatModel`; a clear error that shows how to build one otherwise."""
    if not isinstance(threat_model, ThreatModel):
        raise ValueError(
            f"threat_model must be a utils.capstone.ThreatModel, got {type(threat_model).__name__}. "
            "Build one with ThreatModel(outputs='labels', shadow_data=False)."
        )
    return threat_model


def _reason(attack: str, threat_model: ThreatModel) -> str | None:
    needs = ATTACK_NEEDS[attack]
    if needs["outputs"] == "confidences" and threat_model.outputs == "labels":
        return "needs the confidences; this attacker sees labels only"
    if needs["shadows"] and not threat_model.shadow_data:
        return "trains shadow models; this attacker has no shadow data"
    return None


def allowed_attacks(threat_model: ThreatModel) -> tuple[str, ...]:
    """The attacks this attacker can run, from the least to the most demanding (Lesson 08).

    Parameters
    ----------
    threat_model : ThreatModel

    Returns
    -------
    tuple of str
        Attack names (keys of `ATTACK_NEEDS`). Label-only attacks are always allowed: confidences
        include the label.

    Examples
    --------
    >>> allowed_attacks(ThreatModel(outputs="labels", shadow_data=True))
    ('gap', 'boundary-distance', 'label-robustness')
    """
    threat_model = check_threat(threat_model)
    return tuple(a for a in ATTACK_NEEDS if _reason(a, threat_model) is None)


def excluded_attacks(threat_model: ThreatModel) -> dict[str, str]:
    """The attacks this attacker cannot run, each with the reason (Lesson 08)."""
    threat_model = check_threat(threat_model)
    return {a: r for a in ATTACK_NEEDS if (r := _reason(a, threat_model)) is not None}
