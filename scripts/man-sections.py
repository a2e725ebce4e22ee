#!/usr/bin/env python3
"""Adds EXIT STATUS, ENVIRONMENT and EXAMPLES to the pages generate-manual wrote.

For man/NAME.1 it takes docs/man/NAME.mdoc (a line `.so FILE` includes docs/man/FILE) and the shared
docs/man/exit-status.mdoc, and puts them where the plugin's stock EXIT STATUS section was, before SEE ALSO.
"""
import pathlib
import re
import sys

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".")
fragments = root / "docs" / "man"


def expand(path):
    out = []
    for line in path.read_text().splitlines():
        if line.startswith(".so "):
            out.extend(expand(fragments / line[4:].strip()))
        else:
            out.append(line)
    return out


exit_status = expand(fragments / "exit-status.mdoc")
for page in sorted((root / "man").glob("*.1")):
    text = page.read_text()
    own = fragments / (page.stem + ".mdoc")
    extra = exit_status + (expand(own) if own.exists() else [])
    # The plugin's own section is `.Sh "EXIT STATUS"` followed by `.Ex -std`.
    replacement = "\n".join(extra) + "\n"
    text, count = re.subn(r'\.Sh "EXIT STATUS"\n\.Ex -std\n?', lambda _: replacement, text)
    if count != 1:
        sys.exit(f"{page}: expected one stock EXIT STATUS section, found {count}")
    page.write_text(text if text.endswith("\n") else text + "\n")
