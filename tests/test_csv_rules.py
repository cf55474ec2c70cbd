"""The CSV rules at their edges, one behaviour per test, on a file's text (`make mutants`)."""

import pytest

from tpweb.csvio.sheet import escape_cell, unescape_cell


@pytest.mark.parametrize("text", ["=SUM(A1)", "+1", "-1", "@me", "\tx", "\rx", "'=x", "''"])
def test_a_would_be_formula_is_quoted_on_export_and_restored_on_import(text):
    assert escape_cell(text) == "'" + text
    assert unescape_cell(escape_cell(text)) == text


@pytest.mark.parametrize("text", ["plain", "it's", "'plain", "", "'"])
def test_other_text_goes_out_and_comes_back_unchanged(text):
    assert escape_cell(text) == text
    assert unescape_cell(text) == text
