#!/usr/bin/env python3
"""gpc_fluid.py: a fluid sketch of equal CTAs sharing the memory link by GPC.

    gpc_fluid.py GPCMAP.csv SPANS.txt [--cap C] [--y Y,...] [--x X,...]

Not the simulator: a model small enough to test one question, whether the
link's share follows the GPC or the SM, on the spans of FA2's plans of
equal CTAs beyond one per SM (`run-on-gpu.sh timelines` with
kernels/sweep-pairs.txt; SPANS.txt is its spans file, cta_spans.py's
lines).  N CTAs of one unit of work each start at once: the first 132
one per SM in SM order, the rest in the order the H100's block scheduler
was seen to use (SMs 124-131, then the even SMs, then the odd ones).  The
link serves 132 units of work per unit of time, split among the running
CTAs by weight and water-filled under a per-CTA ceiling of C (C = 1: what
one CTA streams when every SM holds one).  A CTA weighs (n_g / s_g)^-y,
n_g the CTAs running in its GPC of s_g SMs (GPCs from `build/gpcmap`'s
clusters, gpc_rates.py), times k^-x, k the CTAs on its SM.  Prints, per
(y, x), each span over the span of 132 CTAs beside the measured one, and
the mean absolute difference.  Bad input exits 2 naming it.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gpc_rates  # noqa: E402

SMS = 132


def fail(msg):
    sys.stderr.write("gpc_fluid.py: %s\n" % msg)
    sys.exit(2)


def measured_spans(path):
    """{CTAs: span} of FA2's lines at the first context length of SPANS.txt."""
    spans, ctx = {}, None
    try:
        with open(path) as f:
            for line in f:
                t = line.split()
                if not t or t[0] != "fa2":
                    continue
                kv = dict(x.split("=", 1) for x in t if "=" in x)
                if ctx is None:
                    ctx = kv.get("ctx")
                if kv.get("ctx") != ctx or "span" not in t:
                    continue
                spans[int(kv["ctas"])] = float(t[t.index("span") + 1])
    except (OSError, ValueError, KeyError) as e:
        fail("%s: %s" % (path, getattr(e, "strerror", None) or "not a cta_spans.py file (%s)" % e))
    if SMS not in spans:
        fail("%s: no FA2 line of %d CTAs to scale by" % (path, SMS))
    return spans


def span(n, gpc, size, order2, y, x, cap):
    sm = list(range(SMS))[:min(n, SMS)] + order2[:max(0, n - SMS)]
    rem, t, active = [1.0] * n, 0.0, set(range(n))
    while active:
        in_gpc, on_sm = {}, {}
        for c in active:
            in_gpc[gpc[sm[c]]] = in_gpc.get(gpc[sm[c]], 0) + 1
            on_sm[sm[c]] = on_sm.get(sm[c], 0) + 1
        w = {c: (in_gpc[gpc[sm[c]]] / size[gpc[sm[c]]]) ** -y * on_sm[sm[c]] ** -x for c in active}
        rate, free, link = {}, set(active), float(SMS)
        while free:   # water-fill: shares by weight, none above the ceiling
            wsum = sum(w[c] for c in free)
            over = [c for c in free if w[c] / wsum * link > cap]
            if not over:
                for c in free:
                    rate[c] = w[c] / wsum * link
                break
            for c in over:
                rate[c] = cap
                link -= cap
                free.discard(c)
        dt = min(rem[c] / rate[c] for c in active)
        t += dt
        for c in list(active):
            rem[c] -= rate[c] * dt
            if rem[c] <= 1e-9:
                active.discard(c)
    return t


def floats(s, what):
    try:
        return [float(v) for v in s.split(",")]
    except ValueError:
        fail("%s %s: not a comma-separated list of numbers" % (what, s))


def main():
    args = sys.argv[1:]
    if len(args) < 2:
        fail("usage: gpc_fluid.py GPCMAP.csv SPANS.txt [--cap C] [--y Y,...] [--x X,...]")
    cap, ys, xs = 1.5, [0.0, 0.2, 0.5, 1.0], [0.0]
    i = 2
    while i < len(args):
        if i + 1 >= len(args) or args[i] not in ("--cap", "--y", "--x"):
            fail("%s: unknown option or missing value" % args[i])
        v = floats(args[i + 1], args[i])
        if args[i] == "--cap":
            cap = v[0]
        elif args[i] == "--y":
            ys = v
        else:
            xs = v
        i += 2
    if not cap >= 1:
        fail("--cap %g: at least 1 (one CTA per SM must fit)" % cap)
    gpc, sizes = gpc_rates.gpc_of(args[0], SMS)
    size = dict(enumerate(sizes))
    order2 = list(range(124, SMS)) + list(range(0, 124, 2)) + list(range(1, 124, 2))
    meas = measured_spans(args[1])
    ns = sorted(n for n in meas if n > SMS)
    print("# per-CTA ceiling %.2f; spans over the span of %d CTAs" % (cap, SMS))
    print("%-16s %s  mean|diff|" % ("", " ".join("%6d" % n for n in ns)))
    print("%-16s %s" % ("measured", " ".join("%6.3f" % (meas[n] / meas[SMS]) for n in ns)))
    for y in ys:
        for x in xs:
            base = span(SMS, gpc, size, order2, y, x, cap)
            v = [span(n, gpc, size, order2, y, x, cap) / base for n in ns]
            diff = sum(abs(a / (meas[n] / meas[SMS]) - 1) for a, n in zip(v, ns)) / len(ns)
            print("%-16s %s  %.1f%%" % ("GPC y=%g SM x=%g" % (y, x), " ".join("%6.3f" % a for a in v), 100 * diff))


if __name__ == "__main__":
    main()
