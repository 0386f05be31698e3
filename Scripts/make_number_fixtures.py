#!/usr/bin/env python3
"""Hard decimal strings and the double Python's float() makes of each (it
rounds correctly, to nearest, ties to even), for NumberParser's tests:
Tests/SoftmaxDataTests/Fixtures/hard_numbers.json holds [text, bits] pairs,
bits the IEEE 754 pattern as a decimal integer.

The cases: exact halfway points between neighbouring doubles (ties), the
same a hair above and below (a digit far out), long round trips (17, 20, 25
and 40 significant digits), subnormals and the edges of the range, the
integers around 2^53 and 2^64, and powers of ten at both ends of the
Eisel-Lemire table.

    python3 Scripts/make_number_fixtures.py
"""
import json
import os
import random
import struct
from decimal import Decimal, getcontext
from fractions import Fraction

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir)
OUT = os.path.join(ROOT, "Tests", "SoftmaxDataTests", "Fixtures", "hard_numbers.json")
getcontext().prec = 1200  # exact for every double and midpoint


def bits(x):
    return struct.unpack("<Q", struct.pack("<d", x))[0]


def from_bits(b):
    return struct.unpack("<d", struct.pack("<Q", b))[0]


def exact(x):
    """The exact decimal expansion of a double or a midpoint (a Decimal)."""
    return format(x, "f") if isinstance(x, Decimal) else format(Decimal(x), "f")


def random_double(rng):
    kind = rng.random()
    if kind < 0.6:
        exponent = rng.randint(-60, 60)
    elif kind < 0.9:
        exponent = rng.randint(-1074, 1023)
    else:
        return from_bits(rng.randrange(1, 1 << 52))  # subnormal
    return rng.random() * 2.0 ** exponent + 2.0 ** exponent


def float32_bits(x):
    """The IEEE single nearest to the rational x (ties to even), as bits;
    exact arithmetic, no double in between."""
    sign = 0
    if x < 0:
        sign, x = 1 << 31, -x
    if x == 0:
        return sign
    # Scale to a 24-bit significand (or the subnormal range's fixed scale).
    e = x.numerator.bit_length() - x.denominator.bit_length()
    while Fraction(2) ** e > x:
        e -= 1
    while Fraction(2) ** (e + 1) <= x:
        e += 1
    e = max(e, -126)  # subnormals share 2^-126's scale
    scaled = x / Fraction(2) ** (e - 23)  # in [2^23, 2^24) for normals
    q, r = divmod(scaled.numerator, scaled.denominator)
    twice = 2 * r
    if twice > scaled.denominator or (twice == scaled.denominator and q % 2 == 1):
        q += 1
    if q == 1 << 24:
        q, e = 1 << 23, e + 1
    if e > 127:
        return sign | 0x7F800000
    if q < 1 << 23:  # subnormal
        return sign | q
    return sign | ((e + 127) << 23) | (q - (1 << 23))


def float_texts(rng):
    """Decimals that round to a double exactly halfway between two floats
    (so that Float(Double(text)) rounds twice and may be wrong), the
    midpoints themselves, and ordinary 9- and 17-digit values."""
    texts = []
    for _ in range(300):
        f = struct.unpack("<f", struct.pack("<I", rng.randrange(0x00800000, 0x7F000000)))[0]
        up = struct.unpack("<f", struct.pack("<I", struct.unpack("<I", struct.pack("<f", f))[0] + 1))[0]
        middle = (Fraction(f) + Fraction(up)) / 2  # a double
        quarter = Fraction(2) ** (Fraction(middle).numerator.bit_length()
                                 - Fraction(middle).denominator.bit_length() - 56)
        for x in (middle, middle + quarter, middle - quarter):
            texts.append(format(Decimal(x.numerator) / Decimal(x.denominator), "f"))
    for _ in range(300):
        v = rng.uniform(-1, 1) * 10.0 ** rng.randint(-30, 30)
        texts += [f"{v:.8e}", f"{v:.16e}"]
    return texts


def main():
    rng = random.Random(16)
    texts = []
    for _ in range(400):
        x = random_double(rng)
        up = from_bits(bits(x) + 1)
        middle = (Decimal(x) + Decimal(up)) / 2
        text = exact(middle)
        texts.append(text)  # a tie
        texts.append(text + "0000000000000000000000001")  # just above
        below = middle - Decimal(10) ** (middle.adjusted() - 40)
        texts.append(format(below, "e"))  # just below, 41 digits
    for _ in range(400):
        x = random_double(rng)
        texts.append(repr(x))
        for digits in (17, 20, 25, 40):
            texts.append(f"{x:.{digits - 1}e}")
    for b in range(-3, 4):
        texts.append(str(2 ** 53 + b))
        texts.append(str(2 ** 64 + b))
        texts.append(str(2 ** 64 * 10 + b) + "e-1")
    texts += [
        "9007199254740993", "9007199254740993.000000000000000000001",
        "4.9406564584124654e-324", "2.4703282292062327e-324", "2.4703282292062328e-324",
        "2.2250738585072011e-308", "2.2250738585072014e-308",
        "1.7976931348623157e308", "1.7976931348623158e308", "1.7976931348623159e308",
        "1e-342", "1e-343", "9.999999999999999999e-343", "1e308", "1e309",
        "123456789012345678901234567890e-330", "0.1", "0.30000000000000004",
        "7.2057594037927933e16", "1.00000000000000011102230246251565404236316680908203125",
        "1.00000000000000011102230246251565404236316680908203124",
        "1.00000000000000011102230246251565404236316680908203126",
    ]
    for q in (-342, -341, -325, -310, -28, -27, -26, -23, -22, 22, 23, 55, 56, 300, 308):
        texts.append(f"1e{q}")
        texts.append(f"18446744073709551615e{q}")
        texts.append(f"9999999999999999999e{q}")
    cases = [[t, str(bits(float(t)))] for t in texts]
    float_cases = [[t, str(float32_bits(Fraction(Decimal(t))))] for t in float_texts(rng)]
    with open(OUT, "w") as f:
        f.write('{"source": "Python float(), correctly rounded; float32: exact rational rounding",\n')
        f.write('"cases": [\n')
        f.write(",\n".join(json.dumps(case) for case in cases))
        f.write('\n],\n"float32": [\n')
        f.write(",\n".join(json.dumps(case) for case in float_cases))
        f.write("\n]}\n")
    print(f"{len(cases)} + {len(float_cases)} cases → {OUT}")


if __name__ == "__main__":
    main()
