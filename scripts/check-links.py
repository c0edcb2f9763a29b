#!/usr/bin/env python3
"""check-links.py: every relative link of clae's manual resolves.

    scripts/check-links.py [ROOT]

Reads README.md, configs/README.md and docs/*.md under ROOT (default: the
source tree this script is in). For every Markdown link or image whose target
is not a URL (http:, https:, mailto:), the file must exist relative to the
linking file, and a #fragment must name a heading of that file (GitHub's
anchors: lower case, punctuation but '-' and '_' dropped, blanks to '-',
repeats numbered -1, -2, ...). Prints one line per broken link, FILE:LINE:
target: why, and exits 1 if there is any; else prints how many links it
checked and exits 0. Links inside fenced code blocks and inline code are not
links and are skipped."""
import os
import re
import sys

LINK = re.compile(r"!?\[(?:[^\]\[]|\[[^\]]*\])*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


def slug(text):
    text = re.sub(r"`([^`]*)`", r"\1", text)          # inline code keeps its text
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)  # links keep their text
    text = text.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)               # punctuation goes (unicode letters stay)
    return text.replace(" ", "-")


def lines_outside_code(path, keep_inline=False):
    """(line number, text) of the lines outside fenced code blocks, inline code
    removed (kept with keep_inline, for headings)."""
    fence = None
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            stripped = line.lstrip()
            m = re.match(r"(```+|~~~+)", stripped)
            if m:
                if fence is None:
                    fence = m.group(1)[0] * 3
                elif stripped.startswith(fence):
                    fence = None
                continue
            if fence is None:
                yield n, line if keep_inline else re.sub(r"`[^`]*`", "", line)


anchor_cache = {}


def anchors(path):
    if path not in anchor_cache:
        seen, out = {}, set()
        for _, line in lines_outside_code(path, keep_inline=True):
            m = HEADING.match(line)
            if not m:
                continue
            s = slug(m.group(2))
            k = seen.get(s, 0)
            seen[s] = k + 1
            out.add(s if k == 0 else f"{s}-{k}")
        # explicit <a id="..."> / <a name="..."> anchors count too
        with open(path, encoding="utf-8") as f:
            out.update(re.findall(r"<a\s+(?:id|name)=\"([^\"]+)\"", f.read()))
        anchor_cache[path] = out
    return anchor_cache[path]


def main():
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                           os.path.join(os.path.dirname(__file__), ".."))
    files = [os.path.join(root, "README.md"), os.path.join(root, "configs", "README.md")]
    docs = os.path.join(root, "docs")
    if os.path.isdir(docs):
        files += sorted(os.path.join(docs, f) for f in os.listdir(docs) if f.endswith(".md"))
    bad = checked = 0
    for path in files:
        if not os.path.exists(path):
            print(f"{os.path.relpath(path, root)}: missing")
            bad += 1
            continue
        for n, line in lines_outside_code(path):
            for target in LINK.findall(line):
                if re.match(r"[a-z][a-z0-9+.-]*:", target):
                    continue  # a URL
                checked += 1
                where = f"{os.path.relpath(path, root)}:{n}: {target}"
                file_part, _, frag = target.partition("#")
                dest = path if not file_part else os.path.normpath(
                    os.path.join(os.path.dirname(path), file_part))
                if not os.path.exists(dest):
                    print(f"{where}: no such file {os.path.relpath(dest, root)}")
                    bad += 1
                    continue
                if frag and dest.endswith(".md") and frag not in anchors(dest):
                    print(f"{where}: {os.path.relpath(dest, root)} has no heading #{frag}")
                    bad += 1
    if bad:
        print(f"check-links: {bad} broken of {checked} relative links")
        return 1
    print(f"check-links: {checked} relative links in {len(files)} files, all resolve")
    return 0


if __name__ == "__main__":
    sys.exit(main())
