#!/usr/bin/env python3
"""Checks that the repository stands alone (ctest `references`).

Every tracked text file (code, comments, docs, scripts, test data) is read,
and three kinds of reference fail the check:

  1. A path outside the repository: the sibling folder of private guidance
     (`../` followed by its name), that guidance's two files and its folder of
     reference material, and the name of its measurement notes. Each is
     matched by a pattern in OUTSIDE_PATTERNS below.
  2. A tracker issue number: "issue #N", "issues #N", "bug #N", "PR #N",
     "owner/repo#N" or a bare "#N" used as one (a "#" and digits standing
     alone in prose, as in "(see #12)"). Markdown anchors ("(#3-files)"),
     HTML entities ("&#39;"), colours and numbered shell or C macros
     ("#1a2b3c", "#0x..") are not issue numbers.
  3. A path in the repository that does not exist: any token that starts with
     one of the repository's top-level folders (docs/, raftlog/, scripts/,
     tests/, tools/, bench/, kv/, examples/, fuzz/, cmake/, .ci/), such as
     "docs/operations.md" or "raftlog/engine/options.h", must name a file or
     folder that `git ls-files` knows (globs and {a,b} alternatives are
     expanded; GENERATED lists the files CMake writes into the build).

Usage: check_references.py [REPO_ROOT]     check, print each finding, exit 1 on any
       check_references.py --self-test     check the checker on planted examples
"""

import fnmatch
import os
import re
import subprocess
import sys
import tempfile

# Patterns of references to places outside the repository. Written as
# regular expressions (escaped dots, character classes) so that this file
# names none of them literally.
OUTSIDE_PATTERNS = [
    (re.compile(r"\.\./s[h]ared\b"), "a folder outside the repository"),
    (re.compile(r"/work/s[h]ared\b"), "a folder outside the repository"),
    (re.compile(r"\bS[T]YLE\.md\b"), "a guidance file outside the repository"),
    (re.compile(r"\bD[E]SIGN\.md\b"), "a guidance file outside the repository"),
    (re.compile(r"(?<![\w./-])r[e]ference/"), "a reference folder outside the repository"),
    (re.compile(r"\bm[e]asured-here\b"), "measurement notes outside the repository"),
]

ISSUE_PATTERNS = [
    # The words issue(s), bug(s), PR(s), pull request(s) or ticket(s), then
    # '#' and a number.
    re.compile(r"\b(?:issues?|bugs?|PRs?|pull requests?|tickets?)\s*#\d+", re.IGNORECASE),
    # "etcd-io/etcd#12359", "raft#88".
    re.compile(r"\b[\w.-]+(?:/[\w.-]+)?#[1-9]\d*(?![\w-])"),
    # A bare "#12" in prose: not part of a word, an anchor, an entity or a
    # hex colour, and followed by the end of the word.
    re.compile(r"(?<![\w&(/#\[\"'`])#[1-9]\d*(?![\w-])"),
]

# Top-level folders whose paths are checked for existence.
ROOTS = ("docs", "raftlog", "scripts", "tests", "tools", "bench", "kv", "examples", "fuzz",
         "cmake", ".ci")
PATH_RE = re.compile(r"(?<![\w./~$<{-])((?:%s)/[\w./*{},<>-]*)" %
                     "|".join(re.escape(r) for r in ROOTS))

# Files CMake generates into the build directory, which sources and docs may
# name: the source each one comes from.
GENERATED = {
    "raftlog/version.h": "cmake/version.h.in",
}

# Files not checked: binary fuzz inputs, and this checker, whose patterns
# necessarily describe what it looks for.
SKIP_PREFIXES = ("fuzz/corpus/",)
SELF = "scripts/check_references.py"


def tracked_files(root):
    out = subprocess.run(["git", "-C", root, "ls-files", "-z"], check=True,
                         capture_output=True).stdout
    return [p for p in out.decode().split("\0") if p]


def read_text(path):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return None
    if b"\0" in data[:8192]:
        return None
    return data.decode("utf-8", errors="replace")


def expand_braces(token):
    m = re.search(r"\{([^{}]*)\}", token)
    if not m:
        return [token]
    out = []
    for alt in m.group(1).split(","):
        out.extend(expand_braces(token[:m.start()] + alt + token[m.end():]))
    return out


def clean_path(token, after):
    """The path a token names, or None when it is not a concrete path.
    `after` is the character that follows the token on its line."""
    if after == "\\":
        return None  # a regular expression, as in raftlog/format/status\.h
    # Trailing punctuation of prose and code; a closing brace only when it
    # closes nothing in the token.
    while token and (token[-1] in ".,;:)'\"`>" or
                     (token[-1] == "}" and token.count("{") < token.count("}"))):
        token = token[:-1]
    if not token or "<" in token or ">" in token or "..." in token:
        return None  # a placeholder such as raftlog/<module>/<file>.h
    return token


class Repo:
    def __init__(self, root, files):
        self.root = root
        self.files = set(files)
        self.dirs = set()
        for f in files:
            parts = f.split("/")
            for i in range(1, len(parts)):
                self.dirs.add("/".join(parts[:i]))

    def exists(self, path):
        path = path.rstrip("/")
        if path in GENERATED:
            return GENERATED[path] in self.files
        for p in expand_braces(path):
            p = p.rstrip("/")
            if any(c in p for c in "*?["):
                if not any(fnmatch.fnmatch(f, p) or fnmatch.fnmatch(f, p + "/*")
                           for f in self.files):
                    return False
            elif p not in self.files and p not in self.dirs:
                return False
        return True


def check_text(repo, name, text):
    findings = []
    for lineno, line in enumerate(text.splitlines(), 1):
        for pattern, what in OUTSIDE_PATTERNS:
            for m in pattern.finditer(line):
                findings.append((name, lineno, "%s: '%s'" % (what, m.group(0))))
        for pattern in ISSUE_PATTERNS:
            for m in pattern.finditer(line):
                findings.append((name, lineno, "a tracker issue number: '%s'" % m.group(0)))
        for m in PATH_RE.finditer(line):
            end = m.end(1)
            path = clean_path(m.group(1), line[end] if end < len(line) else "")
            if path and not repo.exists(path):
                findings.append((name, lineno, "a path that does not exist: '%s'" % path))
    # One finding per line and kind is enough.
    seen, unique = set(), []
    for f in findings:
        if f not in seen:
            seen.add(f)
            unique.append(f)
    return unique


def check_repo(root):
    files = tracked_files(root)
    repo = Repo(root, files)
    findings = []
    for name in files:
        if name == SELF or name.startswith(SKIP_PREFIXES):
            continue
        text = read_text(os.path.join(root, name))
        if text is None:
            continue
        findings.extend(check_text(repo, name, text))
    return findings


def self_test():
    """Plants each kind of reference in a scratch repository and checks that
    every bad line is found and no good line is."""
    dots = "." + "."
    bad = [
        "see %s/s%s/notes" % (dots, "hared"),
        "as S%s.md says" % "TYLE",
        "per D%s.md" % "ESIGN",
        "r%s/etcd/raft.go" % "eference",
        "m%s-here.md: 1.2x" % "easured",
        "fixed in issue #%d" % 14,
        "issues #%d and #%d" % (3, 4),
        "(etcd-io/etcd#%d)" % 12359,
        "cut back (etcd #%d)." % 14098,
        "(see #%d)" % 12,
        "read docs/operations.md first",
        "raftlog/engine/missing.h holds it",
        "tests/nowhere/ has it",
    ]
    good = [
        "1. [Files](#2-files)",
        "quote &#39; entity",
        "colour #1a2b3c",
        "see docs/guide.md and raftlog/engine/options.h",
        "raftlog/engine/disk_storage.{h,cc} and docs/*.md",
        "#include <raftlog/version.h>",
        "install into include/raftlog/<module>/<file>.h",
        "/var/lib/app/raftlog/segments is the data",
        "a vector's element #0 in C",
        "format.md#11-lmdb-keys and (#4-features)",
        "regex raftlog/format/status\\.h is a pattern",
        "`#1` is the first",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        os.makedirs(os.path.join(tmp, "docs"))
        os.makedirs(os.path.join(tmp, "raftlog/engine"))
        os.makedirs(os.path.join(tmp, "cmake"))
        for f in ("docs/guide.md", "raftlog/engine/options.h", "raftlog/engine/disk_storage.h",
                  "raftlog/engine/disk_storage.cc", "cmake/version.h.in"):
            with open(os.path.join(tmp, f), "w") as out:
                out.write("x\n")
        with open(os.path.join(tmp, "docs/bad.md"), "w") as out:
            out.write("\n".join(bad) + "\n")
        with open(os.path.join(tmp, "docs/good.md"), "w") as out:
            out.write("\n".join(good) + "\n")
        subprocess.run(["git", "init", "-q", tmp], check=True)
        subprocess.run(["git", "-C", tmp, "add", "."], check=True)
        findings = check_repo(tmp)
    failed = False
    bad_lines = {ln for (name, ln, _) in findings if name == "docs/bad.md"}
    for i, line in enumerate(bad, 1):
        if i not in bad_lines:
            print("self-test: not found: %r" % line)
            failed = True
    for name, ln, what in findings:
        if name != "docs/bad.md":
            print("self-test: false finding in %s: %r (%s)" % (name, good[ln - 1], what))
            failed = True
    if failed:
        return 1
    print("check_references self-test: ok (%d planted references found, %d clean lines passed)"
          % (len(bad), len(good)))
    return 0


def main(argv):
    if len(argv) > 1 and argv[1] == "--self-test":
        return self_test()
    root = argv[1] if len(argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
    findings = check_repo(os.path.abspath(root))
    for name, lineno, what in findings:
        print("%s:%d: %s" % (name, lineno, what))
    if findings:
        print("references: %d found; state the fact itself instead, or fix the path"
              % len(findings))
        return 1
    print("references: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
