"""The verdict on a model's claim versus what its code printed."""

from __future__ import annotations

import pytest

from worldmodel.verify import extract_numbers, numbers_match, verify_claim


@pytest.mark.parametrize(
    ("text", "values"),
    [
        ("15% of 200 is 30.", [15, 200, 30]),
        ("She earned $1,234.50 in total", [1234.5]),
        ("The result is -3.5e2", [-350.0]),
        ("Three quarters is 3/4", [0.75]),
        ("values 1,2,3", [1, 2, 3]),
        ("version3 x2 are words", []),
        ("It is 2024-03-15", [2024, 3, 15]),  # a date has no negative parts
    ],
)
def test_extract_numbers(text: str, values: list[float]) -> None:
    assert [n.value for n in extract_numbers(text)] == pytest.approx(values)


def test_written_precision_is_respected() -> None:
    (claim,) = extract_numbers("about 3.14")
    assert numbers_match(claim, 3.14159)
    assert not numbers_match(claim, 3.15)
    (whole,) = extract_numbers("30")
    assert numbers_match(whole, 30.0)
    assert numbers_match(whole, 30.4)  # "30" as written covers 29.5..30.5
    assert not numbers_match(whole, 31.0)


@pytest.mark.parametrize(
    ("answer", "stdout", "status"),
    [
        ("15% of 200 is 30.", "30.0\n", "verified"),
        ("15% of 200 is 35.", "30.0\n", "mismatch"),
        ("The total is $1,234.50.", "1234.5\n", "verified"),
        ("The area is about 78.54 square units.", "78.53981633974483\n", "verified"),
        ("The reversed word is 'olleh'.", "olleh\n", "verified"),
        ("The reversed word is 'hello'.", "olleh\n", "mismatch"),
        ("Yes, 17 is prime.", "True\n", "verified"),
        ("No, 17 is not prime.", "True\n", "mismatch"),
        ("It is done.", "42\n", "unverifiable"),
        ("The answer is 42.", "", "unverifiable"),
        ("The mean is 2.5 and the median is 3.", "2.5 3\n", "verified"),
        ("The mean is 2.5 and the median is 4.", "2.5 3\n", "mismatch"),
        ("There are 3 vowels.", "working...\n3\n", "verified"),
        # The stated result counts, not any number the sentence mentions.
        ("30% of 200 is 300.", "30\n", "mismatch"),
        ("15% of 200 is 30, not 300.", "300\n", "mismatch"),
        ("There are 60 days between 2024-01-01 and 2024-03-01.", "60\n", "verified"),
        ("6 * 7 = 42", "42\n", "verified"),
        ("The answer: 7 apples.", "7\n", "verified"),
        ("42.", "42\n", "verified"),
        # A result written first reads as stating the number after "is": a false mismatch,
        # the safe side (never a false verification).
        ("30 is 15% of 200.", "30\n", "mismatch"),
    ],
)
def test_verify_claim(answer: str, stdout: str, status: str) -> None:
    verdict = verify_claim(answer, stdout)
    assert verdict.status == status, verdict.reason


def test_stated_results_are_the_numbers_after_is_or_equals() -> None:
    from worldmodel.verify import stated_results

    def texts(answer: str) -> list[str]:
        return [number.text for number in stated_results(answer)]

    assert texts("15% of 200 is 30.") == ["30"]
    assert texts("The mean is 2.5 and the median is 3.") == ["2.5", "3"]
    assert texts("Roughly 12 or 13 apples") == ["13"]  # no marker: the last number
    assert texts("No numbers here.") == []


def test_dates_and_times_in_the_prose_are_not_stated_results() -> None:
    # The last number used to be the "01" of 2024-03-01: a correct answer read as a mismatch.
    answer = "60 days pass from 2024-01-01 to 2024-03-01."
    assert verify_claim(answer, "60\n").status == "verified"
    assert verify_claim(answer, "59\n").status == "mismatch"
    assert verify_claim("From 12:35 until 13:00 is 25 minutes.", "25\n").status == "verified"
    # A printed date is still compared as text.
    assert verify_claim("It is 2024-03-15.", "2024-03-15\n").status == "verified"
    assert verify_claim("It is 2024-03-16.", "2024-03-15\n").status == "mismatch"


def test_failed_execution_is_unverifiable_not_verified() -> None:
    verdict = verify_claim("The answer is 30.", "30\n", execution_ok=False)
    assert verdict.status == "unverifiable"
    assert "did not run" in verdict.reason


def test_mismatch_names_both_values() -> None:
    verdict = verify_claim("The answer is 35.", "30\n")
    assert "30" in verdict.reason and "35" in verdict.reason
    assert verdict.to_dict()["executed"] == "30"
