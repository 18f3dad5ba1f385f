"""The stdlib YAML reader agrees with PyYAML on what vcrpy writes, and refuses the rest by line."""

from __future__ import annotations

import string
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from vcr.serializers import yamlserializer

from agentkit_min._yaml import loads
from agentkit_min.errors import UsageError

TRICKY = list(" \n\t'\":#-?|>!&*{}[],%@`\\ab0123456789.e+x_~") + ["\u2028", "\x85", "é", "\x00"]
WORDS = ["yes", "No", "on", "null", "~", "1:20", "0x1F", "017", "1_000", "2001-12-14", ".inf", "-.5",
         "1e5", "1.0e+5", "<<", "=", "- x", "? x", "a: b", "#x", "", " ", "'", '"', "\\"]
texts = st.one_of(st.text(max_size=120), st.text(st.sampled_from(TRICKY), max_size=120),
                  st.sampled_from(WORDS), st.lists(st.sampled_from(WORDS + ["word", " ", "\n"]), max_size=40).map("".join))
scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20),
                    st.floats(allow_nan=False), texts, st.binary(max_size=120))
names = st.text(string.ascii_letters + "-_", min_size=1, max_size=24)
headers = st.dictionaries(names, st.lists(texts, max_size=3), max_size=4)
bodies = st.one_of(st.none(), texts, st.binary(max_size=300))
interaction = st.fixed_dictionaries({
    "request": st.fixed_dictionaries({"method": st.sampled_from(["GET", "POST"]), "uri": texts,
                                      "body": bodies, "headers": headers}),
    "response": st.fixed_dictionaries({
        "status": st.fixed_dictionaries({"code": st.integers(100, 599), "message": texts}),
        "headers": headers, "body": st.fixed_dictionaries({"string": bodies})}),
})
extra = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                      st.dictionaries(st.one_of(names, st.sampled_from(WORDS).filter(bool)), inner, max_size=4)),
                     max_leaves=12)
documents = st.fixed_dictionaries({"version": st.just(1), "interactions": st.lists(interaction, max_size=3)},
                                  optional={"extra": extra})


def pyyaml(text: str) -> Any:
    return yamlserializer.deserialize(text)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents, st.sampled_from(["vcrpy", "python"]))
def test_reader_agrees_with_pyyaml_on_vcrpy_shaped_documents(data: dict[str, Any], dumper: str) -> None:
    # vcrpy's own serializer (libyaml's emitter when available) and PyYAML's pure-Python one.
    text = yamlserializer.serialize(data) if dumper == "vcrpy" else yaml.dump(data, Dumper=yaml.Dumper)
    assert loads(text) == pyyaml(text)


@settings(max_examples=300, deadline=None)
@given(extra)
def test_reader_agrees_with_pyyaml_on_any_value_pyyaml_dumps(value: Any) -> None:
    text = yaml.dump(value, Dumper=yaml.Dumper)
    assert loads(text) == pyyaml(text)


def styled_dumper(style: str) -> type[yaml.Dumper]:
    """A Dumper writing every string in `style` where PyYAML allows it (else its own choice)."""
    class Styled(yaml.Dumper):  # type: ignore[misc]
        pass

    Styled.add_representer(str, lambda d, s: d.represent_scalar("tag:yaml.org,2002:str", s, style=style))
    return Styled


@settings(max_examples=300, deadline=None)
@given(extra, st.sampled_from(["|", ">", '"', "'"]), st.sampled_from([2, 4, 7]), st.sampled_from([20, 80]))
def test_reader_agrees_with_pyyaml_on_block_and_quoted_styles(value: Any, style: str, indent: int,
                                                              width: int) -> None:
    text = yaml.dump(value, Dumper=styled_dumper(style), indent=indent, width=width)
    assert loads(text) == pyyaml(text)


HAND_WRITTEN = [
    "a: |2\n    two more\n  base\n\n\nb: 1\n",
    "a: >+\n  folded\n  lines\n\n   more indented\n  back\n\n\n",
    "a: |-\n  keep\n\n",
    "# a comment\n---\nk: v   # trailing\nl:\n  - 1\n  -\n  - - x\n    - y\n...\n",
    "k: 'it''s'\nm: \"tab\\there \\u00e9 \\\n   continued\"\n",
    "plain: one\n  two\n\n  three\n",
    "n: ~\no: 0o7\np: 0x1F\nq: 017\nr: 1_000\ns: -.inf\nt: .NaN\nu: 1.5e+3\nv: Off\n",
    "bin: !!binary |\n  aGVsbG8gd29ybGQ=\nstr: !!str 12\n",
    "a: 0000-0-0 0:0\nb: 2001-1-1\nc: 2001-1-1 1:00\n",  # not YAML 1.1 timestamps: strings (found by hypothesis)
    "a: ._\nb: ._1\nc: .5_\nd: .\n",  # a float needs a digit right after the dot: '._' is a string (hypothesis)
]


@pytest.mark.parametrize("text", HAND_WRITTEN)
def test_hand_written_yaml_in_the_subset(text: str) -> None:
    ours, theirs = loads(text), pyyaml(text)
    assert repr(ours) == repr(theirs)  # repr: NaN compares unequal to itself


OUTSIDE = [
    ("a: 1\nb: &anchor x\n", 2, "the scalar '&anchor x'"),
    ("a:\n  - *alias\n", 2, "the scalar '*alias'"),
    ("a: {b: 1}\n", 1, "the scalar '{b: 1}'"),
    ("a: !!python/tuple [1]\n", 1, "the tag !!python/tuple"),
    ("? complex\n: key\n", 1, "the scalar '? complex'"),
    ("a:\n\tb: 1\n", 2, "a tab in indentation"),
    ("when: 2001-12-14\n", 1, "the date or merge key '2001-12-14'"),
    ("at: 2001-1-1 1:00:00\n", 1, "the date or merge key '2001-1-1 1:00:00'"),
    ("t: 1:20\n", 1, "the sexagesimal number '1:20'"),
    ("a: 'open\n", 1, "an unterminated quoted scalar"),
    ("a: 1\n b: 2\n", 2, "a plain scalar holding ': '"),
    ("a: \"\\q\"\n", 1, "the escape '\\q'"),
]


@pytest.mark.parametrize("text, line, what", OUTSIDE)
def test_yaml_outside_the_subset_is_refused_naming_the_line(text: str, line: int, what: str) -> None:
    with pytest.raises(UsageError) as info:
        loads(text, "c.yaml")
    assert str(info.value).startswith(f"c.yaml line {line}: {what} is outside the YAML subset"), str(info.value)
