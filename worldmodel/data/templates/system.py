"""Family "system": dates and times, files in the sandbox's working folder, and environment facts.

Date questions are deterministic and checked exactly; the generator computes them with
ordinal-day arithmetic rather than the `datetime` calls the program uses. File programs create
and read files in their current directory (the sandbox's temp dir) and the generator knows
the answer from the content it chose. Environment facts (Python version, platform, CPU count,
the current year) differ between machines, so their records are checked with a named
predicate (see `verify.PREDICATES`) and their prose answer is filled from the observed output.
Not covered: network access and anything outside the working folder.
"""

from __future__ import annotations

from worldmodel.data.templates.base import Draft, Values, code, template
from worldmodel.data.templates.words import CITIES, FRUITS, NOUNS

FAMILY = "system"
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _month_days(year: int, month: int) -> int:
    if month == 2:
        return 29 if _leap(year) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def _day_number(year: int, month: int, day: int) -> int:
    """Days since 0001-01-01 counted by hand (independent of datetime)."""
    y = year - 1
    days = y * 365 + y // 4 - y // 100 + y // 400
    days += sum(_month_days(year, m) for m in range(1, month))
    return days + day - 1


def _draw_date(v: Values, *, key: bool = False) -> tuple[int, int, int]:
    year = v.int(1950, 2060, key=key)
    month = v.int(1, 12)
    day = v.int(1, _month_days(year, month))
    return year, month, day


def _iso(year: int, month: int, day: int) -> str:
    return f"{year:04d}-{month:02d}-{day:02d}"


@template(
    "weekday_of_date",
    FAMILY,
    (
        "What day of the week was {date}?",
        "On which weekday does {date} fall?",
        "Tell me the weekday for {date}.",
        "what weekday was {date}",
        "I'm filling in an old calendar. Which weekday is {date}?",
        "{date}: Monday, Tuesday, ...? Name the weekday.",
        "Find the name of the weekday that {date} lands on.",
        "Weekday of {date}?",
        "my grandma was born on {date}. what weekday was that?",
        "Could you tell me what weekday {date} is?",
        "quick one: weekday for {date}",
        "Give me the weekday name of {date}, please.",
        "I have a receipt dated {date} and can't recall if it was a weekend. What weekday was it?",
        "Determine the weekday on which {date} occurred or will occur.",
        "{date} - what weekday?",
        "Look up the weekday name corresponding to {date}.",
        "Which day of the week is the date {date}?",
    ),
    train_phrasings=(
        "Tell me the day name, like Tuesday or Saturday, that goes with {date}.",
        "hey, do you know what weekday {date} was on",
        "Name the weekday, Monday through Sunday, that {date} belongs to.",
        "Our school trip is booked for {date}. Which weekday is that?",
        "Print the full English weekday name for {date}.",
        "Date given: {date}. Required: its weekday.",
        "I'd appreciate it if you could work out the weekday of {date}.",
        "In the Gregorian calendar, {date} corresponds to which weekday?",
        "weekday name for {date} pls",
        "A historian's notes mention {date} but not the weekday. Which weekday was it?",
        "Using the year-month-day date {date}, output the weekday it falls on.",
        "Spreadsheet cell says {date}; I need the weekday column filled in. What goes there?",
    ),
)
def weekday_of_date(v: Values) -> Draft:
    y, m, d = _draw_date(v, key=True)
    weekday = WEEKDAYS[_day_number(y, m, d) % 7]  # 0001-01-01 was a Monday
    date = _iso(y, m, d)
    return Draft(
        slots={"date": date},
        reasoning="Parse the date with datetime and format its weekday name.",
        code=code(
            "from datetime import date",
            "",
            f'day = date.fromisoformat("{date}")',
            'print(day.strftime("%A"))',
        ),
        requires=("datetime",),
        answer=f"{date} is a {weekday}.",
        expected=weekday,
        check="exact",
    )


@template(
    "days_between",
    FAMILY,
    (
        "How many days are there between {start} and {end}?",
        "Count the days from {start} to {end}.",
        "Work out how many days lie between {start} and {end}.",
        "how many days from {start} to {end}",
        "Days between {start} and {end}?",
        "I need the gap in days from {start} to {end}. What is it?",
        "Tell me the difference in days between {start} and {end}.",
        "Find the number of days from {start} to {end}.",
        "how many days elapse from {start} to {end}?",
        "Calculate the day count from {start} to {end}, please.",
        "My project began on {start} and wrapped up on {end}. How many days was that?",
        "Could you figure out how many days span from {start} up to {end}?",
        "{start} -> {end}: how many days?",
        "days from {start} to {end}, quick",
        "Tally the days going from {start} to {end} for me.",
        "We signed the lease on {start} and moved out on {end}. How many days passed in between?",
        "What is the number of days separating {start} and {end}?",
    ),
    train_phrasings=(
        "From {start} up to {end}, what is the difference measured in days?",
        "hey, how many days go by between {start} and {end}?",
        "Subtract {start} from {end} and give the result in days.",
        "Interval length in days: {start} to {end}.",
        "A seed was planted on {start} and harvested on {end}. How many days did it grow?",
        "Please figure out how much time, in days, elapsed from {start} to {end}.",
        "start {start} end {end} how many days",
        "{end} minus {start}, in days?",
        "How far apart, in days, are the dates {start} and {end}?",
        "I'm logging a voyage that set sail on {start} and docked on {end}. What's its length in "
        "days?",
        "Would you work out the day difference between {start} and the later date {end}?",
        "Given the dates {start} and {end}, how many days is the later one past the earlier one?",
    ),
)
def days_between(v: Values) -> Draft:
    a = _draw_date(v, key=True)
    b = _draw_date(v)
    if b < a:
        a, b = b, a
    days = _day_number(*b) - _day_number(*a)
    start, end = _iso(*a), _iso(*b)
    return Draft(
        slots={"start": start, "end": end},
        reasoning="Subtract the two dates; the difference's .days is the answer.",
        code=code(
            "from datetime import date",
            "",
            f'start = date.fromisoformat("{start}")',
            f'end = date.fromisoformat("{end}")',
            "print((end - start).days)",
        ),
        requires=("datetime",),
        answer=f"There are {days:,} days between {start} and {end}.",
        expected=str(days),
    )


@template(
    "add_days",
    FAMILY,
    (
        "What date is {n} days after {date}?",
        "Add {n} days to {date}. What is the resulting date?",
        "Tell me the date {n} days after {date}.",
        "{date} plus {n} days is which date?",
        "what's the date {n} days after {date}",
        "A parcel ships on {date} and arrives exactly {n} days later. What is the arrival date?",
        "Work out which date falls {n} days after {date}.",
        "Starting from {date}, move forward {n} days. Which date do you land on?",
        "Calculate {date} + {n} days.",
        "which date is exactly {n} days past {date}?",
        "Could you give me the date that comes {n} days after {date}?",
        "Count forward {n} days from {date} and tell me where you end up.",
        "A library book borrowed on {date} is due back {n} days later. On what date is it due?",
        "shift {date} forward by {n} days",
        "Please find the calendar date {n} days on from {date}.",
        "I set a reminder for {n} days after {date}. Which date does it go off?",
        "If today is {date}, what will the date be in {n} days?",
    ),
    train_phrasings=(
        "Jump ahead {n} days from {date}. What's the new date?",
        "{n} days later than {date}: which date is that?",
        "hey, what date do I get if I add {n} days onto {date}",
        "Give the date, in YYYY-MM-DD form, that is {n} days beyond {date}.",
        "The free trial begins on {date} and expires exactly {n} days later. Which date is the "
        "expiry?",
        "date {date}, advance {n} days, result?",
        "Our ship left port on {date} and the log says it reached land {n} days afterwards. Which "
        "date was landfall?",
        "Please add a span of {n} days to {date} and report the date you reach.",
        "What calendar date lies {n} days ahead of {date}?",
        "Given the start date {date}, find the date after {n} more days have passed.",
        "plus {n} days from {date} - what's that date",
        "A plant is watered on {date}, the gardener wears a red hat, and the next check is due {n} "
        "days on. Which date is the check?",
    ),
)
def add_days(v: Values) -> Draft:
    y, m, d = _draw_date(v)
    n = v.int(1, 2000, key=True)
    target = _day_number(y, m, d) + n
    year = y
    while _day_number(year + 1, 1, 1) <= target:
        year += 1
    month = 1
    while month < 12 and _day_number(year, month + 1, 1) <= target:
        month += 1
    day = target - _day_number(year, month, 1) + 1
    result = _iso(year, month, day)
    start = _iso(y, m, d)
    return Draft(
        slots={"n": n, "date": start},
        reasoning=f"Add a timedelta of {n} days to the date.",
        code=code(
            "from datetime import date, timedelta",
            "",
            f'start = date.fromisoformat("{start}")',
            f"result = start + timedelta(days={n})",
            "print(result.isoformat())",
        ),
        requires=("datetime",),
        answer=f"{n} days after {start} is {result}.",
        expected=result,
        check="exact",
    )


@template(
    "leap_year",
    FAMILY,
    (
        "Is {year} a leap year?",
        "Was (or will) {year} be a leap year? Answer True or False.",
        "Tell me whether {year} is a leap year.",
        "leap year or not: {year}?",
        "is {year} a leap year",
        "I'm checking a calendar rule. Does {year} count as a leap year in the Gregorian calendar?",
        "Determine if {year} qualifies as a leap year (True or False).",
        "{year}: leap year?",
        "quick check: leap year in {year}?",
        "Would {year} be classed as a leap year?",
        "Is {year} one of the leap years? Just True or False.",
        "We're scheduling an event in {year}. Is that a leap year?",
        "Check if {year} is a leap year and print True or False.",
        "tell me if {year} is leap",
        "Under Gregorian rules, is {year} leap?",
        "Leap-year test for {year}, please.",
        "Does the year {year} have a February 29?",
    ),
    train_phrasings=(
        "Apply the divisible-by-4 rule, with centuries leap only when divisible by 400, to {year}: "
        "leap or not?",
        "hey is {year} a leap year or a normal one",
        "True or False: the year {year} is a leap year.",
        "My calendar app needs to know: does {year} have 366 days?",
        "Could you check whether {year} is a leap year for me, please?",
        "year {year} leap?",
        "A farmer's almanac for {year} is being printed. Is that year a leap year?",
        "Given the year {year}, decide whether it is a leap year.",
        "Leap status of {year}? Reply True or False.",
        "i need to know if {year} was or will be a leap year",
        "Working with Gregorian calendar rules, classify {year} as a leap year or a common year.",
        "We're printing wall planners for {year}, and the designer uses blue ink. Is that year a "
        "leap year?",
    ),
)
def leap_year(v: Values) -> Draft:
    year = v.int(1600, 2400, key=True)
    leap = (year % 4 == 0) != (year % 100 == 0) or year % 400 == 0
    return Draft(
        slots={"year": year},
        reasoning="A year is a leap year if divisible by 4, except centuries not divisible by "
        "400; calendar.isleap applies that rule.",
        code=code("import calendar", "", f"year = {year}", "print(calendar.isleap(year))"),
        requires=("calendar",),
        answer=f"{year} {'is' if leap else 'is not'} a leap year.",
        expected=str(leap),
        check="exact",
    )


@template(
    "days_in_month",
    FAMILY,
    (
        "How many days does {month} {year} have?",
        "What is the number of days in {month} of {year}?",
        "How many days are in {month} {year}?",
        "Tell me the length of {month} {year} in days.",
        "days in {month} {year}?",
        "I'm planning a schedule for {month} {year}. How many days does that month contain?",
        "Work out how long {month} {year} is, in days.",
        "{month} {year} has how many days?",
        "How long is {month} {year}? Give the answer in days.",
        "what's the length of {month} {year} measured in days",
        "Rent is charged per day for the whole of {month} {year}. How many days is that?",
        "Could you tell me how many days {month} {year} contains?",
        "What date does {month} {year} end on? Just the day number.",
        "{month} {year}: 28, 29, 30 or 31 days?",
        "Please tell me {month} {year}'s length in days.",
        "gimme the number of days {month} {year} has",
        "Count the days in the month of {month} {year}.",
    ),
    train_phrasings=(
        "How many days long is {month} in the year {year}?",
        "hey, is {month} {year} a long month or a short one? how many days exactly?",
        "Payroll is calculated per calendar day. How many such days are in {month} {year}?",
        "Give the number of days in {month} {year} as a single integer.",
        "{month}, {year}. Number of days?",
        "From the 1st to its final day, how many days make up {month} {year}?",
        "Please tell me how many calendar days fall within {month} {year}.",
        "I'm drawing a calendar grid for {month} {year}; how many day boxes do I need?",
        "month: {month}, year: {year} -> days?",
        "{month} of the year {year} is how many days long?",
        "A gym charges a fee for every single day of {month} {year}. How many daily fees is that?",
        "Find the total days in {month} {year}, taking leap years into account.",
    ),
)
def days_in_month(v: Values) -> Draft:
    year = v.int(1800, 2200, key=True)
    month_index = v.int(1, 12)
    days = _month_days(year, month_index)
    month = MONTHS[month_index - 1]
    return Draft(
        slots={"month": month, "year": year},
        reasoning="calendar.monthrange returns the weekday of the 1st and the number of days.",
        code=code(
            "import calendar",
            "",
            f"year = {year}",
            f'month = list(calendar.month_name).index("{month}")',
            "first_weekday, days = calendar.monthrange(year, month)",
            "print(days)",
        ),
        requires=("calendar",),
        answer=f"{month} {year} has {days} days.",
        expected=str(days),
    )


@template(
    "seconds_to_hms",
    FAMILY,
    (
        "Convert {seconds} seconds to hours, minutes and seconds (H:MM:SS).",
        "How long is {seconds} seconds in H:MM:SS form?",
        "Turn {seconds} seconds into H:MM:SS.",
        "what is {seconds} seconds as H:MM:SS",
        "A video is {seconds} seconds long. Write that length as H:MM:SS.",
        "Format {seconds} seconds in H:MM:SS notation.",
        "{seconds} seconds in H:MM:SS?",
        "Tell me how many hours, minutes and seconds make up {seconds} seconds, formatted H:MM:SS.",
        "My stopwatch shows {seconds} seconds. What is that in H:MM:SS?",
        "convert {seconds}s to H:MM:SS",
        "Please rewrite {seconds} seconds using the H:MM:SS format.",
        "Break {seconds} seconds down into H:MM:SS.",
        "A podcast episode lasts {seconds} seconds - show that as H:MM:SS.",
        "Could you give me {seconds} seconds in H:MM:SS form?",
        "H:MM:SS for {seconds} seconds?",
        "Show {seconds} seconds the way a timer would, as H:MM:SS.",
        "Express a duration of {seconds} seconds as hours:minutes:seconds.",
    ),
    train_phrasings=(
        "Write {seconds} seconds as H:MM:SS, with the hours not zero-padded.",
        "hey can you turn {seconds} seconds into an H:MM:SS time",
        "Duration: {seconds} s. Needed: H:MM:SS.",
        "A marathon runner finished in {seconds} seconds. Show her time as H:MM:SS.",
        "Split {seconds} seconds into whole hours, minutes and leftover seconds and print them as "
        "H:MM:SS.",
        "Please display a {seconds}-second span in H:MM:SS format.",
        "H:MM:SS please, input is {seconds} seconds",
        "The oven timer was set for {seconds} seconds; what would that read as H:MM:SS?",
        "Give me the H:MM:SS version of {seconds} seconds.",
        "what's {seconds} seconds in H:MM:SS notation, minutes and seconds two digits each",
        "Lay out a total of {seconds} seconds in clock-style H:MM:SS.",
        "The build log says the job ran for {seconds} seconds on a rainy Tuesday. Convert that "
        "runtime to H:MM:SS.",
    ),
)
def seconds_to_hms(v: Values) -> Draft:
    seconds = v.int(61, 200000, key=True)
    hours, rest = seconds // 3600, seconds % 3600
    result = f"{hours}:{rest // 60:02d}:{rest % 60:02d}"
    return Draft(
        slots={"seconds": seconds},
        reasoning="Divide by 3600 for hours, then by 60 for minutes; the rest are seconds.",
        code=code(
            f"total_seconds = {seconds}",
            "hours, remainder = divmod(total_seconds, 3600)",
            "minutes, seconds = divmod(remainder, 60)",
            'print(f"{hours}:{minutes:02d}:{seconds:02d}")',
        ),
        requires=(),
        answer=f"{seconds:,} seconds is {result}.",
        expected=result,
        check="exact",
    )


@template(
    "minutes_between_times",
    FAMILY,
    (
        "How many minutes pass between {start} and {end} on the same day?",
        "A meeting runs from {start} to {end}. How many minutes long is it?",
        "Work out the number of minutes from {start} to {end} on one day.",
        "how many minutes between {start} and {end}, same day",
        "A shop opens at {start} and closes at {end} the same day. How many minutes is it open?",
        "Tell me the elapsed minutes from {start} to {end}, both times on the same day.",
        "{start} to {end} on the same day: how many minutes?",
        "Find how many minutes separate {start} and {end} within a single day.",
        "My shift runs from {start} to {end} today. How many minutes is that?",
        "both on one day: {start} and {end}. minutes apart?",
        "Could you tell me how many minutes lie between {start} and {end} on a single day?",
        "A train leaves at {start} and arrives at {end} on the same day. How many minutes does "
        "the trip take?",
        "What's the gap between {start} and {end} in minutes, if both are on one day?",
        "Same day, {start} then {end} - what's the difference in minutes?",
        "How long, in minutes, is it from {start} to {end} on one day?",
        "I parked at {start} and left at {end} on the same day; how many minutes was I parked?",
        "Compute the minutes from {start} until {end} (24-hour clock, same day).",
    ),
    train_phrasings=(
        "hey, if it's {start} now and I'm free at {end} later today, how many minutes do I wait?",
        "A lecture starts at {start} and finishes at {end} that same day. Give its length in "
        "minutes.",
        "Minutes elapsed, {start} -> {end}, same calendar day?",
        "Please count the minutes between the clock times {start} and {end} on a single date.",
        "The bakery's oven went on at {start} and off at {end}, same day. For how many minutes was "
        "it on?",
        "start {start} end {end} same day, answer in minutes",
        "On one day, a clock moves from {start} to {end}. How many minutes has it advanced?",
        "Give the time difference from {start} to {end} (both today) as a number of minutes.",
        "I walked my dog Rex from {start} to {end} on the same day. How many minutes did the walk "
        "last?",
        "Convert the span from {start} to {end} on a single day into minutes.",
        "How many whole minutes elapse going from {start} to {end} within one day?",
        "Today I clocked in at {start} and out at {end}. What is my time at work in minutes?",
    ),
)
def minutes_between_times(v: Values) -> Draft:
    h1, h2 = sorted(v.sample(range(0, 24), 2))
    m1, m2 = v.int(0, 59, key=True), v.int(0, 59)
    start, end = f"{h1:02d}:{m1:02d}", f"{h2:02d}:{m2:02d}"
    minutes = (h2 * 60 + m2) - (h1 * 60 + m1)
    return Draft(
        slots={"start": start, "end": end},
        reasoning="Parse both times, subtract, and divide the seconds by 60.",
        code=code(
            "from datetime import datetime",
            "",
            f'start = datetime.strptime("{start}", "%H:%M")',
            f'end = datetime.strptime("{end}", "%H:%M")',
            "minutes = (end - start).seconds // 60",
            "print(minutes)",
        ),
        requires=("datetime",),
        answer=f"{minutes} minutes pass from {start} to {end}.",
        expected=str(minutes),
    )


@template(
    "iso_week",
    FAMILY,
    (
        "What is the ISO week number of {date}?",
        "In which ISO calendar week does {date} fall?",
        "Tell me the ISO week number for {date}.",
        "which ISO week is {date} in",
        "I'm filing a weekly report dated {date}. What ISO week number is that?",
        "Work out the ISO week of the year for {date}.",
        "{date}: ISO week number?",
        "Find the ISO week that contains {date}.",
        "iso week of {date}?",
        "Could you tell me which ISO week {date} belongs to?",
        "Our team names sprints after ISO weeks. What's the ISO week number of {date}?",
        "Determine which ISO calendar week {date} sits in.",
        "ISO week # of {date}",
        "need the iso week for {date} for my timesheet",
        "Could you check which ISO week includes {date}?",
        "On an ISO week calendar, {date} is in week what?",
        "Give the ISO-8601 week number for the date {date}.",
    ),
    train_phrasings=(
        "Using the ISO calendar, which week number contains {date}?",
        "hey, which iso week does {date} land in?",
        "By ISO rules (weeks begin Monday, week 1 holds the first Thursday), which week is {date} "
        "in?",
        "A factory schedules its output by ISO week. For {date}, which week is that?",
        "{date} -> ISO week?",
        "Please look up the ISO week of {date}, with weeks starting on Monday.",
        "Out of the ISO year's 52 or 53 weeks, which one includes {date}?",
        "Our shipping dock plans by ISO weeks; tell me the ISO week {date} is part of.",
        "iso wk for {date}, thanks",
        "My planner uses ISO weeks and I spilled tea on it. Which ISO week holds {date}?",
        "For the day {date}, tell me its ISO week number, not its month.",
        "Could you work out the ISO week that {date} is in, as a number?",
    ),
)
def iso_week(v: Values) -> Draft:
    y, m, d = _draw_date(v, key=True)
    # Independent route: ISO week 1 is the week holding the year's first Thursday.
    ordinal = _day_number(y, m, d)
    weekday = ordinal % 7  # Monday = 0
    thursday = ordinal - weekday + 3
    thursday_year = y
    if thursday < _day_number(y, 1, 1):
        thursday_year = y - 1
    elif thursday >= _day_number(y + 1, 1, 1):
        thursday_year = y + 1
    week = (thursday - _day_number(thursday_year, 1, 1)) // 7 + 1
    date = _iso(y, m, d)
    return Draft(
        slots={"date": date},
        reasoning="date.isocalendar() returns (ISO year, week, weekday).",
        code=code(
            "from datetime import date",
            "",
            f'day = date.fromisoformat("{date}")',
            "print(day.isocalendar()[1])",
        ),
        requires=("datetime",),
        answer=f"{date} is in ISO week {week}.",
        expected=str(week),
    )


@template(
    "file_line_count",
    FAMILY,
    (
        "Write the words {listing} to a file, one per line, then read it back and count the lines.",
        "Create a text file with the lines {listing} in the current folder. How many lines does "
        "it have when read back?",
        "Put each of {listing} on its own line in a file, reopen it and tell me how many lines it "
        "has.",
        "write {listing} to a file one per line, then read it back - how many lines?",
        "I'm storing the words {listing} in a text file, one word per line. After reading it "
        "back, what is the line count?",
        "Lines in a file holding {listing}, one word per line, once it is read back?",
        "Make a file with one line for each of {listing}. Read it again and count its lines.",
        "Store {listing} in a file, a single word per line; how many lines come back when you "
        "read it?",
        "dump {listing} into a text file, one per line, and read it back. how many lines are "
        "there?",
        "Could you write {listing} to a file with each word on its own line, then open it "
        "again and count how many lines it contains?",
        "I'm making a word list file: {listing}, each on a line. When the file is read back "
        "in, how many lines does it have?",
        "Write a file containing {listing}, one entry per line, then read it and print the "
        "number of lines.",
        "{listing} -> file, one per line. Read it back: how many lines?",
        "Each of {listing} becomes a line in a new text file. Reading that file back, how many "
        "lines do you get?",
        "Please put {listing} into a file line by line and tell me how many lines you read back.",
        "after writing {listing} one per line to a file and reading it in again, what's the "
        "number of lines?",
        "Save {listing} as separate lines of notes.txt, reopen it and report the line count.",
    ),
    train_phrasings=(
        "hey, if I write {listing} to a file with one word on each line and read it back, how many "
        "lines is that?",
        "Words: {listing}. Each one goes on its own line in a text file; after reading the file, "
        "print how many lines there are.",
        "A teacher saves the spelling words {listing} to a file, one per line. Reading the file "
        "back, how many lines are there?",
        "one word per line: {listing}. write to file, reopen, count lines",
        "How many lines will a file report after you fill it with {listing}, a word on every line, "
        "and load it again?",
        "Line count of a text file built from {listing}, one per line, read back in?",
        "My shopping list file gets {listing}, each item on a separate line. When I open it again, "
        "how many lines are in it?",
        "Send {listing} to a text file with a newline after every word, reload it and count the "
        "lines.",
        "Using the words {listing}, one per line, produce a file; how many lines does reading it "
        "give?",
        "Count the lines you get back from a file written with {listing}, one word per line.",
        "In a lab, the sample names {listing} are recorded in a file one per line. Read the file "
        "back: how many lines?",
        "{listing}: put these into a file, each on a line of its own, then read the file and give "
        "the line total.",
    ),
)
def file_line_count(v: Values) -> Draft:
    first = v.choice(NOUNS, key=True)
    words = [first, *v.sample([n for n in NOUNS if n != first], v.int(1, 11))]
    count = len(words)
    listing = ", ".join(words)
    return Draft(
        slots={"listing": listing},
        reasoning="Write the lines with a newline after each, reopen the file and count lines.",
        code=code(
            f'lines = "{listing}".split(", ")',
            'with open("notes.txt", "w") as handle:',
            "    for line in lines:",
            '        handle.write(line + "\\n")',
            'with open("notes.txt") as handle:',
            "    count = len(handle.readlines())",
            "print(count)",
        ),
        requires=(),
        answer=f"The file has {count} lines.",
        expected=str(count),
    )


@template(
    "file_size",
    FAMILY,
    (
        'Write the text "{text}" to a file and report its size in bytes.',
        'How many bytes does a file containing exactly "{text}" (UTF-8, no newline) take?',
        'Tell me the size in bytes of a file that holds the text "{text}".',
        'write "{text}" to a file and check how many bytes it is',
        'I saved the string "{text}" to disk with nothing else in the file. What is its size in '
        "bytes?",
        'Size in bytes of a file whose whole content is "{text}"?',
        'Store the text "{text}" in a file (UTF-8) and find out how many bytes the file occupies.',
        '"{text}" written to a file: how many bytes is that file?',
        'dump "{text}" into a file (no trailing newline) - how big is it in bytes?',
        'Could you write exactly "{text}" to a file and tell me its byte count?',
        'If a file contains nothing but "{text}" in UTF-8, how many bytes long is it?',
        'Measure the on-disk size, in bytes, of a file holding only "{text}".',
        'I want to know how many bytes "{text}" takes up once written to a file by itself.',
        'Write "{text}" (UTF-8, nothing else) to a file; what does os.path.getsize return?',
        'byte size of a file with the content "{text}"?',
        'A file is created whose only content is the string "{text}". How large is it in bytes?',
        'Save "{text}" into data.txt in the working directory and print the file size.',
    ),
    train_phrasings=(
        'hey, how big in bytes is a file that just contains "{text}"?',
        'Number of bytes in a UTF-8 file whose only text is "{text}" (no trailing newline)?',
        'A note reading "{text}" is saved alone in a file, UTF-8 encoded. What\'s the file size in '
        "bytes?",
        'Please write "{text}" with no newline to a UTF-8 file, then print its byte size.',
        'file content = "{text}", utf-8, no newline. size in bytes?',
        'How many bytes will the file be after writing only "{text}" into it?',
        'The text "{text}" is the entire content of a file. Report the file\'s length in bytes.',
        'Create a file, put "{text}" in it and nothing more, then check how many bytes it has.',
        'I\'m testing storage quotas and write "{text}" to a file by itself. What size in bytes '
        "does it report?",
        '"{text}" -> file (UTF-8). Byte count?',
        "Find the size, in bytes, of a freshly written file that contains only the string "
        '"{text}".',
        'A coworker typed "{text}" into a blank file at lunch. With no newline added, how many '
        "bytes long is it?",
    ),
)
def file_size(v: Values) -> Draft:
    first = v.choice(CITIES, key=True)
    words = [first, *v.sample(NOUNS, v.int(0, 7))]
    text = " ".join(words)
    size = len(text.encode("utf-8"))
    return Draft(
        slots={"text": text},
        reasoning="Write the string, then ask the file system for the size with os.path.getsize.",
        code=code(
            "import os",
            "",
            f"text = {text!r}",
            'with open("data.txt", "w", encoding="utf-8") as handle:',
            "    handle.write(text)",
            'print(os.path.getsize("data.txt"))',
        ),
        requires=("os",),
        answer=f"The file is {size} bytes long.",
        expected=str(size),
    )


@template(
    "file_count_by_extension",
    FAMILY,
    (
        "Create the files {listing} in a new folder and count how many end in .{ext}.",
        "In a fresh directory make files named {listing}. How many of them have the .{ext} "
        "extension?",
        "Make a new folder holding the files {listing}. How many end with .{ext}?",
        "create {listing} in an empty dir and count the .{ext} files",
        "I'm setting up a folder with the files {listing}. Tell me how many of them are .{ext} "
        "files.",
        "Files {listing} go into a new directory; count those with extension .{ext}.",
        "Work out how many .{ext} files there are once {listing} are created in a new folder.",
        ".{ext} files among {listing}, created in a fresh folder: how many?",
        "make an empty folder, touch {listing} in it, and tell me how many are .{ext}",
        "Could you create {listing} in a brand-new directory and count the files ending .{ext}?",
        "I'm organising exports: {listing} are written to a new folder. How many of those are "
        ".{ext}?",
        "Given new files {listing} in an empty directory, how many match *.{ext}?",
        "Count the .{ext} files you get when a new directory is populated with {listing}.",
        "New dir, files {listing}: number of .{ext} files?",
        "Please set up {listing} as empty files in a new folder, then glob for .{ext} and give "
        "the count.",
        "How many .{ext} files show up if {listing} are all made in a fresh directory?",
        "After creating {listing} inside a folder, how many .{ext} files does it contain?",
    ),
    train_phrasings=(
        "hey, I made a new folder and put {listing} in it. how many .{ext} files are there?",
        "Out of the files {listing} created in an empty folder, count the ones with a .{ext} "
        "extension.",
        "Extension .{ext}: how many of {listing} have it, after creating them all in a new "
        "directory?",
        "A photographer dumps {listing} into a fresh folder. How many files there end with .{ext}?",
        "new folder, create {listing}, count *.{ext}",
        "Please create each of {listing} in a new empty folder and report how many carry the "
        ".{ext} extension.",
        "Touch {listing} inside a freshly made directory. How many files there have the suffix "
        ".{ext}?",
        "In a new folder holding {listing}, what is the number of .{ext} files?",
        "My teammate's script writes {listing} into an empty directory while the kettle boils. "
        "Count the .{ext} files in it.",
        "Count how many files of type .{ext} exist after {listing} are written to a brand new "
        "folder.",
        "Given a new directory with the files {listing}, tell me the .{ext} count.",
        "Create {listing} as files in an empty folder, then list the folder: how many names end in "
        ".{ext}?",
    ),
)
def file_count_by_extension(v: Values) -> Draft:
    ext = v.choice(("txt", "csv", "json", "log"))
    first = v.choice(NOUNS, key=True)
    stems = [first, *v.sample([n for n in NOUNS if n != first], v.int(2, 8))]
    names = [f"{stem}.{v.choice(('txt', 'csv', 'json', 'log'))}" for stem in stems]
    count = sum(1 for name in names if name.rsplit(".", 1)[1] == ext)
    listing = ", ".join(names)
    return Draft(
        slots={"listing": listing, "ext": ext},
        reasoning=f"Create each file, then glob the folder for *.{ext} and count matches.",
        code=code(
            "from pathlib import Path",
            "",
            'folder = Path("workspace")',
            "folder.mkdir(exist_ok=True)",
            f'names = "{listing}".split(", ")',
            "for name in names:",
            "    (folder / name).touch()",
            f'matches = list(folder.glob("*.{ext}"))',
            "print(len(matches))",
        ),
        requires=("pathlib",),
        answer=f"{count} of the files end in .{ext}.",
        expected=str(count),
    )


@template(
    "file_append_last_line",
    FAMILY,
    (
        'Write "{first}" to log.txt, then append "{second}" on a new line. What is the last '
        "line of the file?",
        'A file starts with the line "{first}"; the program appends "{second}". Read the file '
        "and print its final line.",
        'Put "{first}" in log.txt, then append "{second}" as a new line. Print the last line of '
        "the file.",
        'log.txt holds "{first}"; you append "{second}" on its own line. What does the final line '
        "read?",
        'write "{first}" to log.txt, append "{second}" on a new line, then show me the last line',
        'I keep a log file: it starts with "{first}", then "{second}" is appended as a new line. '
        "Which line is last when it is read back?",
        'Tell me the last line of log.txt after writing "{first}" and then appending the line '
        '"{second}".',
        'After appending "{second}" on a new line to a log.txt that contains "{first}", what is '
        "its final line?",
        'write "{first}" to a log file, then add "{second}" as a new line at the end. what\'s '
        "the final line now?",
        'A log begins with "{first}". Appending "{second}" on its own line, what does the last '
        "line say?",
        'Could you write "{first}" to a log file, then open it in append mode and add '
        '"{second}" on a new line? Print whichever line ends up last.',
        'First line: "{first}". Appended line: "{second}". Which line is at the bottom of the '
        "log when you read it?",
        'My script logs "{first}" and later appends "{second}" on a new line. Reading the log '
        "afterwards, what is its last line?",
        'Write "{first}" into a text log, append "{second}" as another line, and print the '
        "closing line of the file.",
        'log starts as "{first}", then "{second}" gets appended on a new line - last line?',
        'Show me the bottom line of a log that had "{first}" written first and "{second}" '
        "appended after it on a new line.",
        'Create log.txt containing "{first}", append the line "{second}", and report the '
        "file's last line.",
    ),
    train_phrasings=(
        'hey quick one: I write "{first}" into log.txt and tack "{second}" onto the end as a new '
        "line. what do I see on the final line?",
        'Step 1: write "{first}" to log.txt. Step 2: append "{second}" as a new line. Step 3: '
        "print the final line.",
        'A server writes "{first}" to log.txt and later appends "{second}" on the next line. Read '
        "log.txt back: what is its last line?",
        'Which line ends log.txt once "{first}" is written and "{second}" is appended on a line '
        "below it?",
        'The final line of log.txt is what I want, after "{first}" goes in first and "{second}" is '
        "appended on a new line.",
        'first "{first}", then "{second}" appended as a new line, both in log.txt - print the last '
        "one",
        'What does the last line of log.txt say once "{first}" has been written and "{second}" '
        "added after it on its own line?",
        'A ship\'s log.txt starts with the entry "{first}"; the captain appends "{second}" on a '
        "new line. Reading it back, which entry comes last?",
        'Write mode first with "{first}", then append mode with "{second}" on a new line, same '
        "file log.txt. Print the last line when read.",
        'Could you tell me the final line of log.txt after it receives "{first}" and then gets '
        '"{second}" appended below?',
        'Entries in log.txt: "{first}" (written) and "{second}" (appended on a new line). Last '
        "line?",
        'On a quiet night shift, log.txt is written with "{first}" and then "{second}" is appended '
        "on a new line. Print the last line of log.txt.",
    ),
)
def file_append_last_line(v: Values) -> Draft:
    first = f"{v.choice(CITIES)} {v.int(1, 99)}"
    second = f"{v.choice(FRUITS, key=True)} {v.int(100, 999)}"
    return Draft(
        slots={"first": first, "second": second},
        reasoning="Open once in write mode, once in append mode, then read the lines back.",
        code=code(
            'with open("log.txt", "w") as handle:',
            f'    handle.write({first!r} + "\\n")',
            'with open("log.txt", "a") as handle:',
            f'    handle.write({second!r} + "\\n")',
            'with open("log.txt") as handle:',
            "    lines = handle.read().splitlines()",
            "print(lines[-1])",
        ),
        requires=(),
        answer=f'The last line is "{second}".',
        expected=second,
        check="exact",
    )


@template(
    "cwd_writable",
    FAMILY,
    (
        "Can a program write a file in its current working directory? Try it and print True or "
        "False.",
        "Check whether the current directory is writable by creating a file there.",
        "Is the current working directory writable? Write a test file to find out and print True "
        "or False.",
        "can i write files in the current dir? try it and print True/False",
        "Before saving results, I want to know if this program may write to its working "
        "directory. Create a probe file there and print True or False.",
        "Find out by experiment whether files can be written in the current directory "
        "(True/False).",
        "Writable working directory? Write a file to check, print True or False.",
        "Verify that a file can be written to the program's current directory and print True or "
        "False.",
        "am i allowed to write to the cwd? write a file and print True or False",
        "Could you check, by actually writing a small file, whether the current directory "
        "accepts writes? Print True/False.",
        "My program needs to drop a cache file next to itself. Is the current working "
        "directory writable? Answer True or False after trying.",
        "Try writing a temporary file in the current directory and print whether that worked "
        "(True or False).",
        "Does the process have write access to its current directory? Write a file to confirm; "
        "print True or False.",
        "cwd writable? True/False, check by writing a file",
        "Please attempt to write a file into the present working directory and print True if "
        "it succeeds, False otherwise.",
        "Is writing into the directory this code runs from permitted? Verify with a real file "
        "and print True or False.",
        "Test if you can create and delete a file in the working folder; print the result.",
    ),
    train_phrasings=(
        "hey, try saving a small file in the current folder and tell me True or False: did it "
        "work?",
        "Probe the current working directory for write permission by writing a file; output True "
        "or False.",
        "Writing a scratch file to the cwd: does it succeed? Print True or False.",
        "Please confirm, by creating a file in the current directory, whether it can be written to "
        "(True/False).",
        "write test on current dir -> True/False",
        "A data pipeline will save its output where it runs. Check that the current directory "
        "accepts a new file and print True or False.",
        "Is it possible to create a file in the directory the program is running in? Attempt it "
        "and print True or False.",
        "Print True if a file can be written in the current working directory, else False; check "
        "by really writing one.",
        "Could the present directory be written to? Make a small file there as a test and answer "
        "True or False.",
        "I'm on a shared server and the coffee machine is broken. Can my program write in its "
        "current directory? Test with a file, print True/False.",
        "Does creating a file in the working directory work here? Try it and answer with True or "
        "False.",
        "check write permission of the cwd by writing a file, print True or False",
    ),
)
def cwd_writable(v: Values) -> Draft:
    name = f"probe_{v.int(100, 999, key=True)}.tmp"
    return Draft(
        slots={},
        reasoning="Create a small file in the current directory, check it exists, then delete it.",
        code=code(
            "import os",
            "",
            f'probe = "{name}"',
            'with open(probe, "w") as handle:',
            '    handle.write("ok")',
            "writable = os.path.exists(probe)",
            "os.remove(probe)",
            "print(writable)",
        ),
        requires=("os",),
        answer="Yes: the current working directory is writable.",
        expected="True",
        check="exact",
    )


@template(
    "python_version",
    FAMILY,
    (
        "Which version of Python is running this code?",
        "Print the Python interpreter's version as major.minor.micro.",
        "Tell me the exact Python version, major.minor.micro.",
        "what python version is this",
        "I need to know which interpreter release executes this code. What is its version?",
        "Report the running Python version (major.minor.micro).",
        "Python version?",
        "Find out which Python release is executing this program.",
        "which python am i running on? give the full version",
        "Could you print the exact version of the Python interpreter executing this script?",
        "Before I use a new syntax feature I need the interpreter version. Print it as "
        "major.minor.micro.",
        "Show the major.minor.micro version of the current Python.",
        "python version, full x.y.z please",
        "Tell me the release number of the interpreter running this code.",
        "Display the version number of the Python this code executes on.",
        "I'm debugging a compatibility issue - what's the exact version of the running Python "
        "interpreter?",
        "What Python version does the sandbox use?",
    ),
    train_phrasings=(
        "hey, which python version am I running? major.minor.micro please",
        "Output the first three numbers of sys.version_info as major.minor.micro.",
        "What's the full version number of the interpreter executing this script, like 3.11.4?",
        "Kindly print the three-part version (major.minor.micro) of the Python executing this.",
        "interpreter version?",
        "A bug report form asks for the exact Python version. What should I put, as "
        "major.minor.micro?",
        "Which Python release, down to the micro number, runs this program?",
        "Show me the version of Python in use, as x.y.z.",
        "Find the major, minor and micro version numbers of the current Python and print them "
        "joined by dots.",
        "My lab notebook needs the interpreter version recorded. Print the running Python's "
        "version.",
        "get the version of the running python, all three parts",
        "Could you check which Python version executes this code and print it?",
    ),
)
def python_version(v: Values) -> Draft:
    return Draft(
        slots={},
        reasoning="sys.version_info holds the running interpreter's version numbers.",
        code=code(
            "import sys",
            "",
            "major, minor, micro = sys.version_info[:3]",
            'print(f"{major}.{minor}.{micro}")',
        ),
        requires=("sys",),
        answer="The code runs on Python {output}.",
        expected="3.x.y",
        check="predicate:python_version",
        answer_from_output=True,
    )


@template(
    "platform_system",
    FAMILY,
    (
        "Which operating system is this code running on?",
        "Print the name of the operating system (as platform.system() reports it).",
        "Tell me which operating system this program runs on.",
        "what os is this code on",
        "I need to know the platform before building file paths. What operating system is the "
        "code executing on?",
        "Find the name of the operating system this code executes under.",
        "Operating system?",
        "Name the operating system that hosts this running program.",
        "which operating system am i on?",
        "Could you print the operating system name reported by platform.system()?",
        "My script has to pick path separators. What operating system is executing it?",
        "operating system name please",
        "Show me the name of the OS this program is running under.",
        "Print the operating system name so I know if this is Linux, Windows or something else.",
        "Detect the operating system underneath this process and print its name.",
        "What platform (operating system) is executing this script?",
        "What OS does the sandbox run?",
    ),
    train_phrasings=(
        "hey, what operating system is this running on?",
        "Print platform.system() so I can see the OS name.",
        "Which OS is underneath this program? Print its name.",
        "OS name, as the platform module reports it?",
        "A support ticket asks which operating system the code ran on. What should I write?",
        "Please report the operating system of the machine executing this script.",
        "what os am i on",
        "Is this Linux, Darwin or Windows? Print the operating system's name.",
        "Identify the operating system hosting this process.",
        "I'm writing a cross-platform installer and my cat is on the keyboard. What OS is this "
        "code executing on?",
        "Check which operating system this program runs under and print the name.",
        "Report the system name the platform module gives for this machine.",
    ),
)
def platform_system(v: Values) -> Draft:
    return Draft(
        slots={},
        reasoning="platform.system() names the operating system, e.g. Linux.",
        code=code("import platform", "", "system_name = platform.system()", "print(system_name)"),
        requires=("platform",),
        answer="The code is running on {output}.",
        expected="Linux|Darwin|Windows",
        check="predicate:os_name",
        answer_from_output=True,
    )


@template(
    "cpu_count",
    FAMILY,
    (
        "How many CPU cores can this program see?",
        "Print the number of CPUs reported by the operating system.",
        "Tell me how many CPUs this program can see.",
        "how many cpu cores are visible here",
        "I want to size a worker pool. How many CPU cores does the operating system report?",
        "Report the count of logical CPUs the operating system sees.",
        "CPU core count?",
        "Find out how many CPU cores are visible to this code.",
        "how many cpus do i have here?",
        "Could you print os.cpu_count() so I know how many logical CPUs are available?",
        "I'm picking the number of parallel jobs for a build. What CPU count does the OS report?",
        "Show the number of logical CPU cores visible to this process.",
        "cpu count please",
        "Tell me the logical core count that the operating system exposes to this program.",
        "What's the number of CPU cores available here, as the OS reports it?",
        "Print how many CPUs the system reports to this code.",
        "How many processors does the machine running this code have?",
    ),
    train_phrasings=(
        "hey, how many logical CPUs does the OS report here?",
        "Print os.cpu_count() for this machine.",
        "Number of logical CPUs visible to this code?",
        "A render job wants to know the core count. How many logical CPUs does the system report?",
        "Please tell me the count of CPU cores the operating system exposes.",
        "logical cpu count?",
        "How many CPUs does os.cpu_count() say this machine has?",
        "I'm choosing how many threads to start. What CPU count does the operating system give?",
        "Check and print how many logical cores are available to this program.",
        "Count the CPUs the OS makes visible and print the number.",
        "On this box, how many logical CPU cores can the code see?",
        "My laptop fan is loud; anyway, how many CPU cores does the OS report to this script?",
    ),
)
def cpu_count(v: Values) -> Draft:
    return Draft(
        slots={},
        reasoning="os.cpu_count() reports the number of logical CPUs.",
        code=code("import os", "", "cpu_count = os.cpu_count()", "print(cpu_count)"),
        requires=("os",),
        answer="The program sees {output} CPUs.",
        expected=">= 1",
        check="predicate:positive_int",
        answer_from_output=True,
    )


@template(
    "years_since",
    FAMILY,
    (
        "How many years have passed since {year}, counting by calendar year?",
        "Using today's date, how many calendar years ago was {year}?",
        "Counting calendar years, how many years is it from {year} to now?",
        "how many years since {year}, by calendar year",
        "Work out how many calendar years separate {year} from the present year.",
        "Tell me how many years have gone by since {year}, taking the difference of calendar "
        "years.",
        "I was born in {year}. Ignoring months and days, how many years is it since then?",
        "{year} was how many calendar years ago?",
        "how many calendar years between {year} and this year?",
        "Could you tell me how many years it has been since {year}, just comparing year numbers?",
        "Our company was founded in {year}. Comparing only the years, how old is it now?",
        "Taking just the year part of today's date, how many years since {year}?",
        "{year} to today: how many years, going by year numbers alone?",
        "Please work out the number of years elapsed since {year} (year numbers only, ignore "
        "the month).",
        "years since {year}? just compare the year numbers",
        "A building went up in {year}. By calendar year, how many years ago was that?",
        "What is the current year minus {year}?",
    ),
    train_phrasings=(
        "hey, how many years ago was {year}, just going by the year numbers?",
        "Going only by year numbers, how far back is {year} from today?",
        "The oak in our yard dates from {year}. How many years old is it, counting by calendar "
        "year only?",
        "Print the number of calendar years between {year} and today's year.",
        "years elapsed since {year} (calendar years)?",
        "Please find how many calendar years have gone by from {year} up to this year.",
        "{year}: how many years back from now, comparing year numbers only?",
        "With today's date from the system clock, how many calendar years is it since {year}?",
        "A coin is stamped {year}. How many years old is it by calendar year?",
        "how long ago in calendar years was {year}",
        "Counting from {year} to the year we're in now, how many years is that (year numbers "
        "only)?",
        "The museum label says {year} and the visitor wears a green scarf. In calendar years, how "
        "long ago was that?",
    ),
)
def years_since(v: Values) -> Draft:
    year = v.int(1900, 2020, key=True)
    return Draft(
        slots={"year": year},
        reasoning=f"Take the current year from date.today() and subtract {year}.",
        code=code(
            "from datetime import date",
            "",
            f"start_year = {year}",
            "print(date.today().year - start_year)",
        ),
        requires=("datetime",),
        answer=f"{{output}} calendar years have passed since {year}.",
        expected=str(year),
        check="predicate:years_since",
        answer_from_output=True,
    )
