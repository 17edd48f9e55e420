#!/usr/bin/env python3
"""The include graph of hv/: modules (a .c and its .h count as one) and
which modules each includes. Prints every cycle and every include of an
arch or boot header (vmx/, svm/, x86/, efi/, drivers/) from hv/; exits 1
if there is any, 0 otherwise. --dot prints the graph for Graphviz.

    python3 tests/lib/include_graph.py [--dot] [DIR]
"""
import os
import re
import sys

FORBIDDEN = ("vmx/", "svm/", "x86/", "efi/", "drivers/")


def graph(top):
    edges, bad = {}, []
    for name in sorted(os.listdir(top)):
        if not name.endswith((".c", ".h")):
            continue
        mod = name[:-2]
        text = open(os.path.join(top, name), encoding="utf-8").read()
        for inc in re.findall(r'^\s*#\s*include\s+"([^"]+)"', text, re.M):
            if any(f in inc for f in FORBIDDEN):
                bad.append(f"{top}/{name} includes {inc}")
                continue
            if "/" in inc:          # ../include/mayfly/...: the ABI, not a module
                continue
            dep = inc[:-2]
            if dep != mod:
                edges.setdefault(mod, set()).add(dep)
        edges.setdefault(mod, set())
    return edges, bad


def cycles(edges):
    """Strongly connected components with more than one module."""
    index, low, stack, on, out, n = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = n[0]
        n[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def main():
    args = [a for a in sys.argv[1:] if a != "--dot"]
    top = args[0] if args else os.path.join(os.path.dirname(__file__), "..", "..", "hv")
    edges, bad = graph(top)
    if "--dot" in sys.argv:
        print("digraph hv {")
        for v in sorted(edges):
            for w in sorted(edges[v]):
                print(f'  "{v}" -> "{w}";')
        print("}")
        return 0
    found = cycles(edges)
    for c in found:
        print("include cycle: " + " <-> ".join(c))
    for b in bad:
        print("arch include in the core: " + b)
    print(f"{len(edges)} modules, {sum(len(e) for e in edges.values())} includes, "
          f"{len(found)} cycles, {len(bad)} arch includes")
    return 1 if found or bad else 0


if __name__ == "__main__":
    sys.exit(main())
