#!/usr/bin/env python3
"""The one place tests/mutate/run.sh reads a mutation's snippet.

  snippet.py check FILE FROM TO   FROM is in FILE exactly once and TO differs
  snippet.py apply FILE FROM TO   replaces that one FROM in FILE by TO

FROM and TO are as written in mutations.list: \\n is a newline and \\\\ a
backslash. Exits non-zero, saying why, when the snippet does not apply.
"""
import sys


def unescape(s):
    out, i = [], 0
    while i < len(s):
        if s[i] == '\\' and i + 1 < len(s) and s[i + 1] in 'n\\':
            out.append('\n' if s[i + 1] == 'n' else '\\')
            i += 2
        else:
            out.append(s[i])
            i += 1
    return ''.join(out)


def main():
    if len(sys.argv) != 5 or sys.argv[1] not in ('check', 'apply'):
        sys.exit("usage: snippet.py check|apply FILE FROM TO")
    mode, path = sys.argv[1], sys.argv[2]
    old, new = unescape(sys.argv[3]), unescape(sys.argv[4])
    try:
        text = open(path).read()
    except OSError as e:
        sys.exit("cannot read %s: %s" % (path, e.strerror))
    n = text.count(old)
    if n != 1:
        sys.exit("snippet found %d times in %s (it must be exactly once): update the entry's "
                 "from/to to the code as it is now, keeping the same breakage" % (n, path))
    if old == new:
        sys.exit("its 'to' is its 'from': the entry breaks nothing")
    if mode == 'apply':
        with open(path, 'w') as f:
            f.write(text.replace(old, new, 1))


main()
