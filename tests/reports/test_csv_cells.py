"""CSV a spreadsheet opens safely: text that would run as a formula stays text, numbers stay
numbers (:func:`dutydesk.reports.tables.neutralised`, used for the toil CSV)."""

from __future__ import annotations

import csv
import io

from dutydesk.reports.tables import neutralised


def test_formula_text_is_kept_as_text_and_numbers_stay_numbers() -> None:
    raw = "name,score,delta\r\n=1+1,3.5,-2\r\n\"+cmd|' /C calc'!A0\",0,-0.5\r\n@SUM(A1),1,0\r\n-x,2,1\r\n"
    rows = list(csv.reader(io.StringIO(neutralised(raw))))
    assert rows == [
        ["name", "score", "delta"],
        ["'=1+1", "3.5", "-2"],
        ["'+cmd|' /C calc'!A0", "0", "-0.5"],
        ["'@SUM(A1)", "1", "0"],
        ["'-x", "2", "1"],
    ]


def test_commas_quotes_and_line_breaks_survive() -> None:
    raw = 'title\r\n"Crash, then ""hang""\nagain"\r\n'
    assert list(csv.reader(io.StringIO(neutralised(raw)))) == [
        ["title"],
        ['Crash, then "hang"\nagain'],
    ]
