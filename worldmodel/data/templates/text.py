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
        "quick q - how often is '{letter}' used in \"{text}\"? capitals count too",
        "Please count every '{letter}' (upper or lower case) in this sentence: \"{text}\"",
        "I'm checking a typing drill that reads \"{text}\". How many '{letter}'s does it "
        "have, regardless of case?",
        "Frequency of '{letter}' in \"{text}\" (case doesn't matter)?",
        "Could you tally up the '{letter}'s in \"{text}\"? Don't distinguish capitals.",
        "count '{letter}' in \"{text}\" - both cases",
        "For a word puzzle I need to know how many '{letter}' letters \"{text}\" contains, "
        "counting capitals as well.",
        "If you ignore capitalization, what's the total of '{letter}' in \"{text}\"?",
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
        'vowels in "{text}"? just a e i o u, no y',
        "Please count the a's, e's, i's, o's and u's in \"{text}\", upper or lower case.",
        'My kid is learning about vowels. How many are there in "{text}"?',
        'Count how many vowels appear in "{text}" (treat y as a consonant).',
        '"{text}": total vowels (a/e/i/o/u)?',
        'Could you tell me the vowel total for the sentence "{text}"?',
        'Tally every a, e, i, o and u in "{text}" and give me the total.',
        'If I go through "{text}" letter by letter, how many vowels will I find?',
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
        'quick one, how many words: "{text}"',
        'Please tell me how long "{text}" is in words.',
        'For a caption limit I need to know: how many words are in "{text}"?',
        'Split "{text}" on spaces - how many words do you end up with?',
        '"{text}" has how many words?',
        'Could you count the words of this line for me? "{text}"',
        'Number the words in "{text}" one by one and tell me how many there are.',
        'I typed "{text}" into a tweet draft. How many words long is it?',
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
        'reverse "{word}" pls',
        'What comes out if "{word}" is read right to left?',
        'I\'m making a mirror-writing puzzle. How would "{word}" look backwards, '
        "character by character?",
        'Give me "{word}" backwards, keeping the capitalization of each character as it is.',
        '"{word}" -> backwards?',
        'Could you turn "{word}" around so the last character comes first?',
        'Backwards spelling of "{word}", please.',
        'If you invert the character sequence of "{word}", what string do you get?',
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
        'quick palindrome test on "{word}"?',
        'Ignoring upper/lower case, does "{word}" read identically from either end?',
        'My friend claims "{word}" is a palindrome. Is she right? Case doesn\'t matter.',
        'Would reversing "{word}" give back the same word, if we ignore capitals?',
        '"{word}": same backwards as forwards?',
        'Can "{word}" be read the same from right to left as from left to right (not '
        "caring about case)?",
        'Is the word "{word}" palindromic?',
        'For a word game I need palindromes only. Does "{word}" qualify, ignoring case?',
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
        'caps lock version of "{text}" please',
        'Make "{text}" ALL CAPS.',
        'I\'m designing a banner and it has to shout. Capitalize every letter of "{text}".',
        'Could you convert each lowercase letter in "{text}" to its capital form?',
        '"{text}" -> CAPS',
        'What would "{text}" look like if typed with caps lock on?',
        'Uppercase every character of "{text}" for me, please.',
        'Return "{text}" with all its letters capitalized.',
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
        'longest word in "{text}"? if two are the same length, the earlier one',
        'I\'m picking a title word from "{text}": find the lengthiest word there (on '
        "equal length, take whichever appears first).",
        'Scan "{text}" and report its longest word; the first one wins any tie.',
        'Out of all the words in "{text}", which is the biggest by length? Prefer the '
        "leftmost on ties.",
        '"{text}": longest word, earliest wins if tied?',
        'Could you tell me which word in "{text}" is longest? When lengths are equal, go '
        "with the one closer to the start.",
        'Return the word of maximum length from "{text}", keeping the first one if '
        "lengths are equal.",
        'Which is the longest word of the sentence "{text}"? Break ties by position, first wins.',
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
        'top letter in "{text}"? alphabetical order breaks ties',
        "Counting letters only (spaces don't count, case ignored), which one appears the "
        "most times in \"{text}\"? On a tie pick the one closest to 'a'.",
        "For a frequency analysis exercise: what's the most frequently used letter in "
        '"{text}" (case ignored, alphabetical tie-break)?',
        '"{text}" - letter with the highest frequency? If several share it, give the '
        "alphabetically smallest.",
        'Which character of the alphabet occurs the most in "{text}"? Ties: choose the '
        "one that sorts first.",
        "Could you find the letter that's repeated most in \"{text}\"? If there's a draw, "
        "go alphabetical.",
        'Tally the letters of "{text}" ignoring case and report the winner; equal counts '
        "are settled alphabetically.",
        'most used letter in "{text}", ties -> alphabetically first',
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
        'swap out "{old}" -> "{new}" in "{text}"',
        'Please edit "{text}" so that it says "{new}" instead of "{old}".',
        'I\'m fixing a caption: "{text}". The word "{old}" should be "{new}". What\'s the '
        "corrected caption?",
        'Find "{old}" in "{text}" and replace it with "{new}"; show the result.',
        '"{text}" but with "{new}" in the spot of "{old}"?',
        'Could you rewrite "{text}", trading the word "{old}" for "{new}"?',
        'Run a find-and-replace on "{text}": find "{old}", replace with "{new}".',
        'Output "{text}" with the word "{old}" knocked out and "{new}" put there instead.',
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
        'acronym of "{text}" pls',
        'Our team project is called "{text}". What would its capital-letter acronym be?',
        'Abbreviate "{text}" into an all-caps acronym made of the words\' initials.',
        'Give the initialism for "{text}" in capitals.',
        'If "{text}" were shortened the way NASA or FBI are, what would it be?',
        '"{text}" -> acronym?',
        'Could you build an uppercase acronym from the starting letters of "{text}"?',
        'Which capital letters spell out the acronym of the phrase "{text}"?',
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
        "sort alphabetically pls: {listing}",
        "Could you put these in dictionary order? {listing}",
        "I'm making an index and need these words ordered alphabetically: {listing}.",
        "{listing} -> sorted alphabetically",
        "What order would {listing} be in if listed like a dictionary?",
        "Give me {listing} in alphabetical sequence.",
        "Please alphabetically order this list: {listing}.",
        "Reorder alphabetically: {listing}",
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
        code=code(f'words = "{listing}".split(", ")', 'print(" ".join(sorted(words)))'),
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
        'distinct letters in "{word}"? case-insensitive',
        'If I cross out repeated letters in "{word}", how many are left? Upper and lower '
        "case count as the same letter.",
        'Count each letter of "{word}" once, no matter how often or in what case it '
        "appears. What's the total?",
        'How many unique letters make up "{word}" when capitalization is ignored?',
        '"{word}" - unique letter count (case ignored)?',
        'For a Scrabble-style game I need the number of distinct letters in "{word}", '
        "ignoring case.",
        "What's the size of the set of letters in \"{word}\", treating 'A' and 'a' as one?",
        'Tell me the count of unique characters in "{word}", case-insensitive.',
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
        'avg word length for "{text}", 2 decimal places',
        "I'm analysing readability. What's the mean length of the words in \"{text}\"? "
        "Round to 2 d.p.",
        'Divide the total letters in "{text}" by its number of words and round to two '
        "decimal places.",
        '"{text}": mean letters per word, 2 decimals?',
        'Could you give me the average length of a word in "{text}", rounded to the '
        "nearest hundredth?",
        'What\'s the typical (mean) word length in "{text}"? Two decimal places please.',
        'Find the arithmetic mean of the word lengths in "{text}", rounding to 2 decimals.',
        'Average out the word lengths in "{text}" and round to 2 decimal places.',
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
        'caesar cipher "{word}" by {shift}',
        'Encrypt "{word}" using Caesar with key {shift}.',
        "I'm writing a secret note for my kids. Using a Caesar cipher with key {shift}, "
        'how is "{word}" encoded?',
        'ROT{shift} of "{word}"?',
        'With a Caesar offset of {shift} (z wraps back to a), what\'s the ciphertext for "{word}"?',
        'Could you Caesar-encrypt "{word}" with a rotation of {shift}?',
        '"{word}", Caesar key {shift} - what\'s the encrypted word?',
        'Give me the Caesar ciphertext of "{word}" when the key is {shift}.',
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
        'count "{part}" in "{text}", no overlapping matches',
        'Scanning "{text}" left to right, how many times can you find "{part}" if '
        "matches can't share characters?",
        'What would Python\'s str.count give for "{part}" in "{text}"?',
        'I\'m searching the sequence "{text}" for the pattern "{part}". How many '
        "non-overlapping hits are there?",
        '"{part}" in "{text}": number of non-overlapping matches?',
        'Please tell me how many separate, non-overlapping copies of "{part}" appear in "{text}".',
        'Find every non-overlapping instance of "{part}" inside "{text}" and give the total.',
        'How many disjoint occurrences of "{part}" does "{text}" have?',
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
