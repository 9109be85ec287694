"""What ``openssl speed -mr`` printed, as WA3's openssl metrics.

WA3 reads the ``-mr`` ("machine readable") lines, and so do we: one line per
result, its fields separated by ``:``. Their layout is the same in OpenSSL
1.1 and 3; what the numbers *mean* changed in OpenSSL 1.1.1:

- ``+H:16:64:...`` the block sizes of the cipher and digest results;
- ``+F:IDX:NAME:V1:V2:...`` bytes per second, one value per block size;
- ``+F2`` (rsa), ``+F3`` (dsa), ``+F4`` (ecdsa) ``:IDX:BITS:SIGN:VERIFY``:
  operations per second since 1.1.1, seconds per operation before it (and in
  LibreSSL, whose ``speed`` descends from OpenSSL 1.0);
- ``+F5:IDX:BITS:A:B`` (ecdh): ``A`` operations per second and ``B`` seconds
  per operation since 1.1.1, the other way round before it;
- ``+F6:IDX:BITS:NAME:SIGN:VERIFY`` (EdDSA, 1.1.1 and later): operations per
  second.

So the version decides: the workload's command prints ``openssl version``
first, and the result keeps that line. With ``-multi`` each child's lines come
back prefixed ``Got: ... from N``; the lines without the prefix are the sums
over the children, the results. The curve of an ecdsa or ecdh line is only an
index into the curves that build knows; the tables below name it, checked
against the key length each line carries.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from .tool import Reading

#: Block sizes when no ``+H`` line was printed (OpenSSL 1.1 and 3 test these).
BLOCK_SIZES = (16, 64, 256, 1024, 8192, 16384)
MEBIBYTE = 2 ** 20  # WA3's 'score' is bytes per second / 2**20, labelled MB/s
_VERSION = re.compile(r"^(OpenSSL|LibreSSL) (\d+)\.(\d+)\.(\d+)", re.MULTILINE)

_PRIME = (("secp160r1", 160), ("nistp192", 192), ("nistp224", 224), ("nistp256", 256),
          ("nistp384", 384), ("nistp521", 521))
_BINARY = (("nistk163", 163), ("nistk233", 233), ("nistk283", 283), ("nistk409", 409),
           ("nistk571", 571), ("nistb163", 163), ("nistb233", 233), ("nistb283", 283),
           ("nistb409", 409), ("nistb571", 571))
_BRAINPOOL = (("brainpoolP256r1", 256), ("brainpoolP256t1", 256), ("brainpoolP384r1", 384),
              ("brainpoolP384t1", 384), ("brainpoolP512r1", 512), ("brainpoolP512t1", 512))
_MONTGOMERY = (("X25519", 253), ("X448", 448))
#: The curve lists of ``openssl speed`` builds, by index: the first whose key lengths
#: agree with every line names the curves. ecdsa uses the same list without X25519/X448.
CURVE_LISTS: tuple[tuple[tuple[str, int], ...], ...] = (
    _PRIME + _BINARY + _BRAINPOOL + _MONTGOMERY,  # OpenSSL 1.1.1 and 3.x
    _PRIME + _BRAINPOOL + _MONTGOMERY,  # OpenSSL 3.x built without binary curves
    _PRIME + _BINARY + (("X25519", 253),),  # OpenSSL 1.1.0 (1.0.x and LibreSSL: its first 16)
)


def rates_per_second(output: str) -> bool:
    """Whether rsa/dsa/ecdsa/ecdh numbers are operations per second (OpenSSL 1.1.1 and
    later, or a version we cannot tell) rather than seconds per operation."""
    found = _VERSION.search(output)
    if found is None:
        return True
    if found[1] == "LibreSSL":
        return False
    return (int(found[2]), int(found[3]), int(found[4])) >= (1, 1, 1)


def result_lines(output: str) -> list[list[str]]:
    """The ``+F*`` result lines, split into fields; a -multi child's own lines are left out."""
    lines = (line.strip() for line in output.splitlines())
    return [line.split(":") for line in lines if line.startswith("+F")]


def block_sizes(output: str) -> tuple[int, ...]:
    """The ``+H`` header's sizes (a -multi child prints it as ``Got: +H:...``)."""
    for line in output.splitlines():
        header = line.strip().removeprefix("Got: ").split(" from ")[0]
        if header.startswith("+H:"):
            return tuple(int(size) for size in header.split(":")[1:])
    return BLOCK_SIZES


def curve_names(lines: Iterable[list[str]]) -> dict[int, str]:
    """Index -> curve name for the ``+F4``/``+F5`` lines, from the first curve list whose
    key lengths agree with theirs; an index no list explains is named ``curve<index>``."""
    seen = {int(fields[1]): int(fields[2]) for fields in lines
            if fields[0] in ("+F4", "+F5") and len(fields) > 2
            and fields[1].isdigit() and fields[2].isdigit()}
    for curves in CURVE_LISTS:
        if all(index < len(curves) and curves[index][1] == bits
               for index, bits in seen.items()):
            return {index: curves[index][0] for index in seen}
    return {index: f"curve{index}" for index in seen}


@dataclass(frozen=True)
class _Run:
    """What every line of one output is read with."""

    per_second: bool
    curves: dict[int, str]
    sizes: tuple[int, ...]


def read_speed(output: str) -> list[Reading]:
    """Every metric in ``openssl speed -mr`` output (see the module docstring)."""
    lines = result_lines(output)
    run = _Run(rates_per_second(output), curve_names(lines), block_sizes(output))
    readings: list[Reading] = []
    for fields in lines:
        try:
            readings += _line_readings(fields, run)
        except (IndexError, KeyError, ValueError):
            raise ValueError(f"unexpected openssl speed line: {':'.join(fields)}") from None
    return readings


def _line_readings(fields: list[str], run: _Run) -> Iterator[Reading]:
    tag = fields[0]
    if tag == "+F":
        yield from _cipher(fields, run.sizes)
    elif tag in ("+F2", "+F3"):
        yield from _sign_verify(fields[3:5], run.per_second, {"key_length": int(fields[2])})
    elif tag == "+F4":
        yield from _sign_verify(fields[3:5], run.per_second, _curve(fields, run.curves))
    elif tag == "+F5":
        yield from _ecdh(fields[3:5], run.per_second, _curve(fields, run.curves))
    elif tag == "+F6":
        yield from _sign_verify(fields[4:6], True, {"key_length": int(fields[2]),
                                                    "curve": fields[3]})


def _curve(fields: list[str], curves: dict[int, str]) -> dict[str, object]:
    return {"key_length": int(fields[2]), "curve": curves[int(fields[1])]}


def _cipher(fields: list[str], sizes: tuple[int, ...]) -> Iterator[Reading]:
    values = [float(value) for value in fields[3:]]
    if len(values) != len(sizes):
        raise ValueError(f"{len(values)} values for {len(sizes)} block sizes")
    for size, value in zip(sizes, values, strict=True):
        yield Reading("score", value / MEBIBYTE, "MB/s", classifiers={"block_size": size})


def _rate(text: str, per_second: bool) -> float | None:
    """Operations per second; None when a seconds-per-operation value is 0 (too fast
    for the 6 decimals OpenSSL prints)."""
    value = float(text)
    if per_second:
        return value
    return 1.0 / value if value > 0 else None


def _sign_verify(values: list[str], per_second: bool,
                 classifiers: dict[str, object]) -> Iterator[Reading]:
    if len(values) != 2:
        raise ValueError("a sign and a verify value expected")
    for name, text in zip(("sign", "verify"), values, strict=True):
        rate = _rate(text, per_second)
        if rate is not None:
            yield Reading(name, rate, "ops/s", classifiers=dict(classifiers))


def _ecdh(values: list[str], per_second: bool,
          classifiers: dict[str, object]) -> Iterator[Reading]:
    if len(values) != 2:
        raise ValueError("an op/s and a seconds value expected")
    rate_text, seconds_text = values if per_second else values[::-1]
    yield Reading("op", float(seconds_text), "seconds", lower_is_better=True,
                  classifiers=dict(classifiers))
    yield Reading("ops_per_sec", float(rate_text), "Hz", classifiers=dict(classifiers))
