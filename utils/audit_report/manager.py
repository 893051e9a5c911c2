"""The audit report for the manager who must decide: the verdict first, in plain words (Lesson 08).

`render_audit_report` turns what lesson 08 measured into one self-contained HTML document:

1. **Summary**: the risk level and what it means, the strongest attack's finding in one sentence,
   and the recommended next step;
2. **Recommendations**: every defence that was measured, with its measured cost (accuracy) and
   effect (the attack's success), and what none of them gives (a bound: differential privacy);
3. **What was tested**: the threat model, the attacks run and those ruled out;
4. **Findings**: one row per attack under plain names, with intervals, and the figures;
5. **Limitations**: what the threat model and the record counts leave uncovered;
6. **The auditor's verdict**, the **glossary**, and the model card as an appendix.

Every number is computed from the audit; every sentence that judges is chosen by a rule stated in
its function. Text is escaped as in `document.render_report`; headings nest h1 > h2 > h3; every
figure carries a text alternative.

    html = render_audit_report(audit, verdict=verdict, test_accuracy=release.test_accuracy,
                               model_card=release.model_card, points=points, baseline="released",
                               figures=figures, title="Privacy audit: PostCode digit reader v1")
"""

from __future__ import annotations

import datetime as _dt
import html as _html

from ..attacks import report
from ..capstone.audit import AuditResult, risk_level
from ..capstone.threat import ATTACK_NEEDS
from .document import CSS, check_text, figure_to_data_uri, table_to_html, text_to_html
from .words import ATTACK_GLOSSARY, PLAIN_NAMES, TERMS, plain_name

__all__ = ["RISK_MEANING", "render_audit_report", "summary_sentences", "recommendations", "limitations"]

RISK_MEANING = {
    "high": "Do not release the model as it is. It gives away whether identifiable people were in its "
    "training data.",
    "elevated": "Release only with a defence. The model leaks membership measurably better than a guess.",
    "not measurable": "No attack this audit could run beat a guess. That is not a proof of privacy: only "
    "differential privacy bounds every attack.",
}
FPR = 0.01


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def _row(audit: AuditResult, attack: str):
    return audit.table.set_index("attack").loc[attack]


def summary_sentences(audit: AuditResult, *, test_accuracy: float) -> tuple[str, str, str]:
    """(risk level, its meaning, the finding in one sentence) for the summary."""
    col = report.fpr_column(FPR)
    best = audit.strongest
    row = _row(audit, best)
    level = risk_level(float(row[col + "_low"]), FPR)
    finding = (
        f"The strongest attack ({plain_name(best)}) identifies {_pct(row[col])} of the people whose "
        f"records trained the model (95% interval {_pct(row[col + '_low'])} to {_pct(row[col + '_high'])}) while "
        f"wrongly accusing 1% of people who were not in it; a random guess identifies 1%. The model is "
        f"{_pct(test_accuracy)} accurate on records it never saw."
    )
    return level, RISK_MEANING[level], finding


def recommendations(points, *, baseline: str) -> list[str]:
    """One sentence per measured defence (its accuracy cost and the attack's success), best first.

    `points` are `utils.capstone.TradeoffPoint`s at one FPR; `baseline` names the released model's.
    A defence "lowers the leak" when its whole TPR interval lies below the baseline's TPR; the first
    sentence recommends the one with the lowest TPR among those costing at most one point of
    accuracy, and says whether it reaches a guess (its interval's low end at or below the FPR).
    """
    points = list(points)
    base = [p for p in points if p.name == baseline]
    if len(base) != 1:
        names = [p.name for p in points]
        raise ValueError(f"baseline {baseline!r} must name exactly one point; the points are {names}.")
    base = base[0]
    others = sorted((p for p in points if p is not base), key=lambda p: p.tpr)
    lines = []
    for p in others:
        cost = 100 * (p.accuracy - base.accuracy)
        effect = "lowers the leak" if p.tpr_high < base.tpr else "does not lower the leak"
        lines.append(
            f"{p.name}: accuracy {cost:+.1f} points ({_pct(p.accuracy)}); the strongest attack against it "
            f"({plain_name(p.attack)}) identifies {_pct(p.tpr)} of members (95% interval {_pct(p.tpr_low)} to "
            f"{_pct(p.tpr_high)}), against {_pct(base.tpr)} for the released model: it {effect}."
        )
    cheap = [p for p in others if base.accuracy - p.accuracy <= 0.01 and p.tpr_high < base.tpr]
    if cheap:
        best = cheap[0]
        reaches = best.tpr_low <= best.fpr
        lines.insert(0, (
            f"Recommended of the measured options: {best.name}, for {100 * (base.accuracy - best.accuracy):.1f} "
            f"points of accuracy. " + ("It brings the attack down to a guess at this false positive rate." if reaches
                                      else "It does not remove the leak: the attack still beats a guess.")
        ))
    else:
        lines.insert(0, "None of the measured options lowers the leak for at most one point of accuracy.")
    lines.append(
        "For a guarantee, train with differential privacy (DP-SGD, lesson 06): it bounds every attack by its "
        "epsilon. Its accuracy cost was not measured in this audit; measure it before deciding."
    )
    return lines


def limitations(audit: AuditResult) -> list[str]:
    """What this audit did not cover, from its threat model, its attacks and its record counts."""
    row = audit.table.iloc[0]
    n_members, n_non = int(row["n_members"]), int(row["n_nonmembers"])
    lines = []
    if audit.excluded:
        names = "; ".join(plain_name(a) for a in audit.excluded)
        lines.append(f"The threat model rules out some attackers, so these attacks were not run: {names}. An "
                     "attacker with more access than assumed could do better.")
    lines.append(f"The audit tested {n_members:,} members and {n_non:,} non-members: the smallest false positive "
                 f"rate it can measure is {100 / n_non:.2f}%, and every rate carries the interval shown.")
    if any(ATTACK_NEEDS.get(a, {}).get("shadows") for a in audit.attacks):
        lines.append("Shadow models were trained with the published recipe. If the real training differed, the "
                     "shadow attacks may understate the risk.")
    lines.append("An audit can show a leak, not prove there is none: a stronger attack, or more records, may "
                 "find more. Only differential privacy bounds every attack.")
    lines.append("Only membership was tested. What the training set reveals as a whole (property inference, "
                 "lesson 04) and what can be reconstructed from the model were not.")
    return lines


def _findings_table(audit: AuditResult) -> str:
    col, col_low = report.fpr_column(FPR), report.fpr_column(FPR) + "_low"
    strict = report.fpr_column(0.001)
    rows = []
    for _, r in audit.table.iterrows():
        rows.append({
            "Attack": plain_name(r["attack"]),
            "AUC": float(r["auc"]),
            "Members identified at 1% false accusations": _pct(r[col]),
            "95% interval": f"{_pct(r[col_low])} to {_pct(r[col + '_high'])}",
            "at 0.1% false accusations": _pct(r[strict]) if strict in r else "not measured",
            "Run time (seconds)": round(float(r["seconds"]), 1),
        })
    return table_to_html(rows)


def _list(items) -> str:
    return "<ul>" + "".join(f"<li>{_html.escape(i)}</li>" for i in items) + "</ul>"


def _figures(figures) -> list[str]:
    out = []
    for i, item in enumerate(figures):
        if not (isinstance(item, (tuple, list)) and len(item) in (2, 3)):
            raise ValueError(f"figures[{i}] must be (caption, figure) or (caption, figure, description), "
                             f"got {type(item).__name__}.")
        caption, fig, *described = item
        caption = check_text(caption, f"the caption of figures[{i}]")
        alt = check_text(described[0], f"the description of figures[{i}]") if described else caption
        out.append(f'<figure><img alt="{_html.escape(alt, quote=True)}" src="{figure_to_data_uri(fig)}">'
                   f"<figcaption>Figure {i + 1}. {_html.escape(caption)}</figcaption></figure>")
    return out


def _model_card(text: str) -> str:
    lines = text.strip().splitlines()
    if lines and lines[0].lower().startswith("model card"):  # its title is the section's heading
        lines = lines[1:]
    return text_to_html("\n".join(line.removeprefix("- ") for line in lines))


def render_audit_report(audit: AuditResult, *, verdict: str, test_accuracy: float, title: str, points=(),
                        baseline: str = "released", figures=(), model_card: str = "", author: str = "",
                        date: str | None = None) -> str:
    """The manager's audit report as one HTML document (Lesson 08; module docstring).

    Parameters
    ----------
    audit : utils.capstone.AuditResult
    verdict : str
        The auditor's own verdict (plain text; blank lines separate paragraphs).
    test_accuracy : float
        The released model's accuracy on records it never saw, in [0, 1].
    title : str
    points : sequence of TradeoffPoint, optional
        The privacy-utility chart's points (the released model's named `baseline`): the recommendations.
    figures : sequence of (caption, Figure) or (caption, Figure, description)
        The description (default: the caption) is the figure's text alternative.
    model_card : str, optional
    author : str, optional
        Blank: the report says the author is not named.
    date : str, optional
        Default: today (UTC), ISO format.
    """
    if not isinstance(audit, AuditResult):
        raise ValueError(f"audit must be an AuditResult from run_audit, got {type(audit).__name__}.")
    title, verdict = check_text(title, "title"), check_text(verdict, "verdict")
    author = check_text(author, "author", allow_empty=True).strip()
    model_card = check_text(model_card, "model_card", allow_empty=True)
    level, meaning, finding = summary_sentences(audit, test_accuracy=test_accuracy)
    recommended = recommendations(points, baseline=baseline) if points else []
    date = date if date is not None else _dt.datetime.now(_dt.UTC).date().isoformat()
    run = ", ".join(plain_name(a) for a in audit.attacks)
    ruled_out = "".join(f"<li>{_html.escape(plain_name(a))}: {_html.escape(why)}.</li>"
                        for a, why in audit.excluded.items())
    glossary = "".join(f"<dt>{_html.escape(PLAIN_NAMES[a])}</dt><dd>{_html.escape(ATTACK_GLOSSARY[a])}</dd>"
                       for a in audit.attacks if a in PLAIN_NAMES)
    terms = "".join(f"<dt>{_html.escape(t)}</dt><dd>{_html.escape(d)}</dd>" for t, d in TERMS.items())
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">', f"<title>{_html.escape(title)}</title>",
        f"<style>{CSS}</style></head><body>",
        f"<h1>{_html.escape(title)}</h1>",
        f'<p class="meta">{_html.escape(author) if author else "Author not named"} · {_html.escape(str(date))}</p>',
        '<section class="summary"><h2>Summary</h2>',
        f'<p class="risk risk-{level.replace(" ", "-")}">Risk: {_html.escape(level)}.</p>',
        f"<p><strong>{_html.escape(meaning)}</strong></p>", f"<p>{_html.escape(finding)}</p>",
        f"<p>Next step: {_html.escape(recommended[0])}</p>" if recommended else "",
        "</section>",
    ]
    if recommended:
        parts += ["<section><h2>Recommendations</h2>", _list(recommended), "</section>"]
    parts += [
        "<section><h2>What was tested</h2>", text_to_html(audit.threat_model.describe()),
        f"<p>Attacks run: {_html.escape(run)}.</p>",
        f"<h3>Ruled out by the threat model</h3><ul>{ruled_out}</ul>" if ruled_out else "",
        "</section>",
        "<section><h2>Findings</h2>", _findings_table(audit), *_figures(figures), "</section>",
        "<section><h2>Limitations</h2>", _list(limitations(audit)), "</section>",
        '<section class="verdict"><h2>The auditor\'s verdict</h2>', text_to_html(verdict), "</section>",
        f'<section class="glossary"><h2>Glossary</h2><h3>Attacks</h3><dl>{glossary}</dl>'
        f"<h3>Measures</h3><dl>{terms}</dl></section>",
    ]
    if model_card.strip():
        parts += ['<section class="appendix"><h2>Appendix: the model card</h2>', _model_card(model_card),
                  "</section>"]
    parts.append("</body></html>")
    return "\n".join(p for p in parts if p)
