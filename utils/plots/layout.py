"""Keeping a figure's text readable: point labels that never overlap, legends clear of the data.

Two tools, used by the other plot modules:

- `place_labels` attaches an invisible artist to an Axes that, every time the figure is drawn,
  moves a set of point annotations so that no label overlaps another label, a marker, the legend
  or any other text of the Axes, and none leaves the Axes. It measures the labels with the
  renderer (their real extents in pixels, whatever the font, DPI or axis limits set after the
  plot call), tries positions around each point from the nearest outwards in a fixed order, and
  joins a label that had to move away from its point with a thin leader line. The result depends
  only on the figure, so it is the same on every run.
- `legend_below` puts a legend under the x-axis label, where it cannot cover curves or markers.
- `keep_legend_clear` puts a legend, at draw time, in the first corner of the Axes where it covers
  no bar, marker, text or line, or right of the Axes when no corner is free.

`text_boxes` and `overlapping_pairs` measure what was drawn (used by the tests).
"""

from __future__ import annotations

import itertools

import numpy as np
from matplotlib import rcParams
from matplotlib.artist import Artist
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.font_manager import FontProperties
from matplotlib.text import Annotation, Text
from matplotlib.transforms import Bbox, offset_copy

__all__ = ["place_labels", "legend_below", "keep_legend_clear", "text_boxes", "overlapping_pairs"]

# Positions tried around a point, in this order: the preferred one first (up and right, where a
# reader looks for a label), then the other corners, then the sides. (dx, dy) of the label's
# nearest corner or edge from the point.
_DIRECTIONS = ((1, 1), (1, -1), (-1, 1), (-1, -1), (1, 0), (-1, 0), (0, 1), (0, -1))
_DISTANCES_PT = (3, 8, 14, 22, 32, 44, 58, 74)  # from the marker's edge, in points
_LEADER_PT = 10  # a label further than this from its marker's edge gets a leader line
_NEAR_PT = 6  # a label closer than this to another point's marker could be read as that point's
_HA = {1: "left", 0: "center", -1: "right"}
_VA = {1: "bottom", 0: "center", -1: "top"}


def _overlap(a: Bbox, b: Bbox) -> float:
    """Area (pixels^2) shared by two boxes; 0 when they only touch."""
    w = min(a.x1, b.x1) - max(a.x0, b.x0)
    h = min(a.y1, b.y1) - max(a.y0, b.y0)
    return w * h if w > 0 and h > 0 else 0.0


def _outside(box: Bbox, frame: Bbox) -> float:
    """Area of `box` that lies outside `frame`."""
    return box.width * box.height - _overlap(box, frame)


def _text_box(text, renderer) -> Bbox:
    """Pixel box of a text's characters only (an annotation's own box also spans its arrow)."""
    if isinstance(text, Annotation):
        text.update_positions(renderer)
    return Text.get_window_extent(text, renderer)


def _markers(ax, renderer, *, lines: bool = True) -> list[Bbox]:
    """Pixel boxes of every marker drawn in `ax`: scatter points, and line markers (error-bar caps too)."""
    boxes = []
    scale = renderer.points_to_pixels(1.0)
    for coll in ax.collections:
        if not isinstance(coll, PathCollection) or not coll.get_visible():
            continue
        offsets = np.asarray(coll.get_offsets(), dtype=float)
        if offsets.size == 0:
            continue
        xy = coll.get_offset_transform().transform(offsets)
        sizes = np.broadcast_to(np.asarray(coll.get_sizes(), dtype=float) if len(coll.get_sizes()) else [36.0],
                                (len(xy),))
        for (x, y), s in zip(xy, sizes):
            r = np.sqrt(s) / 2 * scale
            if np.isfinite(x) and np.isfinite(y):
                boxes.append(Bbox([[x - r, y - r], [x + r, y + r]]))
    for line in ax.get_lines() if lines else ():
        if not line.get_visible() or line.get_marker() in (None, "", " ", "None", "none"):
            continue
        xy = line.get_transform().transform(np.column_stack([line.get_xdata(), line.get_ydata()]).astype(float))
        r = line.get_markersize() / 2 * scale
        boxes += [Bbox([[x - r, y - r], [x + r, y + r]]) for x, y in xy if np.isfinite(x) and np.isfinite(y)]
    return boxes


def _segments(ax) -> list[Bbox]:
    """Pixel boxes of the segments of line collections (e.g. error-bar whiskers): soft obstacles."""
    boxes = []
    for coll in ax.collections:
        if isinstance(coll, LineCollection) and coll.get_visible():
            transform = coll.get_transform()
            for seg in coll.get_segments():
                xy = transform.transform(np.asarray(seg, dtype=float))
                (x0, y0), (x1, y1) = xy.min(axis=0), xy.max(axis=0)
                boxes.append(Bbox([[x0 - 1, y0 - 1], [x1 + 1, y1 + 1]]))
    return boxes


def _wrap(text: str) -> str:
    """`text` on two lines: before its last " (" (``"name (attack)"``), else at the space nearest its middle."""
    if "\n" in text or " " not in text.strip():
        return text
    cut = text.rfind(" (")
    if cut <= 0:
        spaces = [i for i, c in enumerate(text) if c == " "]
        cut = min(spaces, key=lambda i: abs(i - len(text) / 2))
    return text[:cut] + "\n" + text[cut + 1:]


class _LabelPlacer(Artist):
    """Invisible artist that places its annotations when the Axes is drawn (see `place_labels`)."""

    def __init__(self, annotations, anchors_pt):
        super().__init__()
        self.annotations = list(annotations)
        self.anchors_pt = list(anchors_pt)  # each point's marker radius, in points
        self.preferred = None  # where the caller put each label: read at the first draw, tried first every draw
        self.set_zorder(-1e9)  # drawn before every other artist of the Axes, so the labels draw where it put them
        self.set_in_layout(False)

    def get_window_extent(self, renderer=None):
        return Bbox.null()

    def draw(self, renderer):
        if not self.get_visible():
            return
        ax = self.axes
        if self.preferred is None:
            self.preferred = [(tuple(a.xyann), a.get_ha(), a.get_va()) for a in self.annotations]
            self.texts = [a.get_text() for a in self.annotations]
        frame = ax.get_window_extent(renderer).padded(-4)  # clear of the spines
        hard = list(_markers(ax, renderer))
        legend = ax.get_legend()
        if legend is not None and legend.get_visible():
            hard.append(legend.get_window_extent(renderer))
        mine = {id(a) for a in self.annotations}
        hard += [_text_box(t, renderer) for t in ax.texts
                 if id(t) not in mine and t.get_visible() and t.get_text()]
        soft = _segments(ax)
        placed: list[Bbox] = []

        points = _markers(ax, renderer, lines=False)
        near = renderer.points_to_pixels(_NEAR_PT)
        leader_px = renderer.points_to_pixels(_LEADER_PT)

        def search(ann, radius_px, candidates):
            # A label right next to another point reads as that point's label: the other points'
            # markers, grown by _NEAR_PT, count like whiskers (avoided when a clean spot exists). So
            # does a leader line that would run along a whisker or past another point.
            own = ax.transData.transform(np.asarray(ann.xy, dtype=float)) if ann.xycoords == "data" else None
            others = [m.padded(near) for m in points
                      if own is None or np.hypot(m.x0 + m.width / 2 - own[0], m.y0 + m.height / 2 - own[1]) > 1]
            best, best_key = None, None
            for rank, (offset, ha, va) in enumerate(candidates):
                ann.xyann = offset
                ann.set_ha(ha)
                ann.set_va(va)
                box = _text_box(ann, renderer)
                clash = _outside(box, frame) + sum(_overlap(box, b) for b in itertools.chain(hard, placed))
                graze = sum(_overlap(box, b) for b in itertools.chain(soft, others))
                if own is not None:
                    end = np.clip(own, [box.x0, box.y0], [box.x1, box.y1])  # the box's point nearest the point
                    length = np.hypot(*(end - own))
                    if length - radius_px > leader_px:
                        start = own + (end - own) / length * (radius_px + 1)
                        line = Bbox([np.minimum(start, end) - 0.5, np.maximum(start, end) + 0.5])
                        graze += sum(_overlap(line, b) for b in itertools.chain(soft, others, placed))
                key = (clash > 0, clash, graze > 0, rank)
                if best_key is None or key < best_key:
                    best, best_key = (offset, ha, va, box), key
                if clash == 0 and graze == 0:
                    break
            return best, best_key

        for ann, radius, preferred, text in zip(self.annotations, self.anchors_pt, self.preferred, self.texts):
            ann.set_text(text)  # a label wrapped by an earlier draw starts from its own text again
            if not ann.get_visible() or not text:
                continue
            candidates = [preferred]
            for d, (dx, dy) in itertools.product(_DISTANCES_PT, _DIRECTIONS):
                reach = (radius + d) * (0.75 if dx and dy else 1.0)  # diagonals: the corner sits on a circle
                candidates.append(((dx * reach, dy * reach), _HA[dx], _VA[dy]))
            radius_px = renderer.points_to_pixels(radius)
            best, key = search(ann, radius_px, candidates)
            wrapped = _wrap(text)
            if (key[0] or key[2]) and wrapped != text:  # no clean spot for one line: try it on two lines
                ann.set_text(wrapped)
                best_wrapped, key_wrapped = search(ann, radius_px, candidates)
                if key_wrapped[:3] < key[:3]:
                    best = best_wrapped
                else:
                    ann.set_text(text)
            offset, ha, va, box = best
            ann.xyann = offset
            ann.set_ha(ha)
            ann.set_va(va)
            placed.append(box)
            if ann.arrow_patch is not None:
                distance = np.hypot(*offset) - radius
                ann.arrow_patch.set_visible(bool(distance > _LEADER_PT))


def place_labels(ax, annotations, *, marker_sizes=36.0):
    """Keep `annotations` (point labels made with ``ax.annotate(..., textcoords="offset points")``) readable.

    Every time the figure is drawn, each label is put at the first position, nearest first, where
    it overlaps no label placed before it, no marker, no legend and no other text, and stays inside
    the Axes: first where the caller put it, then above-right, below-right, above-left, below-left,
    right, left, above and below the point, further out step by step. A label that finds no free
    position on one line (or only one across an error bar) is tried on two lines, split before its
    last " (" (or at its middle space); where no position is free, the one with the least overlap
    wins. A label that ends up away from its point is joined to it
    by a leader line (give the annotation ``arrowprops``; the line shows only when needed).

    Parameters
    ----------
    ax : matplotlib Axes
    annotations : sequence of matplotlib Annotation, length n
        Placed in this order (earlier labels keep the better spots).
    marker_sizes : float or array-like of float, shape (n,), default=36
        Each point's marker area in points^2 (scatter's ``s``): labels start outside the marker.

    Returns
    -------
    The invisible placing artist (added to `ax`).
    """
    annotations = list(annotations)
    sizes = np.broadcast_to(np.asarray(marker_sizes, dtype=float), (len(annotations),))
    placer = _LabelPlacer(annotations, np.sqrt(sizes) / 2)
    ax.add_artist(placer)
    return placer


class _LegendKeeper(Artist):
    """Invisible artist that moves one legend to a free spot when the Axes is drawn (see `keep_legend_clear`)."""

    LOCS = ("upper right", "upper left", "lower left", "lower right", "upper center", "lower center",
            "center right", "center left")

    def __init__(self, legend):
        super().__init__()
        self.legend = legend
        self.set_zorder(-1e9)
        self.set_in_layout(False)

    def get_window_extent(self, renderer=None):
        return Bbox.null()

    def draw(self, renderer):
        ax, legend = self.axes, self.legend
        if not self.get_visible() or ax.get_legend() is not legend:  # replaced by the caller: theirs to place
            return
        hard = [p.get_window_extent(renderer) for p in ax.patches if p.get_visible()]
        hard += [_text_box(t, renderer) for t in ax.texts if t.get_visible() and t.get_text()]
        hard += _segments(ax) + _markers(ax, renderer)
        verts = [line.get_transform().transform(np.column_stack([line.get_xdata(), line.get_ydata()]).astype(float))
                 for line in ax.get_lines() if line.get_visible()]
        verts = np.concatenate(verts) if verts else np.empty((0, 2))
        best, best_key = None, None
        for rank, loc in enumerate(self.LOCS):
            legend.set_loc(loc)
            legend.set_bbox_to_anchor(None)
            box = legend.get_window_extent(renderer)
            clash = sum(_overlap(box, b) for b in hard)
            inside_box = ((verts[:, 0] > box.x0) & (verts[:, 0] < box.x1) & (verts[:, 1] > box.y0)
                          & (verts[:, 1] < box.y1))
            # a line crossing the box without a vertex in it (an axhline) still counts, through its segments
            crossing = sum(line.get_path().transformed(line.get_transform()).intersects_bbox(box, filled=False)
                           for line in ax.get_lines() if line.get_visible())
            key = (clash > 0, int(inside_box.sum()) + crossing > 0, rank)
            if best_key is None or key < best_key:
                best, best_key = loc, key
        if best_key[0] or best_key[1]:  # no free corner inside: right of the axes, where nothing is drawn
            legend.set_loc("upper left")
            legend.set_bbox_to_anchor((1.01, 1), transform=ax.transAxes)
        else:
            legend.set_loc(best)
            legend.set_bbox_to_anchor(None)


def keep_legend_clear(ax, legend=None):
    """Place `legend` (default: the Axes' legend) where it covers nothing, each time the figure is drawn.

    Tries the corners and edges of the Axes in a fixed order (upper right first) and takes the first
    where the legend overlaps no bar, marker, text or error bar and no line; when there is none, the
    legend goes right of the Axes. If the caller later replaces the legend (``ax.legend(...)``
    again), the new one is left where the caller put it. Returns the invisible placing artist.
    """
    legend = legend if legend is not None else ax.get_legend()
    if legend is None:
        raise ValueError("the Axes has no legend; call ax.legend(...) first.")
    keeper = _LegendKeeper(legend)
    ax.add_artist(keeper)
    return keeper


def legend_below(ax, *, ncol: int = 1, **kwargs):
    """A legend under the Axes' x-axis label (and tick labels), where it covers no data.

    The gap is measured in points from the tick and label font sizes and their line counts, so it
    holds for any figure height (a fraction of the Axes would not). Extra keywords go to
    ``ax.legend``; returns the Legend.
    """
    def points(size):
        return FontProperties(size=size).get_size_in_points()

    # Format the tick values directly rather than calling ax.get_xticklabels(), which makes matplotlib
    # build every Tick object (a quarter of a second on log axes, paid by each ROC drawn).
    texts = ax.xaxis.get_major_formatter().format_ticks(ax.xaxis.get_majorticklocs())
    tick_lines = max([1] + [str(text).count("\n") + 1 for text in texts])
    label_lines = ax.get_xlabel().count("\n") + 1 if ax.get_xlabel() else 0
    tick_size = points(rcParams["xtick.labelsize"]) * (1.45 if ax.get_xscale() == "log" else 1.2)  # 10^x is taller
    gap = (rcParams["xtick.major.size"] + rcParams["xtick.major.pad"] + tick_lines * tick_size
           + rcParams["axes.labelpad"] + label_lines * 1.2 * points(rcParams["axes.labelsize"]) + 6)
    anchor = offset_copy(ax.transAxes, fig=ax.figure, x=0, y=-gap, units="points")
    kwargs.setdefault("fontsize", "small")
    return ax.legend(loc="upper center", bbox_to_anchor=(0.5, 0), bbox_transform=anchor, ncol=ncol, **kwargs)


def text_boxes(ax, renderer=None) -> list[tuple[str, Bbox]]:
    """(text, pixel box of its characters) of every visible, non-empty text of `ax` (``ax.texts``), after a draw."""
    if renderer is None:
        ax.figure.canvas.draw()
        renderer = ax.figure.canvas.get_renderer()
    return [(t.get_text(), _text_box(t, renderer)) for t in ax.texts if t.get_visible() and t.get_text()]


def overlapping_pairs(boxes, *, min_area: float = 1.0) -> list[tuple[int, int]]:
    """Index pairs (i, j), i < j, of `boxes` (Bboxes) sharing more than `min_area` pixels^2."""
    return [(i, j) for (i, a), (j, b) in itertools.combinations(enumerate(boxes), 2) if _overlap(a, b) > min_area]
