"""Read the YAML that vcrpy writes (PyYAML's block style) with the standard library alone.

Covered (YAML 1.1 as PyYAML reads it, spec chapters 6-9): block mappings and sequences (also
sequences at their key's indentation, and compact `- key: value` items), plain scalars over
several lines, single- and double-quoted scalars with folding and every escape, literal and
folded block scalars with chomping and indentation indicators, the `!!binary` and `!!str`
tags, empty `{}` and `[]`, comments and `---`/`...` lines. Plain scalars resolve as PyYAML
does: null, booleans (yes/no/on/off too), integers (0b, 0x, 0-octal) and floats. Anything else
(flow collections with content, anchors, aliases, other tags, `?` keys, tabs as indentation,
dates and sexagesimal numbers) raises UsageError naming the line: no silent wrong reading.
"""

from __future__ import annotations

import base64
import re
from typing import Any

from .errors import UsageError

_NULL = {"", "~", "null", "Null", "NULL"}
_BOOL = {w: v for v, words in ((True, "yes Yes YES true True TRUE on On ON"),
                               (False, "no No NO false False FALSE off Off OFF")) for w in words.split()}
_INT = re.compile(r"[-+]?(?:0b[01_]+|0[0-7_]+|0|[1-9][0-9_]*|0x[0-9a-fA-F_]+|[1-9][0-9_]*(?::[0-5]?[0-9])+)")
_FLOAT = re.compile(r"[-+]?(?:[0-9][0-9_]*\.[0-9_]*(?:[eE][-+][0-9]+)?|[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*"
                    r"|\.(?:inf|Inf|INF))|\.[0-9_]+(?:[eE][-+][0-9]+)?|\.(?:nan|NaN|NAN)")
_OTHER = re.compile(r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:(?:[Tt]|[ \t]+)[0-9]{1,2}:.*)?|<<|=")  # dates, merge
_END = {"'": re.compile(r"(?:[^']|'')*'(?!')"), '"': re.compile(r'(?:[^"\\]|\\.)*"')}  # up to the closing quote
_ESCAPES = dict(zip('0abtnvfre "/\\N_LP\t', '\0\a\b\t\n\v\f\r\x1b "/\\\x85\xa0\u2028\u2029\t'))
_ESCAPE = re.compile(r"\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.?)")
_COMMENT = re.compile(r"[ \t]+#.*|\s+$")
_INDICATOR = re.compile(r"[!&*\[\]{}|>%@`,#'\"]|[?:-](?:[ \t]|$)")  # cannot start a plain scalar


def loads(text: str, name: str = "<yaml>") -> Any:
    """The value of the single YAML document `text`; UsageError names the line it cannot read."""
    reader = _Reader(text, name)
    col = reader.skip()
    value = None if col < 0 else reader.block(col, -1)
    if reader.skip() >= 0:
        raise reader.error("this line (bad indentation, or a second document)")
    return value


class _Reader:
    def __init__(self, text: str, name: str) -> None:
        self.lines = text.replace("\r\n", "\n").split("\n")
        self.final_break = self.lines[-1] == ""
        if self.final_break:
            self.lines.pop()
        self.name, self.i = name, 0

    def error(self, what: str, line: int | None = None) -> UsageError:
        return UsageError(f"{self.name} line {(self.i if line is None else line) + 1}: {what} is outside the YAML subset "
                          f"agentkit-min reads (the YAML vcrpy writes)")

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
        text = self.lines[self.i][col:]
        return text == "-" or text.startswith("- ")

    def block(self, col: int, parent: int) -> Any:
        """The node whose first line is the current one, content at `col`, inside `parent`."""
        text = self.lines[self.i][col:]
        if self.item(col):
            items = []
            while self.skip() == col and self.item(col):  # "- x" becomes "  x": the item's node
                self.lines[self.i] = " " * (col + 1) + self.lines[self.i][col + 1:]
                start = self.i
                inner = self.skip()
                items.append(self.block(inner, col) if inner > col or (inner == col and self.i == start) else None)
            return items
        if self.key(text) is None:
            return self.value(text, parent)
        mapping: dict[Any, Any] = {}
        while self.skip() == col and (pair := self.key(self.lines[self.i][col:])) is not None:
            key, rest = pair
            rest = rest.strip()
            if rest and rest[0] != "#":
                mapping[key] = self.value(rest, col)
                continue
            self.i += 1
            inner = self.skip()
            nested = inner > col or (inner == col and self.item(col))
            mapping[key] = self.block(inner, col) if nested else None
        return mapping

    def key(self, text: str) -> tuple[Any, str] | None:
        """(key, the rest of the line) when the line is `key: ...`, else None."""
        if text[0] in "'\"":
            end = _END[text[0]].match(text, 1)
            after = text[end.end():] if end else ""
            if not end or not re.match(r"[ \t]*:(?:[ \t]|$)", after):
                return None
            return self.fold([text[1:end.end() - 1]], text[0]), after.split(":", 1)[1]
        found = re.match(r"(.*?)[ \t]*:(?:[ \t]|$)", text)
        if not found or " #" in found[1]:
            return None
        if not found[1] or _INDICATOR.match(found[1]):
            raise self.error(f"the key {found[1]!r}")
        return self.resolve(found[1]), text[found.end():]

    def value(self, text: str, parent: int) -> Any:
        """A scalar that starts with `text` on the current line (and may go on below)."""
        start = self.i
        tag, rest = (text.split(None, 1) + [""])[:2] if text[0] == "!" else (None, text)
        if tag not in (None, "!!binary", "!!str"):
            raise self.error(f"the tag {tag}")
        if not rest or rest[0] == "#":  # "key: !!binary" with the scalar on the next lines
            self.i += 1
            inner = self.skip()
            rest = self.lines[self.i][inner:] if inner > parent else "''"
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
        if tag == "!!binary":
            return base64.decodebytes(str(value).encode("ascii"))
        return value

    def resolve(self, plain: str, line: int | None = None) -> Any:
        if plain in _NULL or plain in _BOOL:
            return _BOOL.get(plain)
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
        parts = [self.checked(_COMMENT.sub("", text))]
        self.i += 1
        ended = parts[0] != text.rstrip()  # a comment ends the scalar
        blanks = 0
        while not ended and self.i + blanks < len(self.lines):
            line = self.lines[self.i + blanks]
            content = line.strip()
            if not content:
                blanks += 1
                continue
            if len(line) - len(line.lstrip()) <= parent or content[0] == "#" or line in ("---", "..."):
                break
            self.i += blanks
            parts += [""] * blanks + [self.checked(_COMMENT.sub("", content))]
            ended, self.i, blanks = parts[-1] != content, self.i + 1, 0
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
        parts.append(rest[:end.end() - 1])
        if _COMMENT.sub("", rest[end.end():]):
            raise self.error(f"text after a quoted scalar: {rest[end.end():][:20]!r}")
        value = self.fold(parts, quote)
        self.i += 1
        return value

    def fold(self, parts: list[str], quote: str) -> str:
        """Join a flow scalar's lines as YAML folds them (7.3): one break is a space, n+1 are n."""
        chunks: list[str] = []
        joiner = ""
        for n, part in enumerate(parts):
            last = n == len(parts) - 1
            if n:
                part = part.lstrip(" \t")
                if not part and not last:  # an empty line is a line break
                    joiner = ("" if joiner == " " else joiner) + "\n"
                    continue
                chunks.append(joiner)
            escaped = quote == '"' and not last and (len(part) - len(part.rstrip("\\"))) % 2 == 1
            if escaped:  # backslash at the end of the line: the break is escaped away
                part = part[:-1]
            elif not last:
                kept = part.rstrip(" \t")
                odd = quote == '"' and (len(kept) - len(kept.rstrip("\\"))) % 2 == 1
                part = part[:len(kept) + 1] if odd and kept != part else kept  # "\ " is content
            chunks.append(self.unescape(part) if quote == '"' else part.replace("''", "'") if quote else part)
            joiner = "" if escaped else " "
        return "".join(chunks)

    def unescape(self, text: str) -> str:
        def one(found: re.Match[str]) -> str:
            code = found[1]
            if len(code) > 1:
                return chr(int(code[1:], 16))
            if code not in _ESCAPES:
                raise self.error(f"the escape '\\{code}'")
            return _ESCAPES[code]
        return _ESCAPE.sub(one, text)

    def block_scalar(self, header: str, parent: int) -> str:
        """A `|` (literal) or `>` (folded) scalar, ported from PyYAML's scan_block_scalar."""
        spec = re.fullmatch(r"([|>])([-+]?)([1-9]?)([-+]?)(?:[ \t]+#.*)?[ \t]*", header)
        if not spec:
            raise self.error(f"the block scalar header {header!r}")
        chomp, lines, j = spec[2] or spec[4], self.lines, self.i + 1
        indent = max(parent + 1, 1) + int(spec[3]) - 1 if spec[3] else max(parent + 1, 1)
        while not spec[3] and j < len(lines):
            indent = max(indent, len(lines[j]) - len(lines[j].lstrip(" ")))
            if lines[j].strip(" "):
                break
            j += 1
        j = self.i + 1

        def blank(k: int) -> bool:
            return k < len(lines) and not lines[k].strip(" ") and len(lines[k]) <= indent

        def content(k: int) -> bool:
            return k < len(lines) and len(lines[k]) > indent and not lines[k][:indent].strip(" ")

        chunks, breaks, line_break = [], [], ""
        while blank(j):
            breaks.append("\n")
            j += 1
        while content(j):
            chunks += breaks
            text = lines[j][indent:]
            chunks.append(text)
            j += 1
            line_break = "\n" if j < len(lines) or self.final_break else ""
            breaks = []
            while blank(j):
                breaks.append("\n")
                j += 1
            if not content(j):
                break
            if spec[1] == ">" and text[0] not in " \t" and lines[j][indent] not in " \t":
                chunks += [] if breaks else [" "]
            else:
                chunks.append(line_break)
        self.i = j
        return "".join(chunks + ([line_break] if chomp != "-" else []) + (breaks if chomp == "+" else []))
