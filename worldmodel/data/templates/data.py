"""Family "data": statistics over number lists, and JSON and CSV embedded in the question.

The program uses the `statistics`, `json` and `csv` modules; the generator computes the same
answers from the Python values it drew (sums, sorted lists, dictionaries), never by parsing
the text it embedded. Not covered: files on disk (see `system`) or plotting.
"""

from __future__ import annotations

import json
from fractions import Fraction

from worldmodel.data.templates.base import Draft, Values, code, human, num, template
from worldmodel.data.templates.words import CATEGORIES, CITIES, FRUITS, NAMES

FAMILY = "data"


def _numbers(v: Values, lo: int = 1, hi: int = 200) -> list[int]:
    return v.ints(lo, hi, v.int(5, 12))


def _listing(values: list[int]) -> str:
    return ", ".join(str(x) for x in values)


@template(
    "mean",
    FAMILY,
    (
        "What is the mean of {listing}?",
        "Compute the average of these numbers: {listing}.",
        "Work out the average of {listing}. Round to 2 decimal places.",
        "what's the average of {listing}",
        "I have these values: {listing}. What do they average to?",
        "{listing}: mean?",
        "Tell me the mean value of the following numbers: {listing}",
        "Calculate the mean of the list {listing} (to 2 decimal places).",
        "quick one: average of {listing}? 2 dp is fine",
        "Could you please tell me the mean of {listing}, rounded to 2 decimal places?",
        "My test scores this semester were {listing}. What's my average score?",
        "Average these out for me: {listing}",
        "mean({listing}) = ?",
        "Daily temperatures this week: {listing}. What was the average temperature (2 dp)?",
        "If you add up {listing} and divide by how many numbers there are, what do you get?",
        "avg of {listing} pls, round to two places",
        "Find the arithmetic mean of the data set {listing}, rounded to two decimals.",
    ),
    train_phrasings=(
        "Hey, can you average {listing} for me? Round it to 2 decimal places.",
        "Sum {listing}, then divide by the count. Answer to 2 dp.",
        (
            "A bakery sold {listing} loaves on the days it was open. How many loaves per day "
            "is that on average, to 2 decimals?"
        ),
        "mean value, 2 dp: {listing}",
        "Numbers: {listing}\nWhat's their average, rounded to two decimal places?",
        "Please give the mean of the following list, rounding to 2 decimals: {listing}",
        "what do {listing} average out to? two decimals",
        "For my lab report I need the mean of these readings: {listing}. Round to 2 d.p.",
        "Compute the plain (unweighted) average of {listing}, correct to 2 decimal places.",
        (
            "Imagine the total of {listing} shared out evenly across all of the entries. What "
            "value would each entry get, to 2 dp?"
        ),
        "Using statistics.mean, what is the result for {listing} rounded to 2 places?",
        (
            "The bus was late by {listing} minutes on different mornings. On average, how many "
            "minutes late was it? Give 2 decimal places."
        ),
    ),
)
def mean(v: Values) -> Draft:
    values = _numbers(v)
    values[0] = v.int(1, 200, key=True)
    result = round(float(Fraction(sum(values), len(values))), 2)
    return Draft(
        slots={"listing": _listing(values)},
        reasoning="Add the values and divide by how many there are; statistics.mean does it.",
        code=code(
            "import statistics",
            "",
            f"values = {values!r}",
            "print(round(statistics.mean(values), 2))",
        ),
        requires=("statistics",),
        answer=f"The mean is {human(result)}.",
        expected=num(result) if isinstance(result, float) else str(result),
    )


@template(
    "median",
    FAMILY,
    (
        "What is the median of {listing}?",
        "Find the median value of the numbers {listing}.",
        "Work out the median of {listing}.",
        "what's the median of {listing}",
        "Sort {listing} and tell me the median.",
        "{listing} -- median?",
        "I recorded these measurements: {listing}. What is their median?",
        "Calculate the median for the following values: {listing}",
        "median of {listing}?",
        "Could you compute the median for me? Numbers: {listing}",
        "House prices (in thousands) on our street: {listing}. What's the median price?",
        "Please determine the median of this list: {listing}.",
        "i need the median here: {listing}",
        "Put {listing} in order and report the median.",
        "Reaction times in ms from my experiment were {listing}; what's the median?",
        "Median please -> {listing}",
        "Given the data {listing}, what is the middle value (median)?",
    ),
    train_phrasings=(
        "hey, median of {listing} please",
        (
            "Numbers: {listing}\nWhich value sits in the middle once they're sorted? (If the "
            "count is even, average the two middle ones.)"
        ),
        "For the list {listing}, what does statistics.median return?",
        "A runner's lap times in seconds were {listing}. What was the median lap time?",
        "What's the 50th percentile, i.e. the median, of {listing}?",
        "median value, please: {listing}",
        "I need the median of this data set for a report: {listing}",
        "The following are the ages of guests at a party: {listing}. Tell me the median age.",
        "Return the median of [{listing}].",
        "{listing}\nmedian",
        (
            "What's the median if the data is {listing}? With an even count, use the mean of "
            "the two central values."
        ),
        "Determine the median number in this sample: {listing}",
    ),
)
def median(v: Values) -> Draft:
    values = _numbers(v)
    values[-1] = v.int(1, 200, key=True)
    ordered = sorted(values)
    n = len(ordered)
    if n % 2:
        result: float | int = ordered[n // 2]
        expected = str(result)
    else:
        result = (ordered[n // 2 - 1] + ordered[n // 2]) / 2
        expected = num(result, 1)
    return Draft(
        slots={"listing": _listing(values)},
        reasoning="Sort the values; the median is the middle one, or the mean of the two middle "
        "ones.",
        code=code(
            "import statistics", "", f"values = {values!r}", "print(statistics.median(values))"
        ),
        requires=("statistics",),
        answer=f"The median is {human(result)}.",
        expected=expected,
    )


@template(
    "mode",
    FAMILY,
    (
        "What is the most common value in {listing}?",
        "Find the mode of {listing}.",
        "Tell me the mode of these numbers: {listing}",
        "what's the mode of {listing}",
        "{listing}: which value occurs the most times?",
        "Identify the most frequent number in {listing}.",
        "I logged these values: {listing}. Which one shows up most frequently?",
        "Determine the statistical mode of the sequence {listing}.",
        "mode of {listing}?",
        "Could you tell me which value is repeated the most in {listing}?",
        "Dice rolls from a game night: {listing}. What was the most frequently rolled result?",
        "most frequent value in {listing} pls",
        "Out of {listing}, what's the value with the highest count?",
        "Please compute the mode for this sequence of integers: {listing}",
        "Shoe sizes sold today were {listing}. Which size was the most popular (the mode)?",
        "Count occurrences in {listing} and give me the value that occurs most.",
        "Which number appears most often in the list {listing}?",
    ),
    train_phrasings=(
        "hey, what's the most common number here: {listing}",
        "Which value has the highest frequency in {listing}?",
        (
            "A teacher asked her class to pick a number from 1 to 20 and got {listing}. Which "
            "number was picked most?"
        ),
        "statistics.mode of {listing}?",
        "Numbers: {listing}\nWhich one is repeated more than any other?",
        "Please find the modal value of {listing}.",
        "mode please: {listing}",
        "Tally up {listing} and name the winner, the value with the biggest tally.",
        "In a survey people rated a film {listing}. Which rating was given most frequently?",
        "Of all the numbers in {listing}, which occurs with the greatest frequency?",
        "Return the mode of [{listing}].",
        "I'm looking for the most popular value in {listing}. Just the number, please.",
    ),
)
def mode(v: Values) -> Draft:
    values = v.ints(1, 20, v.int(4, 9))
    winner = v.int(1, 20, key=True)
    values += [winner] * (max(values.count(x) for x in values) + 1)
    v.rng.shuffle(values)
    return Draft(
        slots={"listing": _listing(values)},
        reasoning="Count each value; the mode is the one with the highest count.",
        code=code(
            "import statistics", "", f"values = {values!r}", "print(statistics.mode(values))"
        ),
        requires=("statistics",),
        answer=f"The mode is {winner}.",
        expected=str(winner),
    )


@template(
    "population_stdev",
    FAMILY,
    (
        "What is the population standard deviation of {listing}? Round to 2 decimals.",
        "Compute the standard deviation (population) of {listing}.",
        "Calculate the population standard deviation of {listing}, to 2 decimal places.",
        "what's the population std dev of {listing}? round to 2 decimals",
        "Treat {listing} as a whole population and tell me its standard deviation (2 decimals).",
        "{listing}: population standard deviation, rounded to two places?",
        "Work out pstdev for these values: {listing}. Give 2 decimals.",
        (
            "I have a complete population of measurements: {listing}. What is its standard "
            "deviation, rounded to 2 decimals?"
        ),
        "population sd of {listing}, 2 decimal places pls",
        "Could you compute the population standard deviation for {listing}? Round it to 2 dp.",
        (
            "These are the heights of every plant in my garden: {listing}. Population standard "
            "deviation, 2 dp?"
        ),
        "statistics.pstdev({listing}) -> rounded to 2 places?",
        "Give me the standard deviation of {listing}, using the population formula, to 2 dp.",
        "Need the population SD for {listing} -- two decimal places please.",
        "Using N (not N-1) in the denominator, what is the standard deviation of {listing}? 2 dp.",
        "Please report sigma (population std) for {listing}, rounded to two decimals.",
        "How spread out are {listing}? Give the population standard deviation to 2 decimals.",
    ),
    train_phrasings=(
        "hey, I need sigma for {listing}, treating it as the full population - 2 dp",
        (
            "Compute the square root of the population variance of {listing}, rounded to 2 "
            "decimal places."
        ),
        "Numbers: {listing}\nStandard deviation dividing by N (population), to two decimals?",
        (
            "Every student in a small class got these marks: {listing}. What's the population "
            "standard deviation of the marks, rounded to 2 dp?"
        ),
        "pop. std dev, 2 dp: {listing}",
        (
            "These values are the entire population, not a sample: {listing}. Give their "
            "standard deviation to 2 decimal places."
        ),
        (
            "Find the root-mean-square deviation from the mean for {listing} (that is, the "
            "population standard deviation), 2 dp."
        ),
        (
            "Not the sample version but the population one: what is the standard deviation of "
            "{listing}? Round to 2 dp."
        ),
        (
            "For a quality check, every bolt in the batch was measured: {listing} mm. What is "
            "the population standard deviation in mm, to 2 decimal places?"
        ),
        "In Python terms, what does pstdev give for {listing} once rounded to 2 decimals?",
        "population standard deviation {listing} 2dp",
        (
            "What is the standard deviation of {listing} when the values are treated as a "
            "population? Please round to 2 decimal places."
        ),
    ),
)
def population_stdev(v: Values) -> Draft:
    values = _numbers(v, 1, 100)
    values[0] = v.int(1, 100, key=True)
    n = len(values)
    avg = Fraction(sum(values), n)
    variance = sum((Fraction(x) - avg) ** 2 for x in values) / n
    result = round(float(variance) ** 0.5, 2)
    return Draft(
        slots={"listing": _listing(values)},
        reasoning="Population standard deviation is the square root of the mean squared "
        "deviation from the mean: statistics.pstdev.",
        code=code(
            "import statistics",
            "",
            f"values = {values!r}",
            "print(round(statistics.pstdev(values), 2))",
        ),
        requires=("statistics",),
        answer=f"The population standard deviation is about {human(result)}.",
        expected=num(result),
    )


@template(
    "value_range",
    FAMILY,
    (
        "What is the range (max minus min) of {listing}?",
        "Find the difference between the largest and smallest of {listing}.",
        "Work out the range of {listing}.",
        "what's the range of {listing}? (max - min)",
        "Subtract the smallest number from the largest in {listing}. What do you get?",
        "{listing}: max minus min?",
        (
            "Here are some readings: {listing}. What is their range, i.e. the biggest value minus "
            "the smallest?"
        ),
        "Tell me the gap between the maximum and the minimum of {listing}.",
        "range of {listing}?",
        "Could you tell me the range of these numbers: {listing}?",
        "Temperatures this month were {listing}. What's the range between the warmest and coldest?",
        "max({listing}) - min({listing}) = ?",
        "pls compute the range for {listing}",
        "Take the maximum of {listing} and subtract the minimum. Result?",
        "Our team's sales figures: {listing}. By how much does the top figure beat the bottom one?",
        "Determine the statistical range of this list: {listing}",
        "How far apart are the highest and lowest values in {listing}?",
    ),
    train_phrasings=(
        "hey, what's max minus min for {listing}?",
        "Numbers: {listing}\nHow big is the spread from the smallest to the largest value?",
        (
            "A stock closed at {listing} over several days. What's the difference between its "
            "highest and lowest close?"
        ),
        "Compute the statistical range (largest minus smallest) of these values: {listing}",
        "range please: {listing}",
        "By how much does the biggest number in {listing} exceed the smallest one?",
        "For the data {listing}, give me the maximum value minus the minimum value.",
        (
            "I measured my seedlings in mm: {listing}. What is the range of heights (tallest "
            "minus shortest)?"
        ),
        "Find the smallest and the largest of {listing}, then give their difference.",
        "what's the spread (max - min) of {listing}",
        "Please tell me the range of the data set {listing}, meaning top value minus bottom value.",
        "Given {listing}, how many units separate the minimum from the maximum?",
    ),
)
def value_range(v: Values) -> Draft:
    values = _numbers(v, 1, 999)
    values[1] = v.int(1, 999, key=True)
    low = high = values[0]
    for x in values:
        low, high = min(low, x), max(high, x)
    return Draft(
        slots={"listing": _listing(values)},
        reasoning="Subtract the minimum from the maximum.",
        code=code(f"values = {values!r}", "spread = max(values) - min(values)", "print(spread)"),
        requires=(),
        answer=f"The range is {high - low}.",
        expected=str(high - low),
    )


@template(
    "count_above",
    FAMILY,
    (
        "How many of {listing} are greater than {limit}?",
        "Count the values above {limit} in {listing}.",
        "Tell me how many values in {listing} are strictly greater than {limit}.",
        "how many numbers in {listing} are bigger than {limit}?",
        "{listing} -- how many are above {limit}?",
        "Given the threshold {limit}, count the entries of {listing} that are larger than it.",
        "Work out how many of these numbers are more than {limit}: {listing}",
        "I have the values {listing}. How many of them lie strictly above {limit}?",
        "count of values > {limit} in {listing}?",
        "Could you tell me how many numbers in {listing} are over {limit}?",
        "Exam results: {listing}. Pass mark is anything over {limit} - how many passed?",
        "how many entries of {listing} are > {limit}",
        "Please count how many items in {listing} are strictly larger than {limit}.",
        "Out of {listing}, how many go past {limit} (not counting ties)?",
        "Daily step counts (hundreds): {listing}. On how many days was it above {limit}?",
        "Filter {listing} to values greater than {limit} and tell me how many are left.",
        "In the list {listing}, how many numbers exceed {limit}?",
    ),
    train_phrasings=(
        "hey, how many values in {listing} are above {limit}? equal doesn't count",
        (
            "Numbers: {listing}\nThreshold: {limit}\nHow many numbers are strictly above the "
            "threshold?"
        ),
        (
            "A cafe recorded {listing} customers on different days. On how many days were "
            "there more than {limit} customers?"
        ),
        "len([x for x in [{listing}] if x > {limit}]) = ?",
        "count the numbers greater than {limit}: {listing}",
        "Please tell me how many entries of {listing} have a value higher than {limit} (strictly).",
        "{limit} is the cutoff. Count the values in {listing} that are strictly higher than it.",
        "Strictly-greater-than test: how many of {listing} clear the bar of {limit}?",
        (
            "For a speed survey the readings were {listing} km/h. How many cars went faster "
            "than {limit} km/h?"
        ),
        "values > {limit} among {listing}: how many?",
        (
            "I want to know how many of these numbers beat {limit} (a tie with {limit} doesn't "
            "count): {listing}"
        ),
        "Go through {listing} and tally every number larger than {limit}. What's the tally?",
    ),
)
def count_above(v: Values) -> Draft:
    values = _numbers(v)
    limit = v.int(10, 190, key=True)
    count = len([x for x in values if x > limit])
    return Draft(
        slots={"listing": _listing(values), "limit": limit},
        reasoning=f"Keep the values strictly greater than {limit} and count them.",
        code=code(
            f"values = {values!r}",
            f"limit = {limit}",
            "count = sum(1 for value in values if value > limit)",
            "print(count)",
        ),
        requires=(),
        answer=f"{count} of the values are greater than {limit}.",
        expected=str(count),
    )


@template(
    "weighted_average",
    FAMILY,
    (
        "A student scored {listing}. What is the weighted average grade?",
        "Compute the weighted mean of these (score, weight) pairs: {listing}.",
        "Work out the weighted average of {listing}, rounded to 2 decimals.",
        "what's the weighted mean of {listing}?",
        "My grades this term were {listing}. What is my weighted average?",
        "Weighted average of {listing}? Give it to two decimal places.",
        "Calculate the weight-adjusted average score for {listing}.",
        "Each score below comes with its weight: {listing}. Tell me the weighted mean.",
        "weighted avg of {listing}?",
        "Could you work out the weighted mean for {listing}? Round to 2 decimal places.",
        "Course marks with credit weights: {listing}. Overall weighted mean for the year?",
        "Please compute the weighted average for these entries: {listing}",
        "Multiply each by its weight, sum, divide by total weight: {listing}. Result (2 dp)?",
        "i need the weighted mean here, 2 dp: {listing}",
        "Assignments graded {listing}. Taking the weights into account, what's the average?",
        "Find the weighted average of the following values: {listing}",
        "With scores and weights {listing}, what is the weighted average to 2 decimals?",
    ),
    train_phrasings=(
        "hey, weighted mean of {listing}? round to 2 dp",
        (
            "Scores with weights: {listing}\nCompute sum(score*weight)/sum(weight), rounded to "
            "two decimals."
        ),
        (
            "A judging panel produced {listing}. Using those weights, what is the overall "
            "weighted score (2 decimal places)?"
        ),
        "weighted average, 2 dp: {listing}",
        (
            "Please average {listing} so that each score counts as many times as its weight. "
            "Give 2 decimals."
        ),
        (
            "The weight next to each mark says how much it counts: {listing}. Produce the "
            "average that respects those weights, rounded to 2 dp."
        ),
        "GPA-style calculation: {listing}. Weighted mean to 2 decimal places, please.",
        "Combine {listing} into a single weighted average. Round the result to two decimal places.",
        "Modules of a training course scored {listing}; overall weighted score to 2 decimals?",
        "what do {listing} come to as a weighted average (2dp)?",
        (
            "Divide the total of score times weight by the total weight for {listing}. What's "
            "the answer to 2 decimal places?"
        ),
        "Given {listing}, where heavier weights matter more, what is the average? Round to 2 dp.",
    ),
)
def weighted_average(v: Values) -> Draft:
    n = v.int(2, 5)
    scores = v.ints(40, 100, n)
    scores[0] = v.int(40, 100, key=True)
    weights = v.ints(1, 5, n)
    pairs = list(zip(scores, weights, strict=True))
    result = round(float(Fraction(sum(s * w for s, w in pairs), sum(weights))), 2)
    listing = ", ".join(f"{s} (weight {w})" for s, w in pairs)
    return Draft(
        slots={"listing": listing},
        reasoning="Multiply each score by its weight, add them up and divide by the total weight.",
        code=code(
            f"scores = {scores!r}",
            f"weights = {weights!r}",
            "total = sum(score * weight for score, weight in zip(scores, weights))",
            "average = total / sum(weights)",
            "print(round(average, 2))",
        ),
        requires=(),
        answer=f"The weighted average is {human(result)}.",
        expected=num(result),
    )


def _records(v: Values, n: int) -> list[dict]:
    names = v.sample(NAMES, n)
    return [{"name": name, "age": v.int(18, 80), "city": v.choice(CITIES)} for name in names]


@template(
    "json_sum_field",
    FAMILY,
    (
        'Given the JSON {doc}, what is the total of the "age" fields?',
        "Parse this JSON and add up every person's age: {doc}",
        'Add up the "age" values in this JSON: {doc}',
        "what is the combined age of everyone in {doc}?",
        "Here is some JSON describing people: {doc}\nWhat do their ages add up to?",
        "{doc}\nTotal age of all people?",
        "Load the JSON {doc} and tell me the sum of the age field across all records.",
        "Work out the total age of the people listed in this JSON: {doc}",
        "total age in {doc}?",
        "Could you add together all the ages in this JSON, please? {doc}",
        "I got this API response: {doc}\nWhat's the sum of everyone's age?",
        "{doc}\nadd up the ages",
        'Please compute the total of the "age" key over every object in {doc}.',
        "Combined, how old are all the people in this JSON? {doc}",
        'json.loads this and total the "age" values: {doc}',
        "Our club members as JSON: {doc}\nWhat is their total age in years?",
        "Sum the ages in the JSON array {doc}.",
    ),
    train_phrasings=(
        "hey, quick sum for me: every age in {doc}",
        "JSON:\n{doc}\nReturn the sum of all the age values.",
        (
            "A receptionist exported the guest list as JSON: {doc}\nIf you add together every "
            "guest's age, what's the total?"
        ),
        'total of "age" over all records: {doc}',
        "Please load {doc} and give me the ages of everyone in it added together.",
        "Between them, how many years old are the people in this JSON altogether? {doc}",
        "{doc}\nsum of ages?",
        "For each object in {doc}, take the age; what is the grand total?",
        "Could you total the age values found in this JSON list? {doc}",
        "Family data in JSON: {doc}\nAdd all their ages together, please.",
        "Tell me the aggregate age (the sum) of the records in {doc}.",
        "age total for {doc} please",
    ),
)
def json_sum_field(v: Values) -> Draft:
    people = _records(v, v.int(2, 6))
    people[0]["age"] = v.int(18, 80, key=True)
    doc = json.dumps(people)
    total = sum(p["age"] for p in people)
    return Draft(
        slots={"doc": doc},
        reasoning="Load the JSON into a list of dicts and sum the age of each entry.",
        code=code(
            "import json",
            "",
            f"document = {doc!r}",
            "people = json.loads(document)",
            'total_age = sum(person["age"] for person in people)',
            "print(total_age)",
        ),
        requires=("json",),
        answer=f"The ages add up to {total}.",
        expected=str(total),
    )


@template(
    "json_count_matching",
    FAMILY,
    (
        "In the JSON {doc}, how many people live in {city}?",
        'Count the entries whose city is "{city}" in this JSON: {doc}',
        "How many records in this JSON have the city {city}? {doc}",
        "count how many people in {doc} live in {city}",
        "{doc}\nNumber of people whose city is {city}?",
        'Here is a JSON list of people: {doc}. Tell me how many of them are in "{city}".',
        "Using the JSON data {doc}, work out how many entries list {city} as their city.",
        "Tell me the number of people based in {city} according to this JSON: {doc}",
        "how many in {doc} are from {city}?",
        "Could you count the people whose city is {city} in this JSON? {doc}",
        "Our customer list as JSON: {doc}\nHow many customers live in {city}?",
        "{doc}\ncount where city == {city}",
        'Please tell me how many objects in {doc} have "city" set to "{city}".',
        "Looking at this JSON, what number of people are located in {city}? {doc}",
        "number of {city} residents in {doc}?",
        "Go through {doc} and count the entries with {city} as the city.",
        "Parse {doc} and report how many records have city {city}.",
    ),
    train_phrasings=(
        "hey, how many of the people in this JSON are in {city}? {doc}",
        (
            'Scanning the data below, for how many objects is the value under "city" equal to '
            '"{city}"?\n{doc}'
        ),
        (
            "A delivery company keeps its drivers as JSON: {doc}\nHow many drivers are based in "
            "{city}?"
        ),
        "people living in {city} according to {doc}: how many?",
        "Please count how many people in this JSON array call {city} home: {doc}",
        "What number of records in {doc} have a city field equal to {city}?",
        "{doc}\nhow many live in {city}",
        "Filter {doc} down to people whose city is {city}; how many remain?",
        "From this member list ({doc}), how many members are in {city}?",
        "Could you tell me how many residents of {city} appear in this JSON? {doc}",
        "Tally the records in {doc} whose city value is {city}.",
        (
            "I'm planning a meetup in {city}. Based on this JSON of contacts, how many of them "
            "live there? {doc}"
        ),
    ),
)
def json_count_matching(v: Values) -> Draft:
    people = _records(v, v.int(3, 7))
    city = v.choice(CITIES, key=True)
    for person in people:
        if v.rng.random() < 0.4:
            person["city"] = city
    doc = json.dumps(people)
    count = [p["city"] for p in people].count(city)
    return Draft(
        slots={"doc": doc, "city": city},
        reasoning=f"Load the JSON and count the records whose city equals {city}.",
        code=code(
            "import json",
            "",
            f"document = {doc!r}",
            "people = json.loads(document)",
            f'count = sum(1 for person in people if person["city"] == {city!r})',
            "print(count)",
        ),
        requires=("json",),
        answer=f"{count} {'person lives' if count == 1 else 'people live'} in {city}.",
        expected=str(count),
    )


@template(
    "json_nested_lookup",
    FAMILY,
    (
        "From the JSON {doc}, what is the price of the {fruit}?",
        "Look up store.items.{fruit}.price in this JSON: {doc}",
        "What does the {fruit} cost according to this JSON? {doc}",
        "Here is a store's inventory as JSON: {doc}\nWhat is the {fruit}'s price?",
        "{doc}\nprice of {fruit}?",
        "Tell me the {fruit} price listed in the JSON {doc}.",
        "Read the price of the {fruit} from the items in this JSON document: {doc}",
        "what price is listed for the {fruit} in {doc}?",
        "{fruit} price in {doc}?",
        "Could you find the price of the {fruit} in this JSON? {doc}",
        "Our shop inventory JSON looks like this: {doc}\nWhat's the {fruit} selling for?",
        "{doc}\nwhat's the price for {fruit}",
        "Please extract the {fruit}'s price from the store items in {doc}.",
        "In this JSON, what value does the price field of the {fruit} have? {doc}",
        "get me the {fruit} price from this json: {doc}",
        "Check the items in {doc} and give me the price of the {fruit}.",
        "Parse {doc}. How much does the {fruit} cost?",
    ),
    train_phrasings=(
        "hey, what's the price of the {fruit} in this json? {doc}",
        "JSON:\n{doc}\nReturn the value at store -> items -> {fruit} -> price.",
        "A market app returned this JSON: {doc}\nWhat is the {fruit} priced at?",
        "{fruit} cost, going by this json: {doc}",
        "Please tell me what the JSON below lists as the price of the {fruit}.\n{doc}",
        "I need the {fruit}'s price (not its stock) from this JSON: {doc}",
        "Using {doc}, find the {fruit} entry under the store's items and give its price.",
        "{doc}\nThe {fruit} sells for how much here?",
        "Could you read off the {fruit} price from this store JSON? {doc}",
        "What's the {fruit} priced at in the JSON {doc}?",
        "Find the nested price value for {fruit} in {doc}.",
        "I'm comparing shops. This one's data is {doc}\nWhat price does it list for the {fruit}?",
    ),
)
def json_nested_lookup(v: Values) -> Draft:
    fruits = v.sample(FRUITS, v.int(2, 5))
    items = {f: {"price": v.float(0.2, 9.9, 2), "stock": v.int(0, 90)} for f in fruits}
    fruit = fruits[v.int(0, len(fruits) - 1)]
    items[fruit]["price"] = v.float(0.2, 9.9, 2, key=True)
    doc = json.dumps({"store": {"name": v.choice(CITIES) + " Market", "items": items}})
    price = items[fruit]["price"]
    return Draft(
        slots={"doc": doc, "fruit": fruit},
        reasoning=f"Load the JSON and walk store → items → {fruit} → price.",
        code=code(
            "import json",
            "",
            f"document = {doc!r}",
            "data = json.loads(document)",
            f'price = data["store"]["items"][{fruit!r}]["price"]',
            "print(price)",
        ),
        requires=("json",),
        answer=f"The {fruit} costs {price}.",
        expected=repr(price),
    )


def _sales(v: Values, n: int) -> list[tuple[str, str, int]]:
    products = v.sample(FRUITS, n)
    return [(p, v.choice(CATEGORIES[:4]), v.int(1, 500)) for p in products]


def _csv_table(rows: list[tuple[str, str, int]]) -> str:
    """The table as the question shows it; the code embeds the same text verbatim."""
    return "product,category,amount\n" + "\n".join(f"{p},{c},{a}" for p, c, a in rows)


CSV_READ = ("rows = list(csv.DictReader(io.StringIO(table)))",)


@template(
    "csv_column_sum",
    FAMILY,
    (
        "What is the total of the amount column?\n{table}",
        "Here is a CSV table:\n{table}\nAdd up the amount column.",
        "Add up all the amounts in this table:\n{table}",
        "{table}\nWhat is the sum of the amount column?",
        "total of the amount column please:\n{table}",
        "Work out the grand total of the amount field in the CSV below.\n{table}",
        "I exported these sales figures:\n{table}\nWhat do the amounts come to altogether?",
        "Calculate the amount column's total for this CSV:\n{table}",
        "amount total?\n{table}",
        "Could you total up the amount column for me?\n{table}",
        "Our store's orders today:\n{table}\nHow much is the combined amount?",
        "{table}\nadd all the amounts together",
        "Please compute the overall amount across every row of this table:\n{table}",
        "Tally every amount below and give me the result:\n{table}",
        "grand total of amount pls\n{table}",
        "Given the CSV below, give me the total amount.\n{table}",
        'Sum the "amount" values in this CSV data:\n{table}',
    ),
    train_phrasings=(
        "hey, what do the amounts add up to?\n{table}",
        "CSV:\n{table}\nReturn the sum of the amount column.",
        "My bookkeeper sent this file:\n{table}\nWhat's the total amount across all rows?",
        "{table}\ntotal amount?",
        "Please add together every value in the amount column of the following CSV.\n{table}",
        "What's the total amount, summed over all products?\n{table}",
        "For the CSV below, compute the column total for amount.\n{table}",
        "{table}\nsum(amount) = ?",
        "Could you tell me what all the amounts here come to?\n{table}",
        "End-of-day report from the warehouse:\n{table}\nWhat does the amount column total?",
        "amount column summed, please\n{table}",
        "Adding up the amount for every product in this table gives what?\n{table}",
    ),
)
def csv_column_sum(v: Values) -> Draft:
    rows = _sales(v, v.int(3, 8))
    rows[0] = (rows[0][0], rows[0][1], v.int(1, 500, key=True))
    total = sum(a for _, _, a in rows)
    table = _csv_table(rows)
    return Draft(
        slots={"table": table},
        reasoning="Read the CSV with csv.DictReader and add the amount of each row as an int.",
        code=code(
            "import csv",
            "import io",
            "",
            f'table = """{table}"""',
            *CSV_READ,
            'total = sum(int(row["amount"]) for row in rows)',
            "print(total)",
        ),
        requires=("csv", "io"),
        answer=f"The amounts add up to {total}.",
        expected=str(total),
    )


@template(
    "csv_category_mean",
    FAMILY,
    (
        "What is the average amount for category {category}?\n{table}",
        "Using this CSV, compute the mean amount of the {category} rows (2 decimals):\n{table}",
        "Work out the mean amount for the {category} rows, to 2 decimals:\n{table}",
        "{table}\nAverage amount where category is {category}?",
        "what's the avg amount for {category} in this csv?\n{table}",
        "Tell me the average of the amount column over rows with category {category}.\n{table}",
        (
            "I have this CSV of sales:\n{table}\nConsidering only {category}, what's the mean "
            "amount (2 decimal places)?"
        ),
        (
            "Calculate the mean of the amounts belonging to category {category} in the following "
            "CSV:\n{table}"
        ),
        "mean amount for {category}? 2 dp\n{table}",
        "Could you average the amounts for category {category}? Round to 2 decimals.\n{table}",
        "{table}\nfor {category} rows only, what's the mean amount?",
        (
            "Our orders export:\n{table}\nFiltering to {category}, what is the average amount, "
            "rounded to 2 dp?"
        ),
        "Please calculate the mean of amount for rows where category = {category}:\n{table}",
        "avg amount, category {category}, two decimals:\n{table}",
        "Take just the {category} entries in this CSV and average their amounts.\n{table}",
        "On average, how large is a {category} amount in the table below?\n{table}",
        "Here is sales data:\n{table}\nWhat is the average amount in the {category} category?",
    ),
    train_phrasings=(
        "hey quick one, what is the {category} average? amount column, 2 decimals\n{table}",
        "CSV:\n{table}\nFilter to category == {category}, then average the amount column (2 dp).",
        (
            "A shop manager asks: across the {category} lines in this export, what's the "
            "average amount, rounded to 2 decimal places?\n{table}"
        ),
        "{category} average amount, 2 dp?\n{table}",
        (
            "Please give the mean of amount over only the {category} rows, rounded to two "
            "decimals.\n{table}"
        ),
        "{table}\nWhat's the typical amount in category {category}, as a mean to 2 decimal places?",
        (
            "Add the amounts of the {category} rows and divide by how many such rows there are "
            "(2 dp).\n{table}"
        ),
        (
            "Compute the average amount per {category} row in this CSV, to two decimal "
            "places:\n{table}"
        ),
        "For category {category} only: mean of amount, rounded to 2 dp.\n{table}",
        (
            "Could you find the average amount among rows tagged {category}? Two decimal "
            "places please.\n{table}"
        ),
        "{table}\ngroup by category - what's the mean amount for {category}? round to 2dp",
        (
            "My spreadsheet looks like this:\n{table}\nI want the mean amount of the {category} "
            "rows, 2 decimals."
        ),
    ),
)
def csv_category_mean(v: Values) -> Draft:
    rows = _sales(v, v.int(3, 9))
    category = rows[0][1]
    rows[0] = (rows[0][0], category, v.int(1, 500, key=True))
    matching = [a for _, c, a in rows if c == category]
    result = round(float(Fraction(sum(matching), len(matching))), 2)
    table = _csv_table(rows)
    return Draft(
        slots={"table": table, "category": category},
        reasoning=f"Read the rows, keep those in {category} and average their amounts.",
        code=code(
            "import csv",
            "import io",
            "",
            f'table = """{table}"""',
            *CSV_READ,
            f'amounts = [int(row["amount"]) for row in rows if row["category"] == {category!r}]',
            "print(round(sum(amounts) / len(amounts), 2))",
        ),
        requires=("csv", "io"),
        answer=f"The average {category} amount is {human(result)}.",
        expected=num(result),
    )


@template(
    "csv_max_row",
    FAMILY,
    (
        "Which product has the largest amount?\n{table}",
        "In this CSV, name the product with the highest amount:\n{table}",
        "{table}\nWhich product has the highest amount?",
        "which product has the max amount in this csv?\n{table}",
        "Tell me the name of the product with the greatest amount.\n{table}",
        "Find the product whose amount is the largest in the CSV below:\n{table}",
        "Looking at these sales figures:\n{table}\nWhat product tops the amount column?",
        "Name the top product by amount:\n{table}",
        "product with highest amount?\n{table}",
        "Could you tell me which product has the most amount in this CSV?\n{table}",
        "Our weekly orders:\n{table}\nWhich item sold the greatest amount?",
        "{table}\nwhich product has the top amount",
        "Please identify the product with the maximum value in the amount column.\n{table}",
        "Sort this by amount and tell me which product comes out on top:\n{table}",
        "max amount -> which product?\n{table}",
        "According to the CSV below, what product has the largest value of amount?\n{table}",
        "Here is a table:\n{table}\nWhich product's amount is the biggest?",
    ),
    train_phrasings=(
        "hey, which product has the most in the amount column here?\n{table}",
        "CSV:\n{table}\nReturn the product name of the row with the maximum amount.",
        "The buyer wants to know which product led on amount in this export:\n{table}",
        "{table}\ntop product by amount?",
        "Please name the product whose amount beats all the others.\n{table}",
        "Which row has the highest amount? Just give me its product.\n{table}",
        "Find the argmax of amount and report that row's product.\n{table}",
        "Out of all products below, whose amount is largest?\n{table}",
        "Could you check this CSV and tell me the product with the largest amount value?\n{table}",
        "Market stall sales:\n{table}\nWhich product brought in the greatest amount?",
        "{table}\nname of product with max amount",
        "Looking only at the amount column, which product is the winner?\n{table}",
    ),
)
def csv_max_row(v: Values) -> Draft:
    rows = _sales(v, v.int(3, 8))
    amounts = [a for _, _, a in rows]
    top = max(amounts)
    if amounts.count(top) > 1:  # a tie would make the answer ambiguous
        rows[0] = (rows[0][0], rows[0][1], top + 1)
    unused = [f for f in FRUITS if f not in {r[0] for r in rows}]
    rows[-1] = (v.choice(unused, key=True), rows[-1][1], rows[-1][2])
    best = max(rows, key=lambda r: r[2])
    table = _csv_table(rows)
    return Draft(
        slots={"table": table},
        reasoning="Read the rows and take the one with the maximum amount.",
        code=code(
            "import csv",
            "import io",
            "",
            f'table = """{table}"""',
            *CSV_READ,
            'best = max(rows, key=lambda row: int(row["amount"]))',
            'print(best["product"])',
        ),
        requires=("csv", "io"),
        answer=f"{best[0]} has the largest amount, {best[2]}.",
        expected=best[0],
        check="exact",
    )


@template(
    "top_k",
    FAMILY,
    (
        "What are the {k} largest numbers in {listing}, from largest down?",
        "List the top {k} values of {listing} in descending order.",
        "Give me the {k} largest values in {listing}, sorted from largest to smallest.",
        "what are the top {k} numbers in {listing}? list them biggest first",
        "{listing}: {k} largest, in descending order?",
        "Sort {listing} in descending order and tell me the first {k}.",
        "Work out the {k} highest numbers among {listing}, ordered from highest to lowest.",
        "I have the numbers {listing}. Which are the {k} greatest, listed in decreasing order?",
        "top {k} of {listing}, descending?",
        "Could you give me the {k} highest values in {listing}, in descending order?",
        "Scores from the tournament: {listing}. What are the top {k} scores, best to worst?",
        "sorted(..., reverse=True)[:{k}] for {listing}?",
        "Please list the {k} greatest numbers from {listing}, starting with the greatest.",
        "i need the {k} largest values of {listing}, high to low",
        "Which {k} numbers in {listing} are the highest? Order them from high to low.",
        "Rank {listing} from highest to lowest and give me only the first {k}.",
        "From {listing}, pick the {k} biggest numbers, largest first.",
    ),
    train_phrasings=(
        "hey, give me the {k} biggest values in {listing}, highest first",
        "Numbers: {listing}\nReturn the top {k}, sorted in descending order.",
        (
            "A leaderboard has the scores {listing}. Which {k} scores are the best, listed "
            "from the highest down?"
        ),
        "{k} largest of {listing}, descending",
        "Please sort {listing} from largest to smallest and keep only the leading {k} numbers.",
        "What are the {k} greatest values among {listing}? Put the biggest first.",
        "Sales per store were {listing}. List the {k} best figures in decreasing order.",
        "Could you pull out the {k} highest numbers from {listing}, ordered high to low?",
        "descending top {k} from {listing}",
        "Give the {k} maximum values of {listing}, in order from the maximum downward.",
        "Which are the {k} largest entries of {listing}? Show them in descending order.",
        "For {listing}, what does the top-{k} list look like when ordered from greatest to least?",
    ),
)
def top_k(v: Values) -> Draft:
    values = _numbers(v, 1, 500)
    values[0] = v.int(1, 500, key=True)
    k = v.int(2, 4)
    remaining, top = list(values), []
    for _ in range(k):
        biggest = max(remaining)
        remaining.remove(biggest)
        top.append(biggest)
    return Draft(
        slots={"listing": _listing(values), "k": k},
        reasoning=f"Sort the numbers in descending order and keep the first {k}.",
        code=code(
            f"values = {values!r}", f"top = sorted(values, reverse=True)[:{k}]", "print(top)"
        ),
        requires=(),
        answer=f"The {k} largest values are {', '.join(str(x) for x in top)}.",
        expected=str(top),
        check="exact",
    )
