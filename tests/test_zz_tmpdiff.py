import difflib
import pytest
from tests.test_authorization import *

def test_diff(app, make, small_pages):
    o, before = build(app, make, baseline=True)
    for url in ["/touchpoints/map-frame"]:
        after = normalized(o["clients"][REP_B].get(url))
        b = before[url, False]
        print("\n".join(difflib.unified_diff(b[1].splitlines(), after[1].splitlines(), lineterm="", n=1)))
