#!/usr/bin/env python3
"""Checks that docs/operations.md names every option and statistic
(ctest `operations_doc`).

Reads the fields of the structs Options, DiskStorageOptions and
CompressionOptions (raftlog/engine/options.h, raftlog/engine/disk_storage.h,
raftlog/format/compression.h) and Stats (raftlog/engine/stats.h) from the
headers, and fails naming each field that docs/operations.md does not mention
as `name` (in backquotes). A field added to one of those structs must be
documented for operators before the suite passes again.

Usage: check_operations_doc.py [REPO_ROOT]
"""

import os
import re
import sys

STRUCTS = [
    ("raftlog/engine/options.h", "Options"),
    ("raftlog/engine/disk_storage.h", "DiskStorageOptions"),
    ("raftlog/format/compression.h", "CompressionOptions"),
    ("raftlog/engine/stats.h", "Stats"),
]
DOC = "docs/operations.md"

# A data member: a type, a name, an optional default, a semicolon.
FIELD_RE = re.compile(r"^\s*[\w:<>, *&]+?[\s*&]([a-z_][a-z0-9_]*)\s*(?:=[^;]*|\{[^;]*\})?;")


def struct_fields(text, name):
    m = re.search(r"\bstruct\s+%s\s*\{" % re.escape(name), text)
    if not m:
        return None
    depth, i, body = 1, m.end(), []
    while i < len(text) and depth > 0:
        c = text[i]
        depth += (c == "{") - (c == "}")
        body.append(c)
        i += 1
    fields = []
    nested = 0
    for line in "".join(body[:-1]).splitlines():
        code = line.split("//")[0]
        if nested == 0 and "(" not in code:
            fm = FIELD_RE.match(code)
            if fm and not code.strip().startswith(("using", "static", "friend", "return")):
                fields.append(fm.group(1))
        nested += code.count("{") - code.count("}")
    return fields


def main(argv):
    root = argv[1] if len(argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
    doc_path = os.path.join(root, DOC)
    if not os.path.exists(doc_path):
        print("operations doc: %s is missing" % DOC)
        return 1
    doc = open(doc_path, encoding="utf-8").read()
    missing, total = [], 0
    for header, struct in STRUCTS:
        text = open(os.path.join(root, header), encoding="utf-8").read()
        fields = struct_fields(text, struct)
        if not fields:
            print("operations doc: no fields of struct %s found in %s" % (struct, header))
            return 1
        total += len(fields)
        for f in fields:
            if "`%s`" % f not in doc and "`%s." % f not in doc and ".%s`" % f not in doc:
                missing.append("%s::%s (%s)" % (struct, f, header))
    for m in missing:
        print("operations doc: %s does not name %s" % (DOC, m))
    if missing:
        return 1
    print("operations doc: all %d fields of %s are in %s"
          % (total, ", ".join(s for _, s in STRUCTS), DOC))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
