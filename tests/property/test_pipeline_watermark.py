"""Any split of answers (many sharing timestamps) across runs uses each answer exactly once."""

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from gtflow.pipeline import CompletedAnswer, Watermark, select_new

T = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)


@given(
    st.lists(st.integers(0, 4), min_size=1, max_size=30),  # completion second of each answer
    st.lists(st.integers(0, 30), max_size=6),  # how many answers have arrived at each run
)
def test_each_answer_used_exactly_once(seconds, cuts):
    # answers arrive in completion order (ties in any order); runs happen between arrivals
    answers = [CompletedAnswer(f"a{i}", T + dt.timedelta(seconds=s), "u") for i, s in enumerate(seconds)]
    answers.sort(key=lambda a: a.completed_at)
    used, wm = [], Watermark()
    for cut in sorted(cuts) + [len(answers)]:
        new, wm = select_new(answers[:cut], wm)
        used += [a.name for a in new]
    assert sorted(used) == sorted(a.name for a in answers)
