"""Registers the rule ids emitted by the stages before the meaning rules: loader, templating, schema validation.

Importing this module has the side effect of registering them (the owning modules may register again with better
texts; the registry keeps the last). Pure data, no I/O.
"""

from __future__ import annotations

from runner.model import Severity
from runner.rules.registry import register_rule

_W = Severity.WARNING

_YAML: dict[str, tuple[str, str]] = {
    "too-large": ("The file is larger than 1 MiB.", "Split the query file; vqr refuses files over 1 MiB unread."),
    "encoding": ("The file is not valid UTF-8.", "Save the file as UTF-8 (a byte-order mark is fine; NUL is not)."),
    "unreadable": ("The file cannot be read.", "Check that the file exists and is readable; the message gives the "
                   "operating system's reason."),
    "multiple-documents": ("The file holds more than one YAML document.", "Keep one query per file; remove `---`."),
    "empty": ("The file is empty.", "Write a query or delete the file."),
    "directive": ("YAML directives (%YAML, %TAG) are not allowed.", "Remove the directive line."),
    "anchor": ("YAML anchors are not allowed.", "Repeat the value or use a fragment in queries/_fragments/."),
    "alias": ("YAML aliases are not allowed.", "Repeat the value or use a fragment in queries/_fragments/."),
    "tag": ("YAML tags are not allowed.", "Remove the tag; quote the value if it is a string."),
    "too-deep": ("The YAML nesting is too deep.", "Flatten the structure; vqr stops at 64 levels."),
    "duplicate-key": ("A mapping repeats a key.", "Keep one of the two entries; YAML parsers disagree on which wins."),
    "key-type": ("A mapping key is not a string.", "Quote the key; JSON only has string keys."),
    "non-json": ("A value has no JSON equivalent (.inf, .nan) or does not fit in 64 bits.",
                 "Use a finite number within 64 bits, or a quoted string."),
    "unquoted-date": ("An unquoted date or timestamp.", "Quote it: some YAML parsers read it as a date object."),
    "ambiguous-boolean": ("A YAML 1.1 boolean word (yes, no, on, off).", "Quote it or use true/false."),
    "syntax": ("The file is not valid YAML.", "Fix the syntax at the position shown."),
}

# The repository path policy (runner/repopath.py): such a file is refused unread, so its content is never quoted.
_PATH: dict[str, tuple[str, str]] = {
    "outside-project": ("A file or path leads outside the project directory.", "Keep every file vqr reads inside the "
                        "directory of vqr.yaml; a symbolic link must point inside it too."),
    "not-a-file": ("A path is not a regular file (a FIFO, a device, a directory).", "Replace it with a regular file "
                   "or remove it."),
}

_TEMPLATE: dict[str, tuple[str, str]] = {
    "undefined": ("A template uses an undefined variable.", "Define the variable in vqr.yaml, a vars file, the "
                  "query's `vars`, or fix its spelling."),
    "syntax": ("A template is not valid Jinja.", "Fix the Jinja syntax at the position shown."),
    "security": ("A template tried something the sandbox forbids.", "Templates may only read variables and use the "
                 "allowed filters."),
    "too-large": ("A template's output is too large.", "Rendered values are capped at 64 KiB."),
    "timeout": ("A template took too long to render.", "Rendering a value is capped at one second."),
    "error": ("A template failed while rendering.", "Fix the expression at the position shown."),
    "not-json": ("A template produced a value with no JSON equivalent.", "Make the expression yield a string, "
                 "number, boolean, null, list or mapping."),
    "budget": ("The lint's budget (template time, rendered bytes or combinations) ran out.", "Simplify the "
               "templates or matrices named in the message; everything after it is reported as not checked."),
    "not-checked": ("A file was not checked because the lint's budget had run out.", "Fix the template or matrix "
                    "where the budget was spent (named in the message), then lint again."),
    "matrix-too-large": ("A matrix makes more combinations than one file may.", "Split the matrix over several "
                         "files or drop values; a file may make at most 1,000 combinations."),
}

_SCHEMA_KINDS: dict[str, tuple[str, str, Severity]] = {
    "unknown-key": ("An unknown key.", "Veza silently drops unknown fields, so a typo would run a different query; "
                    "fix the spelling or remove the key.", Severity.ERROR),
    "enum": ("A value is not one of the allowed names.", "Use one of the names listed in the message.",
             Severity.ERROR),
    "type": ("A value has the wrong type.", "Use the type named in the message.", Severity.ERROR),
    "required": ("A required key is missing.", "Add the key named in the message.", Severity.ERROR),
    "one-of": ("A value matches none, or more than one, of the allowed shapes.", "Follow the message: set exactly "
               "one of the alternatives.", Severity.ERROR),
    "pattern": ("A string does not have the required form.", "Use the form given in the message.", Severity.ERROR),
    "range": ("A value is out of range.", "Use a value within the bounds given in the message.", Severity.ERROR),
    "deprecated": ("A deprecated field.", "Veza still accepts it but has a replacement; use the field named in the "
                   "message.", _W),
    "invalid": ("A value does not match the schema.", "Fix the value as the message says.", Severity.ERROR),
}

# A saved-query key pasted inside `spec:` (runner/validate/saved_query.py), whichever schema check meets it first.
_SAVED_QUERY_KEY = ("A saved-query field inside the spec.", "A saved query or report entry carries fields that are "
                    "not spec fields: move `description` to the query file's `description:`, `labels` to `tags:`, "
                    "`name` to the file's `name:`, and remove the others (id, created_at, result_type, risk_level, "
                    "...), which vqr never sends.")

_SCHEMA_FAMILIES = {"query": "the query file", "spec": "the rendered spec", "project": "vqr.yaml"}


def _register_all() -> None:
    for kind, (short, help_text) in _YAML.items():
        severity = _W if kind == "ambiguous-boolean" else Severity.ERROR
        register_rule(f"yaml/{kind}", short, severity, help_text=help_text)
    for kind, (short, help_text) in _PATH.items():
        register_rule(f"path/{kind}", short, Severity.ERROR, help_text=help_text)
    for kind, (short, help_text) in _TEMPLATE.items():
        register_rule(f"template/{kind}", short, Severity.ERROR, help_text=help_text)
    for family, where in _SCHEMA_FAMILIES.items():
        for kind, (short, help_text, severity) in _SCHEMA_KINDS.items():
            register_rule(f"{family}/{kind}", f"{short[:-1]} in {where}.", severity, help_text=help_text)
    register_rule("spec/saved-query-key", _SAVED_QUERY_KEY[0], Severity.ERROR, help_text=_SAVED_QUERY_KEY[1])


_register_all()
