"""Read the YAML vcrpy writes (PyYAML's block style, YAML 1.1) with the standard library alone.

Covered: block mappings and sequences, plain, quoted (folded, all escapes) and block (`|`, `>`)
scalars, `!!binary` and `!!str`, empty `{}`/`[]`, comments, `---`/`...`; plain scalars resolve
as PyYAML does (null, bools, ints, floats). Anything else (flow collections, anchors, other tags,
`?` keys, tab indentation, dates) raises UsageError naming the line, never a wrong reading.
"""

from __future__ import annotations

import base64
import re
from typing import Any

from .errors import UsageError

_BOOL = {w: v for v, words in ((True, "yes Yes YES true True TRUE on On ON"), (False, "no No NO false False "
         "FALSE off Off OFF"), (None, "~ null Null NULL")) for w in words.split()} | {"": None}
_INT = re.compile(r"[-+]?(?:0b[01_]+|0[0-7_]+|0|[1-9][0-9_]*|0x[0-9a-fA-F_]+|[1-9][0-9_]*(?::[0-5]?[0-9])+)")
_FLOAT = re.compile(r"[-+]?(?:[0-9][0-9_]*\.[0-9_]*(?:[eE][-+][0-9]+)?|[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*"
                    r"|\.(?:inf|Inf|INF))|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|\.(?:nan|NaN|NAN)")
_OTHER = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}"
                    r"(?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?|<<|=")  # YAML 1.1 timestamps, merge
_END = {"'": re.compile(r"(?:[^']|'')*'(?!')"), '"': re.compile(r'(?:[^"\\]|\\.)*"')}  # to the closing quote
_ESCAPES = dict(zip('0abtnvfre "/\\N_LP\t', '\0\a\b\t\n\v\f\r\x1b "/\\\x85\xa0\u2028\u2029\t'))
_COMMENT = re.compile(r"[ \t]+#.*|\s+$")
_INDICATOR = re.compile(r"[!&*\[\]{}|>%@`,#'\"]|[?:-](?:[ \t]|$)")  # cannot start a plain scalar


def loads(text: str, name: str = "<yaml>") -> Any:
    """The value of the one YAML document in `text`; UsageError names the line it cannot read."""
    reader = _Reader(text, name)
    col = reader.skip()
    value = None if col < 0 else reader.block(col, -1)
    if reader.skip() >= 0:
        raise reader.error("this line (bad indentation, or a second document)")
    return value


class _Reader:
    def __init__(self, text: str, name: str) -> None:
        self.lines = text.replace("\r\n", "\n").split("\n")
        self.final_break = self.lines[-1] == "" and bool(self.lines.pop() or True)
        self.name, self.i = name, 0

    def error(self, what: str, line: int | None = None) -> UsageError:
        return UsageError(f"{self.name} line {(self.i if line is None else line) + 1}: {what} is outside "
                          f"the YAML subset agentkit-min reads (the YAML vcrpy writes)")

    def skip(self) -> int:
        """Move to the next line with content; its indentation, or -1 at the end."""
        while self.i < len(self.lines):
            line = self.lines[self.i]
            content = line.lstrip(" ")
            if content.strip() and content[0] != "#" and line not in ("---", "..."):
                if content[0] == "\t":
                    raise self.error("a tab in indentation")
                return len(line) - len(content)
            self.i += 1
        return -1

    def item(self, col: int) -> bool:
        return re.match(r"-(?: |$)", self.lines[self.i][col:]) is not None

    def block(self, col: int, parent: int) -> Any:
        """The node on the current line at column `col`, inside a node at column `parent`."""
        if self.item(col):
            items = []
            while self.skip() == col and self.item(col):  # "- x" becomes "  x": the item's node
                self.lines[self.i] = " " * (col + 1) + self.lines[self.i][col + 1:]
                inner = self.skip()
                items.append(self.block(inner, col) if inner > col else None)
            return items
        if self.key(self.lines[self.i][col:]) is None:
            return self.value(self.lines[self.i][col:], parent)
        mapping: dict[Any, Any] = {}
        while self.skip() == col and (pair := self.key(self.lines[self.i][col:])) is not None:
            key, rest = pair[0], pair[1].strip()
            if rest and rest[0] != "#":
                mapping[key] = self.value(rest, col)
                continue
            self.i += 1
            inner = self.skip()  # a nested node, a sequence at the key's column, or null
            mapping[key] = self.block(inner, col) if inner > col or (inner == col and self.item(col)) else None
        return mapping

    def key(self, text: str) -> tuple[Any, str] | None:
        """(key, rest of the line) when the line is `key: ...`, else None."""
        if text[0] in "'\"":
            end = _END[text[0]].match(text, 1)
            after = re.match(r"[ \t]*:(?:[ \t]|$)", text[end.end():]) if end else None
            return (self.fold([text[1:end.end() - 1]], text[0]), text[end.end() + after.end():]) \
                if end and after else None
        found = re.match(r"(.*?)[ \t]*:(?:[ \t]|$)", text)
        if not found or " #" in found[1]:
            return None
        if not found[1] or _INDICATOR.match(found[1]):
            raise self.error(f"the key {found[1]!r}")
        return self.resolve(found[1]), text[found.end():]

    def value(self, text: str, parent: int) -> Any:
        """The scalar starting with `text` on the current line (it may go on below)."""
        start, (tag, rest) = self.i, (text.split(None, 1) + [""])[:2] if text[0] == "!" else (None, text)
        if tag not in (None, "!!binary", "!!str") or not rest:
            raise self.error(f"the tag {tag}")
        if rest[0] in "|>":
            value: Any = self.block_scalar(rest, parent)
        elif rest[0] in "'\"":
            value = self.quoted(rest)
        elif _COMMENT.sub("", rest) in ("{}", "[]"):
            value, self.i = ({} if rest[0] == "{" else []), self.i + 1
        elif _INDICATOR.match(rest):
            raise self.error(f"the scalar {rest[:20]!r}")
        else:
            value = self.plain(rest, parent)
            value = self.resolve(value, start) if tag is None else value
        return base64.decodebytes(str(value).encode("ascii")) if tag == "!!binary" else value

    def resolve(self, plain: str, line: int | None = None) -> Any:
        if plain in _BOOL:
            return _BOOL[plain]
        if _INT.fullmatch(plain) or _FLOAT.fullmatch(plain):
            digits = plain.replace("_", "").lower()
            sign, digits = (-1 if digits[0] == "-" else 1), digits.lstrip("+-")
            if ":" in digits:
                raise self.error(f"the sexagesimal number {plain!r}", line)
            if not _INT.fullmatch(plain):
                return sign * float(digits.replace(".inf", "inf").replace(".nan", "nan"))
            base = {"0b": 2, "0x": 16}.get(digits[:2], 8 if digits[0] == "0" and len(digits) > 1 else 10)
            return sign * int(digits[2:] if base in (2, 16) else digits, base)
        if _OTHER.fullmatch(plain):
            raise self.error(f"the date or merge key {plain!r}", line)
        return plain

    def plain(self, text: str, parent: int) -> str:
        """A plain scalar, continued on lines indented more than `parent` (a comment ends it)."""
        parts, blanks = [self.checked(_COMMENT.sub("", text))], 0
        self.i, ended = self.i + 1, parts[0] != text.rstrip()
        while not ended and self.i + blanks < len(self.lines):
            line = self.lines[self.i + blanks]
            if not line.strip():
                blanks += 1
                continue
            if len(line) - len(line.lstrip()) <= parent or line.strip()[0] == "#" or line in ("---", "..."):
                break
            self.i += blanks
            parts += [""] * blanks + [self.checked(_COMMENT.sub("", line.strip()))]
            ended, self.i, blanks = parts[-1] != line.strip(), self.i + 1, 0
        return self.fold(parts, "")

    def checked(self, plain: str) -> str:
        if re.search(r":(?:[ \t]|$)", plain):
            raise self.error("a plain scalar holding ': '")
        return plain

    def quoted(self, text: str) -> str:
        quote, parts, rest, start = text[0], [], text[1:], self.i
        while not (end := _END[quote].match(rest)):
            parts.append(rest)
            self.i += 1
            if self.i >= len(self.lines):
                raise self.error("an unterminated quoted scalar", start)
            rest = self.lines[self.i]
        if _COMMENT.sub("", rest[end.end():]):
            raise self.error(f"text after a quoted scalar: {rest[end.end():][:20]!r}")
        value = self.fold(parts + [rest[:end.end() - 1]], quote)
        self.i += 1
        return value

    def fold(self, parts: list[str], quote: str) -> str:
        """Join a flow scalar's lines as YAML folds them (7.3): one break is a space, n+1 are n."""
        chunks, joiner, last = [], "", len(parts) - 1
        for n, part in enumerate(parts):
            if n:
                part = part.lstrip(" \t")
                if not part and n < last:  # an empty line is a line break
                    joiner = ("" if joiner == " " else joiner) + "\n"
                    continue
                chunks.append(joiner)
            odd = quote == '"' and (len(part) - len(part.rstrip("\\"))) % 2 == 1
            if odd and n < last:  # a backslash ends the line: the break is escaped away
                part = part[:-1]
            elif n < last:
                kept = part.rstrip(" \t")
                escaped = quote == '"' and kept != part and (len(kept) - len(kept.rstrip("\\"))) % 2
                part = part[:len(kept) + 1] if escaped else kept  # "\ " at the end is content
            chunks.append(self.unescape(part) if quote == '"' else part.replace("''", "'") if quote else part)
            joiner = "" if odd and n < last else " "
        return "".join(chunks)

    def unescape(self, text: str) -> str:
        def one(found: re.Match[str]) -> str:
            if len(found[1]) > 1:
                return chr(int(found[1][1:], 16))
            if found[1] not in _ESCAPES:
                raise self.error(f"the escape '\\{found[1]}'")
            return _ESCAPES[found[1]]
        return re.sub(r"\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.?)", one, text)

    def block_scalar(self, header: str, parent: int) -> str:
        """A `|` (literal) or `>` (folded) scalar, as PyYAML's scan_block_scalar reads it."""
        spec = re.fullmatch(r"([|>])([-+]?)([1-9]?)([-+]?)(?:[ \t]+#.*)?[ \t]*", header)
        if not spec:
            raise self.error(f"the block scalar header {header!r}")
        lines, j, indent = self.lines, self.i + 1, max(parent + 1, 1) + int(spec[3] or 1) - 1
        while not spec[3] and j < len(lines):  # no indicator: the indentation of the first content line
            indent = max(indent, len(lines[j]) - len(lines[j].lstrip(" ")))
            j = len(lines) if lines[j].strip(" ") else j + 1
        def blank(k: int) -> bool:
            return k < len(lines) and not lines[k].strip(" ") and len(lines[k]) <= indent

        def content(k: int) -> bool:
            return k < len(lines) and len(lines[k]) > indent and not lines[k][:indent].strip(" ")

        chunks: list[str] = []
        breaks: list[str] = []
        line_break, j = "", self.i + 1
        while blank(j):
            breaks, j = breaks + ["\n"], j + 1
        while content(j):
            text, chunks, j = lines[j][indent:], chunks + breaks + [lines[j][indent:]], j + 1
            line_break, breaks = "\n" if j < len(lines) or self.final_break else "", []
            while blank(j):
                breaks, j = breaks + ["\n"], j + 1
            if not content(j):
                break
            folds = spec[1] == ">" and text[0] not in " \t" and lines[j][indent] not in " \t"
            chunks += ([] if breaks else [" "]) if folds else [line_break]
        self.i, chomp = j, spec[2] or spec[4]
        return "".join(chunks + ([line_break] if chomp != "-" else []) + (breaks if chomp == "+" else []))
