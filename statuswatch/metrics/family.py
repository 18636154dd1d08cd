"""What every family module builds with: the declaration table, empty families, samples.

Each family module declares its families in a `Families` table (name -> type, help, labels) and
builds them at scrape time from it, so the table and the exposition cannot disagree.
"""

from __future__ import annotations

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.samples import Sample
from prometheus_client.utils import floatToGoString

from statuswatch.metrics.exposition import LabelSet, RenderedFamily
from statuswatch.monitor.tally import Buckets

Spec = tuple[str, str, tuple[str, ...]]  # (type, help, labels)
_CLASSES = {
    "gauge": GaugeMetricFamily,
    "counter": CounterMetricFamily,
    "histogram": HistogramMetricFamily,
}


class Families(dict[str, Spec]):
    """Declared families by name. Counter names carry _total as exposed; histograms and
    summaries add their suffixes."""

    def new(self, name: str) -> Metric:
        """An empty family of the declared type."""
        kind, text, labels = self[name]
        return _CLASSES[kind](name, text, labels=labels)

    def rendered(self, name: str) -> RenderedFamily:
        """An empty family of the declared type whose lines the caller renders itself."""
        kind, text, _labels = self[name]
        # Counter families are named without _total, as prometheus_client's own are.
        return RenderedFamily(
            name.removesuffix("_total") if kind == "counter" else name, text, kind
        )

    def gauge(self, name: str, value: float) -> Metric:
        """A family of one unlabelled sample."""
        fam = self.new(name)
        put(fam, {}, value)
        return fam

    def help(self, name: str) -> str:
        """The declared help text."""
        return self[name][1]


def put(fam: Metric, labels: dict[str, str], value: float) -> None:
    """Add one sample: what add_metric does, minus building a label dict per sample (the label
    sets are built once, as LabelSets rendered once too, and shared by every scrape)."""
    name = fam.name + "_total" if fam.type == "counter" else fam.name
    fam.samples.append(Sample(name, labels, float(value)))


class HistogramLabels:
    """LabelSets of one histogram series: each bucket's, and the base for _sum and _count."""

    __slots__ = ("base", "buckets")

    def __init__(self, base: dict[str, str], bounds: tuple[float, ...]) -> None:
        self.base = LabelSet(base)
        self.buckets = [
            LabelSet({**base, "le": floatToGoString(b)}) for b in (*bounds, float("inf"))
        ]


def put_histogram(fam: Metric, labels: HistogramLabels, hist: Buckets) -> None:
    """Add one histogram series: cumulative buckets, then _count and _sum."""
    counts, total = list(hist.counts), hist.sum  # copy first: observe() may run meanwhile
    add, name = fam.samples.append, fam.name
    running = 0
    for bucket, count in zip(labels.buckets, counts, strict=True):
        running += count
        add(Sample(name + "_bucket", bucket, float(running)))
    add(Sample(name + "_count", labels.base, float(running)))
    add(Sample(name + "_sum", labels.base, total))
