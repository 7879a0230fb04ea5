"""Reads a config file into plain YAML data, refusing what would crash or mislead later.

Each refusal is a `YamlProblem` of one line: a binary or non-UTF-8 file, a file too large to be
a config, nesting deeper than any config needs (PyYAML recurses per level: a few thousand `[`
were a RecursionError), aliases that expand to more values than any config has (a "billion
laughs" file: 100 aliases, 10^10 values once validation walks them), and a key written twice in
one mapping (PyYAML keeps the last one silently).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

MAX_BYTES = 4 << 20  # 5,000 targets are ~0.6 MB of YAML; anything larger is not a config
MAX_DEPTH = 32  # the deepest real config (service_hours.periods[].weekly.mon[]) is 5 levels
MAX_NODES = 1_000_000  # values after expanding aliases; 5,000 targets are ~60,000


class YamlProblem(Exception):
    """The file cannot be read as a config; the message is one line saying what to do."""


# libyaml when PyYAML has it: 5,000 targets parse in 0.6 s instead of 6.1 s on this machine.
_BASE: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_OPEN = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
_CLOSE = (yaml.MappingEndEvent, yaml.SequenceEndEvent)


class _Loader(_BASE):  # type: ignore[misc]
    """SafeLoader (libyaml's when there) that refuses a key written twice in one mapping."""

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, int] = {}
            for key_node, _value in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue  # `<<: *base` keys may be overridden: that is what merge is for
                key = self.construct_object(key_node, deep=True)
                line = key_node.start_mark.line + 1
                try:
                    first = seen.get(key)
                except TypeError:
                    continue  # an unhashable key: the constructor reports it below
                if first is not None:
                    raise YamlProblem(
                        f"line {line}: key {key!r} appears twice in one mapping (first on line "
                        f"{first}); keep only one"
                    )
                seen[key] = line
        return super().construct_mapping(node, deep=deep)


def _expanded_size(node: yaml.Node, sizes: dict[int, int]) -> int:
    """How many values `node` becomes once every alias is copied out (memoized: linear)."""
    known = sizes.get(id(node))
    if known is not None:
        return known
    sizes[id(node)] = 1  # a recursive alias counts once; the constructor handles it
    size = 1
    if isinstance(node, yaml.SequenceNode):
        size += sum(_expanded_size(child, sizes) for child in node.value)
    elif isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            size += _expanded_size(key, sizes) + _expanded_size(value, sizes)
    sizes[id(node)] = size
    return size


def _check_depth(text: str) -> None:
    """Refuse deep nesting from the event stream, before anything recurses over it."""
    depth = 0
    for event in yaml.parse(text, Loader=_BASE):
        if isinstance(event, _OPEN):
            depth += 1
            if depth > MAX_DEPTH:
                mark = event.start_mark
                where = f"line {mark.line + 1}: " if mark is not None else ""
                raise YamlProblem(
                    f"{where}nested more than {MAX_DEPTH} levels deep; "
                    "a Pantau config needs at most a handful"
                )
        elif isinstance(event, _CLOSE):
            depth -= 1


def _load(text: str) -> Any:
    _check_depth(text)
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if _expanded_size(node, {}) > MAX_NODES:
            raise YamlProblem(
                f"aliases (*name) expand to more than {MAX_NODES:,} values; "
                "write the values out instead"
            )
        return loader.construct_document(node)
    finally:
        loader.dispose()


def read_yaml(path: str | Path) -> Any:
    """Parsed YAML from `path`; YamlProblem (one line) for anything a person must fix."""
    with open(path, "rb") as file:  # OSError: the caller reports it
        data = file.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise YamlProblem(f"the file is larger than {MAX_BYTES >> 20} MiB; is it the config?")
    if b"\x00" in data:
        raise YamlProblem("the file is binary, not YAML text; point -c at the YAML config")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        column = exc.start - data.rfind(b"\n", 0, exc.start)
        raise YamlProblem(
            f"line {line}, column {column}: byte 0x{data[exc.start]:02X} is not UTF-8; "
            "save the file as UTF-8"
        ) from None
    try:
        return _load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        problem = " ".join(str(exc.problem or exc).split())
        if "nesting depth" in problem:
            # libyaml >= 0.2.5 has a depth limit of its own (1,000) that may trip before ours.
            raise YamlProblem(
                f"{f'line {mark.line + 1}: ' if mark else ''}nested more than {MAX_DEPTH} "
                "levels deep; a Pantau config needs at most a handful"
            ) from None
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise YamlProblem(f"{where}not valid YAML ({problem})") from None
    except yaml.reader.ReaderError as exc:  # a control character; it has no problem_mark
        line = text[: exc.position].count("\n") + 1
        raise YamlProblem(
            f"line {line}: character U+{_code(exc.character):04X} is not allowed in YAML text; "
            "remove it"
        ) from None
    except yaml.YAMLError as exc:
        raise YamlProblem(f"not valid YAML ({' '.join(str(exc).split())})") from None
    except RecursionError:  # a belt to the depth budget's braces: never a traceback
        raise YamlProblem(f"nested too deep; a Pantau config needs at most {MAX_DEPTH}") from None


def _code(character: int | str) -> int:
    return character if isinstance(character, int) else ord(character)
