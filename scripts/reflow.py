#!/usr/bin/env python3
"""Copy a folder of PTC articles reflowed into paragraphs, keeping every code-point offset.

PTC puts one sentence per line; users paste paragraphs. Each run of line breaks is one sentence
boundary; every Nth is kept and the others become as many spaces as they had characters, exactly as
`rhetor_core::corpus::reflow` (which cross-validation uses) does, so the gold labels stay valid.

    scripts/reflow.py IN_DIR OUT_DIR [--sentences 4] [--ids FILE]
"""
import argparse
import pathlib
import re
import sys


def reflow(text: str, sentences: int) -> str:
    out, n = [], 0
    for part in re.split(r"([\r\n]+)", text):
        if part and part[0] in "\r\n":
            n += 1
            out.append(part if n % sentences == 0 else " " * len(part))
        else:
            out.append(part)
    return "".join(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("src", type=pathlib.Path)
    ap.add_argument("dst", type=pathlib.Path)
    ap.add_argument("--sentences", type=int, default=4)
    ap.add_argument("--ids", type=pathlib.Path, help="only the article ids listed (one per line)")
    a = ap.parse_args()
    ids = set(a.ids.read_text().split()) if a.ids else None
    a.dst.mkdir(parents=True, exist_ok=True)
    n = 0
    for p in sorted(a.src.glob("article*.txt")):
        if ids is not None and p.stem[len("article"):] not in ids:
            continue
        # newline="" keeps \r\n as it is, so offsets count the same characters.
        with open(p, encoding="utf-8", newline="") as f:
            text = f.read()
        with open(a.dst / p.name, "w", encoding="utf-8", newline="") as f:
            f.write(reflow(text, max(1, a.sentences)))
        n += 1
    print(f"{n} articles reflowed into {a.dst}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
