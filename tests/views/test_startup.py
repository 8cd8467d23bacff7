"""The deferred rfc3987_syntax import: the first figure does not pay for it, and it still works when used."""

from __future__ import annotations

import subprocess
import sys

CODE = """
import sys
import labsupport.views
from labsupport.views._startup import _DeferredModule
import nbformat  # what plotly imports to show a figure; it used to pull in the grammar at once
stand_in = sys.modules['rfc3987_syntax']
print(isinstance(stand_in, _DeferredModule))
from jsonschema import Draft7Validator, FormatChecker
checker = FormatChecker()
print(checker.conforms('http://example.org/a', 'iri'), checker.conforms('not an iri', 'iri'))
print(isinstance(sys.modules['rfc3987_syntax'], _DeferredModule))
"""


def test_grammar_loads_on_first_use_only() -> None:
    out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["True", "True", "False", "False"]
