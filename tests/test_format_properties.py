"""Property tests for worldmodel.format: parse is total on any text, render/parse round-trips,
and the string lexer agrees with Python's own tokenizer about where string literals are.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from worldmodel.errors import FormatError
from worldmodel.format import Requirement, Response, _StringSpans, parse, render, structure_score

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Text built from pieces that trip parsers: tags in every spelling, quotes, fences, separators.
FRAGMENTS = [
    *("<think>", "</think>", "<model>", "</model>", "<requires>", "</requires>"),
    *("<output>", "</output>", "<Model>", "< /model >", "<THINK >", "<", ">", "/"),
    *('"', "'", '"""', "'''", "\\", "#", "```", "```python", "\n", "\r\n", "\r", " ", "\t"),
    *("python:", "python:math", ":", ",", ";", "math", "rust:serde", "print(1)", "x = '", "π"),
]
tag_soup = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=5)), max_size=40).map(
    "".join
)


@SETTINGS
@given(st.one_of(st.text(), tag_soup))
def test_parse_raises_only_format_error(text: str) -> None:
    try:
        r = parse(text)
    except FormatError as e:
        assert e.line is not None and e.column is not None
        assert 1 <= e.line <= text.count("\n") + text.count("\r") + 1
        return
    assert isinstance(r, Response)
    assert all(w.startswith("line ") for w in r.warnings)
    score = structure_score(text)
    assert score.score == score.think + score.model + score.requires
    assert not r.warnings or score.score < 3 or "came after" in " ".join(r.warnings)


@SETTINGS
@given(tag_soup)
def test_render_of_any_parse_result_reads_back_or_refuses(text: str) -> None:
    try:
        r = parse(text)
    except FormatError:
        return
    try:
        rendered = render(r)
    except FormatError as e:
        assert "cannot render" in str(e)
        return
    back = parse(rendered)
    assert back.warnings == ()
    assert back == Response(**{**r.__dict__, "warnings": ()})


# --- generated responses in normal form -----------------------------------------------------

prose_chars = st.characters(blacklist_categories=["Cs"], blacklist_characters="<\r")
prose = st.text(prose_chars, max_size=40).map(str.strip)
name = st.sampled_from(["x", "total", "_n", "answer", "π", "value_2"])
tagged_text = st.lists(
    st.one_of(st.sampled_from(["</model>", "<think>", "<requires>", "'", '"']), prose_chars),
    max_size=20,
).map("".join)
literal = st.one_of(
    tagged_text.map(repr),
    st.text(st.sampled_from("ab </model>\n"), max_size=12)  # includes whitespace-only lines
    .filter(lambda s: '"' not in s)
    .map(lambda s: f'"""{s}"""'),
)


def statements(comment_fragments: list[str]) -> st.SearchStrategy[str]:
    comment = st.lists(st.sampled_from(comment_fragments), max_size=6).map("".join)
    return st.one_of(
        st.builds(lambda n, v: f"{n} = {v}", name, literal),
        st.builds(lambda v: f"print({v})", literal),
        st.builds(lambda v, c: f"print({v})  # {c}".rstrip(), literal, comment),
    )


# Tags inside comments are real closing tags (documented in format.py), so code blocks that
# must survive intact keep tags out of comments; the lexer test puts them in.
code_block = st.lists(statements(["a", "'", '"', " "]), min_size=1, max_size=5).map("\n".join)
code_with_tagged_comments = st.lists(
    statements(["a", "'", '"', " ", "</model>", "<think>"]), min_size=1, max_size=5
).map("\n".join)
requirement = st.builds(
    Requirement,
    st.sampled_from(["python", "rust", "js"]),
    st.builds(str.__add__, st.sampled_from("aZ_"), st.text(st.sampled_from("ab9_.-"), max_size=8)),
)
output = st.none() | st.text(
    st.characters(blacklist_categories=["Cs"], blacklist_characters="<\r"), max_size=40
)
responses = st.builds(
    Response,
    reasoning=prose,
    code=st.lists(code_block, max_size=3).map(tuple),
    requirements=st.lists(requirement, max_size=4, unique=True).map(tuple),
    answer=prose,
    output=output,
)


@SETTINGS
@given(responses)
def test_render_then_parse_round_trips(r: Response) -> None:
    assert parse(render(r)) == r


@SETTINGS
@given(code_block)
def test_tags_in_string_literals_stay_in_the_code(code: str) -> None:
    ast.parse(code)  # the generated code is valid Python
    r = parse(f"<think>t</think>\n<model>\n{code}\n</model>\nanswer")
    assert r.code == (code,)
    assert r.answer == "answer"


@SETTINGS
@given(code_with_tagged_comments)
def test_lexer_agrees_with_tokenize_about_string_literals(code: str) -> None:
    # At every "<" in the code, the parser's lexer and Python's tokenizer must agree on
    # whether it lies inside a string literal (comments hold tags too, and are not strings).
    line_starts = [0] + [m.end() for m in re.finditer("\n", code)]
    spans = [
        (line_starts[t.start[0] - 1] + t.start[1], line_starts[t.end[0] - 1] + t.end[1])
        for t in tokenize.generate_tokens(io.StringIO(code).readline)
        if t.type == tokenize.STRING
    ]
    lexer = _StringSpans(code, 0)
    for m in re.finditer("<", code):
        expected = any(start < m.start() < end for start, end in spans)
        assert lexer.inside(m.start()) == expected, (code, m.start())


@pytest.mark.parametrize("text", ["<model>\n" + 'print("</model>")\n' * 3 + "</model>"])
def test_many_string_tags_before_the_real_close(text: str) -> None:
    assert parse(text).code == ('print("</model>")\nprint("</model>")\nprint("</model>")',)
