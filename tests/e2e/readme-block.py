#!/usr/bin/python3
"""readme-block.py README SECTION: the indented shell block of SECTION.

Prints the first run of indented lines (blank lines inside it kept out)
after the heading "## SECTION", without their indentation, so that a
test can run the README's examples exactly as written.
"""
import sys

lines = open(sys.argv[1]).read().split("\n")
start = lines.index("## " + sys.argv[2]) + 1
block = []
for line in lines[start:]:
    if line.startswith("## "):
        break
    if line.startswith("    "):
        block.append(line[4:])
    elif block and line.strip():
        break
if not block:
    sys.exit("no shell block under '## %s'" % sys.argv[2])
print("\n".join(block))
