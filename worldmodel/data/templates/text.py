"""Family "text": counting and string processing over words and sentences in the question.

The expected answers are computed here with plain loops or different library calls than the
emitted program uses (e.g. a manual count against the program's `str.count`), so the two
are independent. Not covered: parsing structured data (see `data`).
"""

from __future__ import annotations

from worldmodel.data.templates.base import Draft, Values, code, template
from worldmodel.data.templates.words import FRUITS, NAMES, NOUNS, sentence

FAMILY = "text"
VOWELS = "aeiou"


def _count_char(text: str, char: str) -> int:
    return sum(1 for c in text.lower() if c == char)


@template(
    "count_letter",
    FAMILY,
    (
        "How many times does the letter '{letter}' appear in \"{text}\"?",
        "Count the occurrences of '{letter}' in the sentence \"{text}\" (ignoring case).",
        "Tell me how often '{letter}' shows up in \"{text}\", ignoring case.",
        'how many {letter}\'s are in "{text}"? upper and lower case both count',
        "Here is a sentence: \"{text}\". Ignoring case, how many times does '{letter}' occur?",
        "Letter '{letter}', sentence \"{text}\": number of occurrences, ignoring case?",
        "Work out the count of the letter '{letter}' in \"{text}\", treating capitals the "
        "same as lower case.",
        "'{letter}' in \"{text}\" - how many are there if case is ignored?",
        "In \"{text}\", how many '{letter}' characters are there, case-insensitively?",
    ),
)
def count_letter(v: Values) -> Draft:
    text = sentence(v, v.int(0, 2), key=False)
    letter = v.choice(sorted(set(text.lower()) - {" "}), key=True)
    count = _count_char(text, letter)
    return Draft(
        slots={"letter": letter, "text": text},
        reasoning=f"Lower-case the sentence and count the '{letter}' characters.",
        code=code(
            f"text = {text!r}",
            f"letter = {letter!r}",
            "count = text.lower().count(letter)",
            "print(count)",
        ),
        requires=(),
        answer=f"The letter '{letter}' appears {count} time{'s' if count != 1 else ''}.",
        expected=str(count),
    )


@template(
    "count_vowels",
    FAMILY,
    (
        'How many vowels are in "{text}"?',
        'Count the vowels (a, e, i, o, u) in the phrase "{text}".',
        'Tell me how many vowels "{text}" contains.',
        'how many a, e, i, o and u letters are there in "{text}"?',
        'Here is a phrase: "{text}". Count its vowels, where the vowels are a, e, i, o and u.',
        'Vowel count for "{text}"?',
        '"{text}" - how many vowels does it have?',
        'Work out how many characters of "{text}" are vowels (a, e, i, o, u).',
        'What is the number of vowels in the text "{text}"?',
    ),
)
def count_vowels(v: Values) -> Draft:
    text = sentence(v, v.int(0, 2))
    count = sum(_count_char(text, vowel) for vowel in VOWELS)
    return Draft(
        slots={"text": text},
        reasoning="Go through the lower-cased text and count characters that are a, e, i, o or u.",
        code=code(
            f"text = {text!r}",
            'vowels = "aeiou"',
            "count = sum(1 for char in text.lower() if char in vowels)",
            "print(count)",
        ),
        requires=(),
        answer=f"The text contains {count} vowels.",
        expected=str(count),
    )


@template(
    "count_words",
    FAMILY,
    (
        'How many words are in the sentence "{text}"?',
        'Count the words in "{text}".',
        'Tell me how many words "{text}" has.',
        'how many words does "{text}" contain?',
        'I wrote the sentence "{text}". How many words is that?',
        '"{text}" - number of words?',
        'Work out how many words make up "{text}".',
        'Count how many separate words appear in this sentence: "{text}"',
        'What is the word count of "{text}"?',
    ),
)
def count_words(v: Values) -> Draft:
    text = sentence(v, v.int(0, 4))
    count = text.count(" ") + 1
    return Draft(
        slots={"text": text},
        reasoning="Split the sentence on whitespace and count the pieces.",
        code=code(f"sentence = {text!r}", "words = sentence.split()", "print(len(words))"),
        requires=(),
        answer=f"The sentence has {count} words.",
        expected=str(count),
    )


@template(
    "reverse_word",
    FAMILY,
    (
        'What is the word "{word}" spelled backwards?',
        'Reverse the string "{word}".',
        'Spell "{word}" backwards.',
        'what do you get if you reverse "{word}"?',
        'Take the word "{word}" and read it from the last character to the first. What is it?',
        '"{word}" reversed?',
        'Tell me what "{word}" looks like when its characters are reversed.',
        'Flip the string "{word}" so it runs back to front.',
        'Write "{word}" in reverse order of its letters.',
    ),
)
def reverse_word(v: Values) -> Draft:
    word = v.choice(NOUNS + NAMES, key=True)
    reversed_word = "".join(word[i] for i in range(len(word) - 1, -1, -1))
    return Draft(
        slots={"word": word},
        reasoning="Slice the string with a step of -1 to reverse it.",
        code=code(f"word = {word!r}", "reversed_word = word[::-1]", "print(reversed_word)"),
        requires=(),
        answer=f'"{word}" reversed is "{reversed_word}".',
        expected=reversed_word,
        check="exact",
    )


@template(
    "is_palindrome",
    FAMILY,
    (
        'Is "{word}" a palindrome?',
        'Does the word "{word}" read the same forwards and backwards?',
        'Tell me whether "{word}" is a palindrome, ignoring case.',
        'is "{word}" the same when you read it backwards?',
        'A palindrome reads the same in both directions. Is "{word}" one?',
        '"{word}" - palindrome or not?',
        'Determine if "{word}" reads identically forwards and in reverse, ignoring capitalization.',
        'Would "{word}" still be the same word if it were spelled backwards (case aside)?',
        'Check whether "{word}" is a palindrome (answer True or False).',
    ),
)
def is_palindrome(v: Values) -> Draft:
    word = v.choice(NOUNS + NAMES, key=True)
    lowered = word.lower()
    palindrome = all(lowered[i] == lowered[-1 - i] for i in range(len(lowered) // 2))
    return Draft(
        slots={"word": word},
        reasoning="Compare the lower-cased word with its reverse.",
        code=code(
            f"word = {word!r}", "normalized = word.lower()", "print(normalized == normalized[::-1])"
        ),
        requires=(),
        answer=f'"{word}" {"is" if palindrome else "is not"} a palindrome.',
        expected=str(palindrome),
        check="exact",
    )


@template(
    "uppercase",
    FAMILY,
    (
        'Convert "{text}" to upper case.',
        'What is "{text}" in all capital letters?',
        'Turn "{text}" into all caps.',
        'can you put "{text}" in capitals?',
        'I need this text in upper case for a heading: "{text}"',
        '"{text}" in upper case?',
        'Change every letter of "{text}" to a capital letter.',
        'Give me the upper-case version of "{text}".',
        'Write the sentence "{text}" in uppercase.',
    ),
)
def uppercase(v: Values) -> Draft:
    text = sentence(v)
    upper = "".join(chr(ord(c) - 32) if "a" <= c <= "z" else c for c in text)
    return Draft(
        slots={"text": text},
        reasoning="Use str.upper() on the sentence.",
        code=code(f"text = {text!r}", "print(text.upper())"),
        requires=(),
        answer=f'In upper case it reads "{upper}".',
        expected=upper,
        check="exact",
    )


@template(
    "longest_word",
    FAMILY,
    (
        'What is the longest word in "{text}"?',
        'Find the longest word in the sentence "{text}" (the first one if there is a tie).',
        'Tell me the longest word in "{text}", taking the earliest one if lengths tie.',
        'which word is longest in "{text}"? (if there is a tie, the first one)',
        'Look at the sentence "{text}". Which of its words is the longest? Ties go to the word '
        "that comes first.",
        'Longest word of "{text}" (first on ties)?',
        '"{text}" - find the word with the greatest length; on a tie, choose the earlier word.',
        'Work out which word in "{text}" is the longest, preferring the first when several are '
        "equally long.",
        'Which word of "{text}" has the most letters? If several tie, give the first.',
    ),
)
def longest_word(v: Values) -> Draft:
    text = sentence(v, v.int(0, 3))
    best = ""
    for word in text.split(" "):
        if len(word) > len(best):
            best = word
    return Draft(
        slots={"text": text},
        reasoning="Split into words and take the one with the greatest length; max keeps the "
        "first of equals.",
        code=code(
            f"sentence = {text!r}",
            "words = sentence.split()",
            "longest = max(words, key=len)",
            "print(longest)",
        ),
        requires=(),
        answer=f'The longest word is "{best}".',
        expected=best,
        check="exact",
    )


@template(
    "most_common_letter",
    FAMILY,
    (
        'Which letter occurs most often in "{text}"? Break ties alphabetically.',
        'Find the most frequent letter in "{text}" (alphabetically first on a tie).',
        'Tell me which letter appears most in "{text}", choosing the alphabetically first one on '
        "a tie.",
        'what letter shows up the most in "{text}"? ties go to the letter earliest in a-z',
        'Here is some text: "{text}". Which letter has the highest count? If there is a tie, '
        "give the one that comes first alphabetically.",
        'Most frequent letter of "{text}" (alphabetical tie-break)?',
        '"{text}" - which letter is used the most? Resolve ties by alphabetical order.',
        'Work out the letter with the most occurrences in "{text}", breaking ties alphabetically.',
        'In the phrase "{text}", what is the most common letter? If tied, pick the earliest '
        "in the alphabet.",
    ),
)
def most_common_letter(v: Values) -> Draft:
    text = sentence(v, v.int(0, 2))
    counts: dict[str, int] = {}
    for char in text.lower():
        if char.isalpha():
            counts[char] = counts.get(char, 0) + 1
    top = max(counts.values())
    letter = min(c for c, n in counts.items() if n == top)
    return Draft(
        slots={"text": text},
        reasoning="Count each letter with a Counter, then pick the highest count, breaking ties "
        "by the letter itself.",
        code=code(
            "from collections import Counter",
            "",
            f"text = {text!r}",
            "counts = Counter(char for char in text.lower() if char.isalpha())",
            "letter = min(counts, key=lambda char: (-counts[char], char))",
            "print(letter)",
        ),
        requires=("collections",),
        answer=f"The most common letter is '{letter}', appearing {top} times.",
        expected=letter,
        check="exact",
    )


@template(
    "replace_word",
    FAMILY,
    (
        'Replace "{old}" with "{new}" in "{text}".',
        'In the sentence "{text}", substitute the word "{old}" by "{new}". What is the result?',
        'Swap "{old}" for "{new}" in the sentence "{text}".',
        'in "{text}", put "{new}" wherever "{old}" is. what do you get?',
        'Here is a sentence: "{text}". Rewrite it with "{old}" replaced by "{new}".',
        '"{text}" with "{old}" -> "{new}"?',
        'Tell me the sentence you get from "{text}" after substituting "{new}" for "{old}".',
        'Use "{new}" in place of "{old}" in "{text}" and show the new sentence.',
        'What does "{text}" become if every "{old}" is changed to "{new}"?',
    ),
)
def replace_word(v: Values) -> Draft:
    text = sentence(v, key=False)
    old = text.split()[2]
    new = v.choice(FRUITS, key=True)
    result = " ".join(new if w == old else w for w in text.split(" "))
    return Draft(
        slots={"old": old, "new": new, "text": text},
        reasoning=f'Use str.replace to swap "{old}" for "{new}".',
        code=code(f"text = {text!r}", f"result = text.replace({old!r}, {new!r})", "print(result)"),
        requires=(),
        answer=f'The result is "{result}".',
        expected=result,
        check="exact",
    )


@template(
    "acronym",
    FAMILY,
    (
        'What is the acronym of "{text}"?',
        'Form an acronym from the first letters of the words in "{text}".',
        'Make an acronym out of "{text}".',
        'what acronym do the words "{text}" give?',
        'I want to abbreviate "{text}" using the initial letter of every word, in capitals. '
        "What is the abbreviation?",
        'Acronym for "{text}"?',
        'Tell me the acronym formed by "{text}".',
        '"{text}" - what are its initials, written as a capitalized acronym?',
        'Take the first letter of each word of "{text}", upper-cased. What do you get?',
    ),
)
def acronym(v: Values) -> Draft:
    first = v.choice(NOUNS, key=True)
    words = [first, *v.sample([n for n in NOUNS if n != first], v.int(2, 5))]
    text = " ".join(words)
    result = "".join(w[0] for w in words).upper()
    return Draft(
        slots={"text": text},
        reasoning="Take the first character of each word and upper-case the result.",
        code=code(
            f"phrase = {text!r}",
            'acronym = "".join(word[0] for word in phrase.split()).upper()',
            "print(acronym)",
        ),
        requires=(),
        answer=f"The acronym is {result}.",
        expected=result,
        check="exact",
    )


@template(
    "sort_words",
    FAMILY,
    (
        "Sort these words alphabetically: {listing}.",
        "Put the words {listing} in alphabetical order.",
        "Alphabetize the following words: {listing}.",
        "can you sort {listing} alphabetically?",
        "I have these words: {listing}. List them in alphabetical order.",
        "{listing} - alphabetical order?",
        "Tell me how {listing} look when sorted alphabetically.",
        "Order the words {listing} alphabetically, please.",
        "Arrange {listing} from A to Z.",
    ),
)
def sort_words(v: Values) -> Draft:
    first = v.choice(FRUITS, key=True)
    words = [first, *v.sample([w for w in NOUNS if w != first], v.int(2, 6))]
    v.rng.shuffle(words)
    listing = ", ".join(words)
    ordered = list(words)
    for i in range(len(ordered)):  # selection sort: independent of sorted()
        j = min(range(i, len(ordered)), key=lambda k: ordered[k])
        ordered[i], ordered[j] = ordered[j], ordered[i]
    result = " ".join(ordered)
    return Draft(
        slots={"listing": listing},
        reasoning="Sort the list with sorted() and join with spaces.",
        code=code(f"words = {words!r}", 'print(" ".join(sorted(words)))'),
        requires=(),
        answer=f"In alphabetical order: {', '.join(ordered)}.",
        expected=result,
        check="exact",
    )


@template(
    "unique_letters",
    FAMILY,
    (
        'How many distinct letters does the word "{word}" contain?',
        'Count the unique letters in "{word}".',
        'Tell me how many unique letters appear in "{word}", ignoring case.',
        'how many distinct letters are in "{word}"?',
        'Look at the word "{word}". Counting each letter only once (ignoring case), how many '
        "letters does it have?",
        '"{word}" - number of distinct letters?',
        'Work out the count of distinct letters in "{word}", treating upper and lower case as '
        "the same.",
        'Ignoring repeats and case, how many letters does "{word}" contain?',
        'How many different letters are used to spell "{word}"?',
    ),
)
def unique_letters(v: Values) -> Draft:
    word = v.choice(NOUNS + NAMES, key=True)
    seen: list[str] = []
    for char in word.lower():
        if char not in seen:
            seen.append(char)
    count = len(seen)
    return Draft(
        slots={"word": word},
        reasoning="Put the lower-cased letters in a set and take its size.",
        code=code(f"word = {word!r}", "print(len(set(word.lower())))"),
        requires=(),
        answer=f'"{word}" uses {count} distinct letters.',
        expected=str(count),
    )


@template(
    "average_word_length",
    FAMILY,
    (
        'What is the average word length in "{text}"? Round to two decimals.',
        'Compute the mean number of letters per word in "{text}", to 2 decimal places.',
        'Tell me the average length of the words in "{text}", rounded to 2 decimal places.',
        'whats the mean word length of "{text}"? round to two decimals',
        'Here is a sentence: "{text}". What is the average number of letters in its words, '
        "rounded to two decimal places?",
        'Average word length of "{text}" (2 d.p.)?',
        'Work out the mean length of a word in "{text}" and round it to two decimals.',
        '"{text}" - average word length, rounded to 2 decimals?',
        'On average, how many characters does a word in "{text}" have (2 decimals)?',
    ),
)
def average_word_length(v: Values) -> Draft:
    text = sentence(v, v.int(0, 3))
    words = text.split(" ")
    average = round(sum(len(w) for w in words) / len(words), 2)
    return Draft(
        slots={"text": text},
        reasoning="Split into words, add up their lengths and divide by the number of words.",
        code=code(
            f"sentence = {text!r}",
            "words = sentence.split()",
            "average = sum(len(word) for word in words) / len(words)",
            "print(round(average, 2))",
        ),
        requires=(),
        answer=f"The average word length is {average}.",
        expected=repr(average),
    )


@template(
    "caesar_shift",
    FAMILY,
    (
        'Encode "{word}" with a Caesar cipher, shifting each letter by {shift}.',
        'Apply a Caesar shift of {shift} to the lower-case word "{word}".',
        'Use a Caesar cipher with a shift of {shift} to encrypt "{word}".',
        'what does "{word}" turn into with a caesar shift of {shift}?',
        'I am encoding a secret word. Shift each letter of "{word}" forward by {shift}, wrapping '
        "around after z. What is the result?",
        'Caesar-encode "{word}" with shift {shift}.',
        'Tell me the Caesar cipher of "{word}" using a shift of {shift}.',
        'Shift {shift}: what is "{word}" under a Caesar cipher?',
        'What is "{word}" after shifting every letter {shift} places forward in the alphabet?',
    ),
)
def caesar_shift(v: Values) -> Draft:
    word = v.choice(NOUNS, key=True)
    shift = v.int(1, 25)
    alphabet = "abcdefghijklmnopqrstuvwxyz"
    encoded = "".join(alphabet[(alphabet.index(c) + shift) % 26] for c in word)
    return Draft(
        slots={"word": word, "shift": shift},
        reasoning=f"Move each letter {shift} positions forward, wrapping from z to a.",
        code=code(
            f"word = {word!r}",
            f"shift = {shift}",
            "encoded = \"\".join(chr((ord(char) - ord('a') + shift) % 26 + ord('a')) "
            "for char in word)",
            "print(encoded)",
        ),
        requires=(),
        answer=f'"{word}" shifted by {shift} is "{encoded}".',
        expected=encoded,
        check="exact",
    )


@template(
    "count_substring",
    FAMILY,
    (
        'How many times does "{part}" occur in "{text}" (non-overlapping)?',
        'Count the non-overlapping occurrences of "{part}" in the string "{text}".',
        'Tell me how many non-overlapping times "{part}" appears in "{text}".',
        'how many non-overlapping "{part}" are there in "{text}"?',
        'Here is a string: "{text}". Count the occurrences of "{part}", not counting '
        "overlapping matches.",
        'Non-overlapping count of "{part}" in "{text}"?',
        'Work out the number of times "{part}" occurs in "{text}", with matches not allowed to '
        "overlap.",
        '"{text}" - how many non-overlapping "{part}" substrings does it contain?',
        'In "{text}", how often does the substring "{part}" appear without overlaps?',
    ),
)
def count_substring(v: Values) -> Draft:
    part = v.choice(("an", "ab", "na", "ba", "aa", "abc", "cab", "ca"), key=True)
    pieces = [v.choice(("a", "b", "c", "n")) for _ in range(v.int(8, 20))]
    text = "".join(pieces)
    count, i = 0, 0
    while i <= len(text) - len(part):
        if text[i : i + len(part)] == part:
            count += 1
            i += len(part)
        else:
            i += 1
    return Draft(
        slots={"part": part, "text": text},
        reasoning="str.count counts non-overlapping occurrences from left to right.",
        code=code(f"text = {text!r}", f"part = {part!r}", "print(text.count(part))"),
        requires=(),
        answer=f'"{part}" occurs {count} time{"s" if count != 1 else ""}.',
        expected=str(count),
    )
