#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Checks that every README code block marked `<!-- snippet: FILE NAME -->` is, verbatim
(up to common indentation), the region of FILE between two `// [NAME]` (or `# [NAME]`) lines. The examples
are compiled and run by the test suite, so the README's snippets cannot rot."""
import pathlib
import re
import sys
import textwrap

root = pathlib.Path(sys.argv[1])
update = "--update" in sys.argv[2:]  # rewrite the README's snippets from the files instead
readme = (root / "README.md").read_text()
blocks = re.findall(r"<!-- snippet: (\S+) (\S+) -->\n```\w*\n(.*?)```", readme, re.S)
if not blocks:
    sys.exit("FAIL: README.md has no marked snippets")
failed = False
for path, name, body in blocks:
    source = (root / path).read_text()
    marker = r"(?://|#) \[%s\]" % re.escape(name)
    found = re.search(r"[ \t]*%s\n(.*?)\n[ \t]*%s" % (marker, marker), source, re.S)
    if not found:
        print("FAIL: %s has no snippet %s" % (path, name))
        failed = True
        continue
    expected = textwrap.dedent(found.group(1)).strip("\n")
    if update:
        readme = readme.replace("<!-- snippet: %s %s -->\n```" % (path, name), "\0", 1)
        head, _, rest = readme.partition("\0")
        lang, _, rest = rest.partition("\n")
        _, _, tail = rest.partition("```")
        readme = "%s<!-- snippet: %s %s -->\n```%s\n%s\n```%s" % (head, path, name, lang,
                                                                 expected, tail)
        continue
    if body.strip("\n") != expected:
        print("FAIL: the README's snippet %s %s differs from the file:\n%s" % (path, name, expected))
        failed = True
    else:
        print("ok: %s %s" % (path, name))
if update:
    (root / "README.md").write_text(readme)
    print("README.md updated")
sys.exit(1 if failed else 0)
