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
    train_phrasings=(
        "sentence \"{text}\", letter '{letter}', case-blind count please",
        "Our English teacher wrote \"{text}\" on the board and asked how many times '{letter}' "
        "is in it, capital or not. What's the answer?",
        "Go through \"{text}\" and add up every '{letter}', whether it is upper or lower case.",
        "hey, how many '{letter}' are hiding in \"{text}\"? caps and lowercase both count",
        "What is the total number of '{letter}' letters in the line \"{text}\" when case is "
        "not taken into account?",
        "Case-insensitive tally: the letter '{letter}' within \"{text}\".",
        "Would you mind counting how often the character '{letter}' turns up in \"{text}\"? "
        "Treat upper and lower case as equal.",
        "\"{text}\" contains the letter '{letter}' how many times, if capital letters are "
        "lowered first?",
        "Lowercase \"{text}\" and then tell me how many '{letter}' it has.",
        'I spilled coffee on my notes, but the line still reads "{text}". Count its '
        "'{letter}' letters (any case).",
        "number of '{letter}' in \"{text}\", case insensitive",
        "Find how many characters of \"{text}\" equal '{letter}' once everything is made lower "
        "case.",
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
    train_phrasings=(
        'How many of the letters in "{text}" are vowels? Only a, e, i, o and u count.',
        'hey, vowel check on "{text}" - how many are there?',
        'The sentence is "{text}". Give the number of vowels it has (y is not a vowel here).',
        'For a phonics worksheet, a teacher wants the total count of vowels in "{text}". What '
        "is it?",
        'vowels (aeiou) in "{text}", total count',
        'Add up all the vowel letters a, e, i, o, u appearing anywhere in "{text}", capitals '
        "included.",
        'Please find how many vowels occur in the following text: "{text}"',
        'Given the string "{text}", return how many of its characters are among a, e, i, o, u.',
        'What total do you get when you count every vowel in "{text}"?',
        'Count vowels only, not consonants or spaces: "{text}"',
        'I\'m building a word game and need the vowel tally for "{text}". How many a/e/i/o/u '
        "letters does it have?",
        'In "{text}", how many letters are vowels, counting both upper and lower case?',
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
    train_phrasings=(
        'The line "{text}" - give me its total number of words.',
        'hey, could you count up the words in "{text}"?',
        'My essay app is broken. How many words would it report for "{text}"?',
        'Words separated by spaces in "{text}": how many are there?',
        'number of words, "{text}"',
        'Please figure out how many individual words the sentence "{text}" is made of.',
        'If I read "{text}" aloud one word at a time, how many words do I say?',
        'Given the text "{text}", return the count of its words.',
        'A telegram charges per word. How many words would "{text}" be billed for?',
        'words in "{text}"? just the number',
        'Count every word in the following sentence, including short ones like "the": "{text}"',
        'Word total for "{text}", please.',
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
    train_phrasings=(
        'Write the characters of "{word}" in the opposite order.',
        'hey, what\'s "{word}" backwards?',
        'For a secret-code game my nephew wants "{word}" written back to front. What does it '
        "become?",
        'Reverse the letters of "{word}" and give me the resulting string.',
        'backwards: "{word}"',
        'Read "{word}" starting from its final letter and ending at its first. What string is '
        "that?",
        'Please produce the reversal of the word "{word}".',
        'Given the word "{word}", output it reversed, leaving each letter\'s case unchanged.',
        '"{word}" read from end to start gives what?',
        'What string results when the character order of "{word}" is flipped?',
        'A riddle asks you to spell "{word}" from its last letter to its first. What do you write?',
        'reversed version of "{word}"?',
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
    train_phrasings=(
        'Ignoring capital letters, is "{word}" spelled the same in reverse?',
        'hey, is "{word}" a palindrome if we don\'t care about upper or lower case?',
        'Palindrome check, case-insensitive: "{word}"',
        'Lower-case "{word}" and compare it with its reverse. Are they equal?',
        'My teacher asked whether "{word}" is a palindrome when capitals are treated like '
        "small letters. Is it?",
        'Does "{word}" match its own reversal once case is ignored?',
        'is "{word}" palindromic, case insensitive',
        'Reading "{word}" from the back and from the front, do you get the same letters (upper '
        "or lower case not mattering)?",
        'Please tell me if the word "{word}" is a palindrome. Treat uppercase and lowercase '
        "letters as equal.",
        'For a puzzle book I\'m collecting words like "level" and "noon". Does "{word}" '
        "belong, ignoring case?",
        'Would a case-insensitive palindrome checker accept "{word}"?',
        '"{word}" - does it read the same backwards, case ignored?',
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
    train_phrasings=(
        'Rewrite "{text}" using only capital letters.',
        'hey, can you shout this for me? "{text}" in uppercase',
        'Please apply upper case to the whole sentence "{text}".',
        'For a road sign, the wording "{text}" must be in block capitals. What should it say?',
        'uppercase: "{text}"',
        'Show "{text}" once every small letter has been swapped for its capital.',
        'What is the all-caps form of "{text}"?',
        'Capitalize all the letters in "{text}", not only the first one.',
        'I need "{text}" printed in upper case for a poster. How does it look?',
        'Transform the text "{text}" so no lower-case letters remain.',
        'text to caps: "{text}"',
        'The headline "{text}" has to be all upper case in our newspaper. Give the converted '
        "headline.",
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
    train_phrasings=(
        'Which word in "{text}" is the longest? If more than one has the top length, report '
        "the first of them.",
        'hey, biggest word in "{text}"? go with the first one if there\'s a tie',
        'For a spelling bee, the teacher picks the longest word of "{text}", choosing the '
        "earliest one when lengths match. Which word is it?",
        'longest word, "{text}", ties: first occurrence',
        'Find the word with the most characters in "{text}". Should two or more be equally '
        "long, give the one that appears earlier.",
        'Given "{text}", return the longest word (the earliest such word on a tie).',
        'Among the words of "{text}", which one is the longest? Use the first one in reading '
        "order if there is a tie.",
        'Please identify the longest word in the sentence "{text}", picking the first one '
        "whenever several are tied.",
        'Going left to right through "{text}", keep the longest word seen so far, replacing it '
        "only with a strictly longer one. Which word do you end with?",
        'My crossword needs the longest entry from "{text}". Which word is it? When lengths '
        "tie, take the earlier one.",
        'which word has max length in "{text}", first one if tied',
        'Name the longest word in "{text}". A tie goes to whichever of the tied words is met '
        "first.",
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
    train_phrasings=(
        'hey, top letter by count in "{text}"? on a tie go with the alphabetically first',
        'Count each letter in "{text}" (ignore spaces and case) and name the one with the '
        "largest count; on a tie take the alphabetically earliest.",
        'A cryptography class is studying "{text}". Which letter appears most often? Ties are '
        "broken by alphabetical order.",
        'most frequent letter, "{text}", tie -> earliest in alphabet',
        'Please find the letter that occurs the greatest number of times in "{text}". When '
        "letters are tied, answer with the one that comes first from a to z.",
        'Given "{text}", return the single most common letter, choosing alphabetically among '
        "any tied letters.",
        'Which letter wins a frequency count over "{text}"? Resolve a tie by picking the '
        "alphabetically lowest letter.",
        'Of all the letters in "{text}", which is used most? Case does not matter, and ties go '
        "to the letter that is earliest alphabetically.",
        'For my word-cloud project I need the top letter of "{text}" (alphabetical order '
        "decides ties). Which is it?",
        'letter with max count in "{text}"? break ties a to z',
        'Ignoring case and spaces, what letter of "{text}" has the highest frequency? If there '
        "is a tie, give the alphabetically first.",
        'Look at "{text}". Name the letter that occurs most; should several letters share the '
        "top count, name the one nearest the start of the alphabet.",
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
    train_phrasings=(
        'Change the word "{old}" in "{text}" to "{new}" and give the full sentence.',
        'hey, I want "{new}" instead of "{old}" here: "{text}". what\'s the new sentence?',
        'Sentence: "{text}". Old word: "{old}". New word: "{new}". Show the edited sentence.',
        'A typo slipped into our menu: "{text}". Every "{old}" should read "{new}". Write the '
        "fixed line.",
        'text "{text}", old "{old}", new "{new}" - do the replacement',
        'Substitute "{new}" for each occurrence of "{old}" in the sentence "{text}" and return it.',
        'Sentence "{text}": exchange "{old}" for "{new}" and print the outcome.',
        'Please take "{text}" and write "{new}" in place of every "{old}".',
        'My story says "{text}", but I\'d like "{new}" to appear where "{old}" is. How does '
        "the sentence read now?",
        'Edit "{text}" by removing "{old}" and inserting "{new}" in its position.',
        'With "{old}" replaced by "{new}", how does "{text}" read?',
        'In a text editor, I search "{text}" for "{old}" and replace all with "{new}". What is '
        "the result?",
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
    train_phrasings=(
        'hey, what would the acronym for "{text}" be? capitals please',
        'Take the initial of each word in "{text}" and write them together in upper case.',
        'A startup named itself "{text}". What capital-letter acronym would go on its logo?',
        'initials of "{text}" as one uppercase word',
        'Please abbreviate the phrase "{text}" to the capitalized first letters of its words.',
        'Given "{text}", output the acronym built from each word\'s first character, all in '
        "capitals.",
        'Join up the leading letters of the words in "{text}" and capitalize them. Result?',
        'For a slide title I want to shorten "{text}" to its initials in caps. What should I '
        "write?",
        'Turn the words "{text}" into a short all-capitals acronym.',
        'What does "{text}" abbreviate to as an acronym (one capital letter per word)?',
        'shorten "{text}" to an acronym, uppercase',
        'The military loves acronyms. How would "{text}" be written as one, in capital letters?',
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
    train_phrasings=(
        "hey, put these in a-z order: {listing}",
        "A librarian needs these labels in alphabetical order: {listing}. What is the order?",
        "Sort the list {listing} in ascending alphabetical order.",
        "alpha order needed for: {listing}",
        "Rearrange {listing} so they follow alphabetical order.",
        "Which order do {listing} take when sorted from a to z?",
        "Please list {listing} alphabetically, starting with the one that comes first in the "
        "dictionary.",
        "Given the words {listing}, return them sorted alphabetically.",
        "My spice rack labels read {listing}. In what order should they go if I sort them "
        "alphabetically?",
        "alphabetical sort of {listing}",
        "List these words in lexicographic order: {listing}.",
        "How would {listing} be ordered in a glossary sorted alphabetically?",
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
    train_phrasings=(
        'hey, "{word}" - how many letters does it use if each one counts once, any case?',
        'Lower-case "{word}", drop duplicate letters, and tell me how many remain.',
        "A sign maker charges per distinct letter stamp. How many distinct stamps does "
        '"{word}" need, ignoring case?',
        'distinct letters, case-insensitive: "{word}"',
        'Please count how many letters of the alphabet occur in "{word}" at least once, with '
        "upper and lower case treated alike.",
        'Given the word "{word}", return how many different letter types it has, case ignored.',
        'Ignoring whether letters are capitalized, how many letters in "{word}" are not '
        "repeats of an earlier letter?",
        'What number of unique letters, without regard to case, appear in "{word}"?',
        'For a lettering kit I need one tile per distinct letter in "{word}" (capital and '
        "small count as the same). How many tiles?",
        'count of different letters in "{word}", case does not matter',
        'Treating capitals as lower case, how many kinds of letter does "{word}" contain?',
        'How many distinct characters does the lower-cased form of "{word}" have?',
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
    train_phrasings=(
        'hey, what\'s the average length of the words in "{text}"? give it to 2 decimal places',
        'Mean word length for the sentence "{text}", rounded to 2 decimal places, please.',
        'My editor wants sentences with short words. What is the mean word length in "{text}" '
        "to 2 decimal places?",
        'mean word length, "{text}", 2 dp',
        'Please work out how long the words in "{text}" are on average, giving the answer to '
        "two decimal places.",
        'Given "{text}", return the average number of characters per word, rounded to 2 places.',
        'Split "{text}" into words and find the mean of their lengths. Round the answer to two '
        "decimals.",
        'What is the average letter count of the words making up "{text}"? Round to 2 decimal '
        "places.",
        'Every word in "{text}" has a length; what is the mean of those lengths, to 2 decimal '
        "places?",
        'word length stats: mean for "{text}", rounded 2 places',
        'For a language-class statistic, give the average word length of "{text}" to the '
        "nearest 0.01.",
        'Total characters in the words of "{text}" over the number of words, rounded to two '
        "decimals: what is it?",
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
    train_phrasings=(
        'hey, run "{word}" through a caesar cipher, shift {shift}, what comes out?',
        'Move each letter in "{word}" {shift} positions later in the alphabet, going back to a '
        "after z.",
        "Julius Caesar supposedly shifted letters to hide messages. Shifting by {shift}, how "
        'would he write "{word}"?',
        'caesar, shift={shift}, plaintext "{word}"',
        'Please encipher the word "{word}" with a Caesar shift of {shift} to the right.',
        'Given the plaintext "{word}" and a Caesar key of {shift}, return the ciphertext.',
        'For our escape room clue, encode "{word}" by advancing every letter {shift} places (z '
        "wraps to a).",
        'What ciphertext does a forward Caesar rotation of {shift} produce from "{word}"?',
        'Using the alphabet as a wheel, step each letter of "{word}" ahead by {shift}. What '
        "word do you get?",
        'encode "{word}" with caesar shift {shift}, wrap around the alphabet',
        'Shift "{word}" by {shift} letters forward in a Caesar cipher and tell me the encoded '
        "text.",
        'A Caesar cipher with shift {shift} is applied to "{word}". What is the output?',
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
    train_phrasings=(
        'hey, quick one - tally "{part}" in "{text}", overlaps not allowed',
        'Count the matches of "{part}" in "{text}", where a character can belong to at most '
        "one match.",
        'In a lab exercise, students scan the string "{text}" for the motif "{part}", skipping '
        "past each match. How many matches do they count?",
        'non-overlapping matches of "{part}", string "{text}"',
        'Please count the number of times the substring "{part}" shows up in "{text}", not '
        "allowing overlaps.",
        'Given text "{text}" and pattern "{part}", return the count of non-overlapping '
        "occurrences.",
        'Starting from the left of "{text}", find "{part}", jump past it, and keep searching. '
        "How many times do you find it?",
        'How many times is "{part}" found in "{text}" if each match must start after the '
        "previous one ends?",
        'text: "{text}" / pattern: "{part}" - count them, no overlaps',
        'Report how many "{part}" sequences sit in "{text}", counting only matches that don\'t '
        "overlap.",
        'For a string-matching homework problem: count "{part}" in "{text}" the way str.count '
        "does, with no overlaps.",
        'If overlapping matches are not allowed, how many copies of "{part}" does "{text}" '
        "contain?",
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
